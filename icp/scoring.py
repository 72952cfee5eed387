"""The scoring engine: how well a lead fits an ICP, how warm it is, and why.

Pure Python on plain values (no ORM, no I/O), so the single-lead path, the bulk rescoring path
and the live ICP preview all score with exactly the same code and get exactly the same numbers.
Rounding is half-up on integers or `Decimal`s, never Python's banker's `round()`, so 12.5
is always 13.

Speed matters (the nightly run scores every lead): each criterion remembers its outcome per
distinct raw value it has seen, and each ICP its result per combination of outcomes, so a bulk
run mostly does dictionary look-ups. Specs are built per run, so the memo never outlives it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property, lru_cache
from operator import attrgetter
from typing import Literal

from icp.models import NUMERIC_FIELDS, Field, Operator
from leads.models import ActivityKind, Grade, Seniority, Source

DEFAULT_HALF_LIFE_DAYS = 14

# Points a fresh hand-raise signal is worth before decay; booking a meeting is the warmest.
SIGNAL_POINTS: Mapping[str, int] = {
    ActivityKind.REPLIED: 20,
    ActivityKind.ASKED_FOR_INFO: 30,
    ActivityKind.ASKED_FOR_DEMO: 40,
    ActivityKind.ATTENDED_EVENT: 15,
    ActivityKind.WAS_INTRODUCED: 25,
    ActivityKind.BOOKED_MEETING: 45,
}

MAX_SCORE = 100
REFERRAL_BONUS = 10
FIT_SHARE, INTENT_SHARE = 6, 4  # total = 0.6 * fit + 0.4 * intent, kept as integers
GRADE_FLOORS: tuple[tuple[int, str], ...] = ((75, Grade.A), (50, Grade.B), (25, Grade.C))

# Choice fields are matched on their stored code or their label, so "VP" and "vp" both work.
_SENIORITY_LABELS = {code: str(label) for code, label in Seniority.choices}
_SOURCE_LABELS = {code: str(label) for code, label in Source.choices}

Outcome = Literal["matched", "unmatched", "unknown"]


@dataclass(frozen=True)
class LeadFacts:
    """What the engine knows about a lead and its company; None (or no tags) means unknown."""

    industry: str | None = None
    employee_count: int | None = None
    annual_revenue: int | None = None
    country: str | None = None
    region: str | None = None
    city: str | None = None
    title: str | None = None
    seniority: str | None = None
    tags: frozenset[str] = frozenset()
    source: str | None = None
    is_referred: bool = False
    signals: tuple[tuple[str, datetime], ...] = ()


@dataclass(frozen=True)
class CriterionSpec:
    """One criterion as plain values; `id` is None for an unsaved criterion in a preview."""

    id: int | None
    field: str
    operator: str
    value: object
    weight: int
    required: bool
    label: str

    @cached_property
    def options(self) -> frozenset[str]:
        """The normalised text value(s) a text or tag criterion looks for, computed once."""
        values = self.value if isinstance(self.value, list | tuple) else [self.value]
        return _texts(*(str(value) for value in values if value is not None))

    @cached_property
    def lead_value(self) -> Callable[[LeadFacts], Hashable]:
        """Reads the lead's raw value for this criterion's field."""
        return _FIELD_VALUE[self.field]

    @cached_property
    def outcomes(self) -> dict[Hashable, Outcome]:
        """Outcome by the lead's raw value for this field, filled as leads are scored.

        Leads share few distinct values per field (industries, countries, titles), so a bulk
        run matches each distinct value once per criterion instead of once per lead.
        """
        return {}


@dataclass(frozen=True)
class IcpSpec:
    """An active ICP and its criteria; `id` is None for an unsaved ICP in a preview."""

    id: int | None
    name: str
    criteria: tuple[CriterionSpec, ...] = ()

    @cached_property
    def fits(self) -> dict[tuple[Outcome, ...], FitResult]:
        """FitResult by the outcomes of the criteria, in order: a handful per ICP in a run."""
        return {}


@dataclass(frozen=True)
class FitResult:
    """How one lead fits one ICP."""

    icp: IcpSpec
    fit: int
    matched: tuple[str, ...]
    unmatched: tuple[str, ...]
    unknown: tuple[str, ...]
    knocked_out_by: tuple[str, ...]

    @cached_property
    def explanation_json(self) -> dict[str, str]:
        """This fit's entries of a lead's explanation as JSON texts, by key: computed once
        per FitResult, i.e. a handful of times in a bulk run (see LeadScore.explanation_json)."""
        return {key: _json_text(value) for key, value in _fit_explanation(self).items()}


@dataclass(frozen=True)
class LeadScore:
    """A lead's scores and their explanation, ready to be stored."""

    fit: int
    intent: int
    total: int
    grade: str
    best_icp_id: int | None
    explanation: dict
    # The ICP fit the score came from (set by score_lead), for `explanation_json`; not part of
    # the score's value.
    best_fit: FitResult | None = field(default=None, compare=False, repr=False)

    @cached_property
    def explanation_json(self) -> str:
        """The explanation as JSON text, i.e. `json.dumps(explanation, ensure_ascii=False,
        separators=(", ", ": "))` with the keys in the order score_lead builds them.

        Built from the best fit's memoised parts and the lead's own values: the bulk
        rescoring stores its digest (`icp.rescoring.explanation_digest`) and sends it as the
        new value, and json.dumps of 100k whole explanations took ~1 s of a run.
        """
        lead = self.explanation
        if self.best_fit is not None:
            why = self.best_fit.explanation_json
        elif lead["icp_id"] is None:
            why = _NO_ICP_EXPLANATION_JSON
        else:  # a LeadScore made without score_lead: no parts to reuse
            return _json_text(lead)
        signals = lead["signals"]
        # The scores are ints (printed as json prints them); one encoder call a lead at most.
        return (
            f'{{"total": {lead["total"]:d}, "grade": {_json_scalar(lead["grade"])}, '
            f'"fit": {why["fit"]}, "intent": {lead["intent"]:d}, '
            f'"referral_bonus": {lead["referral_bonus"]:d}, '
            f'"icp": {why["icp"]}, "icp_id": {why["icp_id"]}, '
            f'"matched": {why["matched"]}, "unmatched": {why["unmatched"]}, '
            f'"unknown": {why["unknown"]}, "knocked_out_by": {why["knocked_out_by"]}, '
            f'"note": {why["note"]}, '
            f'"signals": {_signals_json(signals)}, '
            f'"half_life_days": {_json_scalar(lead["half_life_days"])}}}'
        )


