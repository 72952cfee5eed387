"""ICP suggestions: which facts turn up more often in won deals than in lost ones.

Pure Python on LeadFacts (like icp/scoring.py): the selectors load the closed deals, this
module counts and ranks. For each fact a won or lost deal has (its industry, a company size
band, its country, region, seniority, source, each tag), it counts the wins and the losses
that have it and compares the two shares with an 80% interval on their difference (Newcombe's,
from Wilson intervals, leadhunter/stats.py): honest with a handful of deals, where "3 of 3
wins" is still far from proof.

Suggestions are ranked by the low end of that interval (the difference we can count on), then
by their label: each suggestion's place depends on its own counts only, so facts that have
nothing to do with it (another tag, open leads) never reorder the list.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from icp.models import Field, Operator, describe
from icp.scoring import LeadFacts
from leadhunter.stats import difference_interval
from leads.models import SOURCE_LABELS, Seniority

# Fewer closed deals than this and the page asks for more instead of guessing.
MIN_CLOSED_DEALS = 10
# A fact must be in at least this many wins to be suggested at all.
MIN_WINS_WITH_FACT = 2
MAX_SUGGESTIONS = 8
SENIORITY_LABELS = {code: str(label) for code, label in Seniority.choices}
# Company size bands (employees), as ICP ranges.
SIZE_BANDS: tuple[tuple[int, int | None], ...] = (
    (1, 10),
    (11, 50),
    (51, 200),
    (201, 1000),
    (1001, 5000),
    (5001, None),
)
# The low end of the difference's 80% interval → what we tell the salesperson, and the weight
# offered for the criterion.
CONFIDENCE_LEVELS: tuple[tuple[float, str, int], ...] = (
    (0.30, "Strong signal", 20),
    (0.10, "Likely", 15),
    (0.0, "Possible", 10),
)
WEAK_LABEL = "Could be chance"
WEAK_WEIGHT = 5


@dataclass(frozen=True)
class Candidate:
    """A fact as an ICP criterion: what it tests, as the criterion form takes it."""

    field: str
    operator: str
    value: object  # as Criterion.value stores it

    @property
    def label(self) -> str:
        return describe(self.field, self.operator, self.value)

    @property
    def short(self) -> str:
        """The fact in a few words, for "7 of 9 wins are …"."""
        value = self.value
        if self.field == Field.EMPLOYEE_COUNT and isinstance(value, dict):
            high = value.get("max")
            size = f"{value['min']:,}–{high:,}" if high else f"{value['min']:,}+"
            return f"at companies of {size} employees"
        if self.field == Field.SENIORITY:
            return f"{SENIORITY_LABELS.get(str(value), value)}"
        if self.field == Field.SOURCE:
            return f"from {SOURCE_LABELS.get(str(value), value)}"
        if self.field == Field.TAGS:
            return f"tagged “{value}”"
        if self.field == Field.COUNTRY:
            return f"in {value}"
        if self.field == Field.REGION:
            return f"in {value}"
        return str(value)

    def form_data(self) -> dict[str, str]:
        """The fields of icp.forms.CriterionForm that make this criterion."""
        data = {"field": self.field, "operator": self.operator, "value": ""}
        if isinstance(self.value, dict):
            data["minimum"] = str(self.value.get("min", ""))
            data["maximum"] = str(self.value.get("max") or "")
        else:
            data["value"] = str(self.value)
        return data


@dataclass(frozen=True)
class Suggestion:
    candidate: Candidate
    wins_with: int
    wins: int
    losses_with: int
    losses: int
    low: float  # 80% interval of (share of wins with it) - (share of losses with it)
    high: float

    @property
    def win_share(self) -> float:
        return self.wins_with / self.wins

    @property
    def loss_share(self) -> float:
        return self.losses_with / self.losses if self.losses else 0.0

    @property
    def confidence(self) -> str:
        for floor, label, _ in CONFIDENCE_LEVELS:
            if self.low > floor:
                return label
        return WEAK_LABEL

    @property
    def weight(self) -> int:
        for floor, _, weight in CONFIDENCE_LEVELS:
            if self.low > floor:
                return weight
        return WEAK_WEIGHT

    @property
    def sentence(self) -> str:
        """e.g. "7 of 9 wins vs 2 of 11 losses are Logistics"."""
        return (
            f"{self.wins_with} of {self.wins} wins vs {self.losses_with} of {self.losses} "
            f"losses are {self.candidate.short}"
        )

    @property
    def range_text(self) -> str:
        return (
            f"Wins have it {_points(self.low)} to {_points(self.high)} percentage points more "
            f"often than losses (80% range)."
        )


def _points(share: float) -> str:
    value = round(share * 100)
    return f"{value:+d}" if value else "0"


@dataclass(frozen=True)
class SuggestionResult:
    wins: int
    losses: int
    suggestions: list[Suggestion]

    @property
    def closed(self) -> int:
        return self.wins + self.losses

    @property
    def deals_missing(self) -> int:
        """How many more closed deals before suggestions show (0 when enough)."""
        return max(0, MIN_CLOSED_DEALS - self.closed)

    @property
    def enough(self) -> bool:
        return not self.deals_missing and self.wins > 0 and self.losses > 0


def size_band(employees: int | None) -> tuple[int, int | None] | None:
    if employees is None:
        return None
    for low, high in SIZE_BANDS:
        if employees >= low and (high is None or employees <= high):
            return low, high
    return None


def candidates_of(facts: LeadFacts) -> set[Candidate]:
    """The facts of one deal, each as the criterion that would test it."""
    return {_candidate(key) for key in _fact_keys(facts)}


def _fact_keys(facts: LeadFacts) -> list[tuple[str, object]]:
    """The facts of one deal as plain (field, value) pairs: counting these and making a
    Candidate once per distinct pair keeps thousands of deals quick."""
    keys: list[tuple[str, object]] = [
        (name, value)
        for name, value in (
            (Field.INDUSTRY, facts.industry),
            (Field.EMPLOYEE_COUNT, size_band(facts.employee_count)),
            (Field.COUNTRY, facts.country),
            (Field.REGION, facts.region),
            (Field.SENIORITY, facts.seniority),
            (Field.SOURCE, facts.source),
        )
        if value
    ]
    keys += [(Field.TAGS, tag) for tag in facts.tags]
    return keys


def _candidate(key: tuple[str, object]) -> Candidate:
    field, value = key
    if field == Field.EMPLOYEE_COUNT and isinstance(value, tuple):
        return Candidate(field, Operator.RANGE, _Range(*value))
    if field == Field.TAGS:
        return Candidate(field, Operator.CONTAINS, value)
    return Candidate(field, Operator.EQUALS, value)


class _Range(dict):
    """A range criterion's value that can sit in a set (a dict is not hashable)."""

    def __init__(self, low: int, high: int | None) -> None:
        super().__init__({"min": low} if high is None else {"min": low, "max": high})

    def __hash__(self) -> int:  # type: ignore[override]
        return hash((self.get("min"), self.get("max")))