def score_lead(
    facts: LeadFacts,
    icps: Iterable[IcpSpec],
    *,
    now: datetime,
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
) -> LeadScore:
    """Score a lead against the owner's active ICPs and its hand-raise signals at `now`.

    The fit is the best ICP's (ties go to the lowest id); intent decays with the half-life;
    a referred lead gets a bonus on the total. The explanation is JSON-serialisable and
    lists every criterion and signal that counted.
    """
    best = best_fit(facts, icps)
    intent, signals = intent_score(facts.signals, now=now, half_life_days=half_life_days)
    fit = best.fit if best else 0
    bonus = REFERRAL_BONUS if facts.is_referred else 0
    total = total_score(fit, intent, referred=facts.is_referred)
    grade = grade_for(total)
    why = _fit_explanation(best)
    # LeadScore.explanation_json writes the same keys in the same order, by hand.
    explanation = {
        "total": total,
        "grade": grade,
        "fit": why["fit"],
        "intent": intent,
        "referral_bonus": bonus,
        "icp": why["icp"],
        "icp_id": why["icp_id"],
        "matched": why["matched"],
        "unmatched": why["unmatched"],
        "unknown": why["unknown"],
        "knocked_out_by": why["knocked_out_by"],
        "note": why["note"],
        "signals": signals,
        "half_life_days": half_life_days,
    }
    best_icp_id = best.icp.id if best else None
    return LeadScore(fit, intent, total, grade, best_icp_id, explanation, best)


def total_score(fit: int, intent: int, *, referred: bool) -> int:
    """0.6 × fit + 0.4 × intent, rounded half-up, plus the referral bonus, at most 100."""
    bonus = REFERRAL_BONUS if referred else 0
    return min(MAX_SCORE, _div_half_up(FIT_SHARE * fit + INTENT_SHARE * intent, 10) + bonus)


def best_fit(facts: LeadFacts, icps: Iterable[IcpSpec]) -> FitResult | None:
    """The ICP the lead fits best (highest fit, then lowest id); None without any ICP."""
    best = None
    for icp in icps:
        result = icp_fit(facts, icp)
        if best is None or _ranks_before(result, best):
            best = result
    return best


def _ranks_before(result: FitResult, other: FitResult) -> bool:
    if result.fit != other.fit:
        return result.fit > other.fit
    # An unsaved ICP (preview) has no id yet; it ranks after the saved ones on a tie.
    return (result.icp.id is None, result.icp.id or 0) < (other.icp.id is None, other.icp.id or 0)


def icp_fit(facts: LeadFacts, icp: IcpSpec) -> FitResult:
    """Matched weight over total weight, rounded half-up; an unmet required criterion gives 0."""
    outcomes = tuple([criterion_outcome(facts, criterion) for criterion in icp.criteria])
    result = icp.fits.get(outcomes)
    if result is None:
        result = icp.fits[outcomes] = _fit_result(icp, outcomes)
    return result


def criterion_outcome(facts: LeadFacts, criterion: CriterionSpec) -> Outcome:
    """Whether the lead meets one criterion; "unknown" when the data to tell is missing."""
    value = criterion.lead_value(facts)
    outcome = criterion.outcomes.get(value)
    if outcome is None:
        outcome = criterion.outcomes[value] = _outcome_for(criterion, value)
    return outcome


def _fit_result(icp: IcpSpec, outcomes: tuple[Outcome, ...]) -> FitResult:
    matched: list[str] = []
    unmatched: list[str] = []
    unknown: list[str] = []
    knocked_out_by: list[str] = []
    matched_weight = total_weight = 0
    for criterion, outcome in zip(icp.criteria, outcomes, strict=True):
        total_weight += criterion.weight
        if outcome == "matched":
            matched.append(criterion.label)
            matched_weight += criterion.weight
            continue
        # Missing data weighs as not matched, but is listed apart, as worth researching: one
        # list per criterion, so the score card never shows it twice.
        (unknown if outcome == "unknown" else unmatched).append(criterion.label)
        if criterion.required:
            knocked_out_by.append(criterion.label)
    if knocked_out_by or total_weight <= 0:
        fit = 0
    else:
        fit = _div_half_up(MAX_SCORE * matched_weight, total_weight)
    return FitResult(
        icp, fit, tuple(matched), tuple(unmatched), tuple(unknown), tuple(knocked_out_by)
    )


def _outcome_for(criterion: CriterionSpec, value: Hashable) -> Outcome:
    if criterion.field in NUMERIC_FIELDS:
        if value is None:
            return "unknown"
        return _verdict(_number_matches(value, criterion.operator, criterion.value))
    texts = _comparable_texts(criterion.field, value)
    if not texts:
        return "unknown"
    return _verdict(_text_matches(texts, criterion))


# The lead's raw value for each field, hashable so outcomes can be remembered by it.
_FIELD_VALUE: Mapping[str, Callable[[LeadFacts], Hashable]] = {
    Field.INDUSTRY: attrgetter("industry"),
    Field.EMPLOYEE_COUNT: attrgetter("employee_count"),
    Field.ANNUAL_REVENUE: attrgetter("annual_revenue"),
    Field.COUNTRY: attrgetter("country"),
    Field.REGION: attrgetter("region", "city"),
    Field.TITLE: attrgetter("title"),
    Field.SENIORITY: attrgetter("seniority"),
    Field.TAGS: attrgetter("tags"),
    Field.SOURCE: attrgetter("source"),
}


def _comparable_texts(field: str, value: Hashable) -> frozenset[str]:
    """The lead's texts for a field as compared. A region criterion also looks at the city;
    seniority and source match their code or their label."""
    if field in (Field.REGION, Field.TAGS):
        return _texts(*value)
    if field == Field.SENIORITY:
        return _texts(value, _SENIORITY_LABELS.get(value))
    if field == Field.SOURCE:
        return _texts(value, _SOURCE_LABELS.get(value))
    return _texts(value)


def intent_score(
    signals: Iterable[tuple[str, datetime]], *, now: datetime, half_life_days: float
) -> tuple[int, list[dict]]:
    """Decayed hand-raise points, capped at 100, and the signals that made them (newest first).

    A signal dated in the future counts as fresh (age 0) rather than more than fresh.
    """
    if half_life_days <= 0:
        raise ValueError("half_life_days must be greater than 0")
    if not signals:
        return 0, []
    counted = sorted(
        ((kind, at) for kind, at in signals if kind in SIGNAL_POINTS),
        key=lambda signal: (signal[1], signal[0]),
        reverse=True,
    )
    contributions = [
        SIGNAL_POINTS[kind] * 0.5 ** (_age_days(at, now) / half_life_days) for kind, at in counted
    ]
    # fsum is exactly rounded, so the sum does not depend on the order the signals came in.
    intent = _round_half_up(min(float(MAX_SCORE), math.fsum(contributions)))
    explained = [
        {
            "kind": kind,
            "label": _SIGNAL_LABELS[kind],
            "at": at.isoformat(),
            "points": _tenths_half_up(points),
        }
        for (kind, at), points in zip(counted, contributions, strict=True)
    ]
    return intent, explained


_SIGNAL_LABELS = {kind: str(ActivityKind(kind).label) for kind in SIGNAL_POINTS}
_TENTH = Decimal("0.1")