def suggest(
    won: Iterable[LeadFacts],
    lost: Iterable[LeadFacts],
    *,
    exclude: Sequence[Candidate] = (),
    limit: int = MAX_SUGGESTIONS,
) -> SuggestionResult:
    """Facts more common in wins than in losses, best first (see the module docstring).

    `exclude`: criteria the salesperson already has. Below MIN_CLOSED_DEALS closed deals, or
    without both a win and a loss, the result has no suggestions (the page says why).
    """
    in_wins: Counter[tuple[str, object]] = Counter()
    in_losses: Counter[tuple[str, object]] = Counter()
    wins = losses = 0
    for facts in won:
        wins += 1
        in_wins.update(_fact_keys(facts))
    for facts in lost:
        losses += 1
        in_losses.update(_fact_keys(facts))
    result = SuggestionResult(wins, losses, [])
    if not result.enough:
        return result
    skip = {(c.field, c.operator, _key(c.value)) for c in exclude}
    found = []
    for key, wins_with in in_wins.items():
        if wins_with < MIN_WINS_WITH_FACT:
            continue
        candidate = _candidate(key)
        if (candidate.field, candidate.operator, _key(candidate.value)) in skip:
            continue
        losses_with = in_losses.get(key, 0)
        if wins_with / wins <= losses_with / losses:
            continue
        low, high = difference_interval(wins_with, wins, losses_with, losses)
        found.append(Suggestion(candidate, wins_with, wins, losses_with, losses, low, high))
    found.sort(key=lambda s: (-s.low, -s.wins_with, s.candidate.label))
    return SuggestionResult(wins, losses, found[:limit])


def _key(value: object) -> object:
    """A criterion value compared case-insensitively, as the scoring matches it."""
    if isinstance(value, dict):
        return (value.get("min"), value.get("max"))
    if isinstance(value, list):
        return tuple(sorted(str(v).strip().casefold() for v in value))
    return str(value).strip().casefold()