def _tenths_half_up(points: float) -> float:
    """`points` rounded half-up to one decimal, exactly as Decimal(points).quantize(0.1) would.

    Decimal is exact but slow (a bulk run rounds ~150,000 signals); float arithmetic gives the
    same answer except within a hair of a tie (x.x5), where it defers to Decimal.
    """
    scaled = points * 10
    floor = math.floor(scaled)
    fraction = scaled - floor
    if abs(fraction - 0.5) < 1e-6:
        return float(Decimal(points).quantize(_TENTH, ROUND_HALF_UP))
    return (floor + (fraction > 0.5)) / 10


def _age_days(at: datetime, now: datetime) -> float:
    return max(_NO_TIME, now - at) / _ONE_DAY


_NO_TIME, _ONE_DAY = timedelta(0), timedelta(days=1)


def grade_for(total: int) -> str:
    """A ≥ 75, B ≥ 50, C ≥ 25, else D."""
    for floor, grade in GRADE_FLOORS:
        if total >= floor:
            return grade
    return Grade.D


def _fit_explanation(best: FitResult | None) -> dict:
    if best is None:
        return {
            "icp": None,
            "icp_id": None,
            "fit": 0,
            "matched": [],
            "unmatched": [],
            "unknown": [],
            "knocked_out_by": [],
            "note": "No active ICP: fit is 0. Create or activate an ICP to score fit.",
        }
    note = None if best.icp.criteria else f"ICP “{best.icp.name}” has no criteria yet."
    return {
        "icp": best.icp.name,
        "icp_id": best.icp.id,
        "fit": best.fit,
        "matched": list(best.matched),
        "unmatched": list(best.unmatched),
        "unknown": list(best.unknown),
        "knocked_out_by": list(best.knocked_out_by),
        "note": note,
    }


# JSON for explanations: ", " and ": " between items, non-ASCII as is. One encoder for all
# (json.dumps with options builds a new one per call).
_json_text = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode
# A grade letter or a half-life: a handful of values a run, printed once each (typed: 14 and
# 14.0 print differently).
_json_scalar = lru_cache(maxsize=256, typed=True)(_json_text)
_NO_ICP_EXPLANATION_JSON = {key: _json_text(value) for key, value in _fit_explanation(None).items()}
# Each signal kind's entry up to its time, as _json_text prints it: a lead's signals are
# written by hand around these (json's encoder on ~150,000 signal dicts was ~10% of a run's
# scoring; tests/trust/test_properties.py compares the text with json.dumps).
_SIGNAL_JSON_HEAD = {
    kind: f'{{"kind": {_json_text(kind)}, "label": {_json_text(label)}, "at": '
    for kind, label in _SIGNAL_LABELS.items()
}


def _signals_json(signals: list[dict]) -> str:
    """`_json_text(signals)` for the signals intent_score explains: the time is isoformat()
    text (nothing to escape), the points a float (json prints its repr)."""
    if not signals:
        return "[]"
    return (
        "["
        + ", ".join(
            f'{_SIGNAL_JSON_HEAD[signal["kind"]]}"{signal["at"]}", "points": {signal["points"]!r}}}'
            for signal in signals
        )
        + "]"
    )


def _text_matches(texts: frozenset[str], criterion: CriterionSpec) -> bool:
    """equals / one of: any value is one of the options; contains: a substring of a text,
    except for tags, where it is membership ("b2" does not match the tag "b2b")."""
    if criterion.operator in (Operator.EQUALS, Operator.ONE_OF) or (
        criterion.operator == Operator.CONTAINS and criterion.field == Field.TAGS
    ):
        return not texts.isdisjoint(criterion.options)
    if criterion.operator == Operator.CONTAINS:
        return any(needle in text for needle in criterion.options for text in texts)
    return False


def _number_matches(number: int, operator: str, value: object) -> bool:
    if operator == Operator.RANGE and isinstance(value, Mapping):
        low, high = value.get("min"), value.get("max")
        return (low is None or number >= low) and (high is None or number <= high)
    if operator == Operator.EQUALS and isinstance(value, int | float):
        return number == value
    return False


def _verdict(matched: bool) -> Outcome:
    return "matched" if matched else "unmatched"


def _texts(*values: str | None) -> frozenset[str]:
    """Values as compared: stripped and case-folded, blanks dropped."""
    return frozenset([text for value in values if value and (text := value.strip().casefold())])


def _div_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half-up, in integers (both non-negative)."""
    return (2 * numerator + denominator) // (2 * denominator)


def _round_half_up(value: float) -> int:
    return int(Decimal(value).quantize(Decimal(1), ROUND_HALF_UP))
