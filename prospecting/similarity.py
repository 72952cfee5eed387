"""How much a contact looks like the salesperson's won customers, and why. Pure: no database.

Each won customer is a `Profile` (industry, size band, country, region, seniority, tags) with a
weight: its won value, so a €90k customer pulls harder than a €5k one (a customer won without a
value counts as the median of the known values, or 1 when none is known).

The similarity of a candidate to one customer is a weighted share of facts that match:

    sim(c, k) = Σ_f FACT_WEIGHTS[f] · match_f(c, k) / Σ_f FACT_WEIGHTS[f]

with match_f in [0, 1]: 1 for the same value, ½ for a neighbouring size band or seniority, the
share of the customer's tags the candidate has for tags, 0 when either side does not know. A
candidate's score is the value-weighted mean over customers, so it lies in [0, 1]. Because
every match_f only grows with what the candidate matches, a candidate that matches more never
scores less; because only the owner's own customers and the candidate enter it, nothing
unrelated (another owner's lead, a company nobody works at) moves it.

The mean is linear, so `Model` folds the customers into one weighted table per fact once and
scores each candidate with a handful of dictionary look-ups, whatever the number of customers.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from leads.models import Seniority

# Employee counts → bands, as a salesperson says them.
SIZE_BANDS: tuple[tuple[int, str], ...] = (
    (10, "1–10"),
    (50, "11–50"),
    (200, "51–200"),
    (1000, "201–1,000"),
    (5000, "1,001–5,000"),
)
LARGEST_BAND = "5,000+"
BAND_ORDER = [label for _, label in SIZE_BANDS] + [LARGEST_BAND]
SENIORITY_ORDER = [
    Seniority.INDIVIDUAL,
    Seniority.MANAGER,
    Seniority.DIRECTOR,
    Seniority.VP,
    Seniority.C_LEVEL,
    Seniority.OWNER,
]
SENIORITY_LABELS = {str(code): str(label) for code, label in Seniority.choices}

FACTS = ("industry", "size_band", "country", "region", "seniority", "tags")
FACT_WEIGHTS: Mapping[str, float] = {
    "industry": 3.0,
    "size_band": 2.0,
    "country": 1.5,
    "region": 0.5,
    "seniority": 1.5,
    "tags": 1.5,
}
TOTAL_WEIGHT = sum(FACT_WEIGHTS.values())
NEIGHBOUR = 0.5  # a size band or seniority one step away


def size_band(employee_count: int | None) -> str:
    if employee_count is None or employee_count <= 0:
        return ""
    for top, label in SIZE_BANDS:
        if employee_count <= top:
            return label
    return LARGEST_BAND


@dataclass(frozen=True)
class Profile:
    """The facts compared; "" (or no tags) means unknown. Values are normalised by `profile`."""

    industry: str = ""
    size_band: str = ""
    country: str = ""
    region: str = ""
    seniority: str = ""
    tags: frozenset[str] = frozenset()


def profile(
    *,
    industry: str | None = "",
    employee_count: int | None = None,
    country: str | None = "",
    region: str | None = "",
    seniority: str | None = "",
    tags: Iterable[object] = (),
) -> Profile:
    """A Profile from raw lead and company values (case and spaces folded)."""

    def fold(value: str | None) -> str:
        return " ".join((value or "").split()).casefold()

    return Profile(
        industry=fold(industry),
        size_band=size_band(employee_count),
        country=fold(country),
        region=fold(region),
        seniority=seniority or "",
        tags=frozenset(fold(str(tag)) for tag in tags if fold(str(tag))),
    )


def _neighbours(order: Sequence[str], value: str) -> list[str]:
    if value not in order:
        return []
    at = order.index(value)
    return [order[i] for i in (at - 1, at + 1) if 0 <= i < len(order)]


@dataclass(frozen=True)
class Customer:
    """A won customer as the model sees it: who, their facts, and their weight (won value)."""

    id: int
    name: str
    facts: Profile
    value: Decimal | None = None


def customer_weights(values: Sequence[Decimal | None]) -> list[float]:
    """Each customer's weight: their won value, or the median known value when they have none
    (1 when no customer has one). Never 0, so every customer counts a little."""
    known = [float(v) for v in values if v is not None and v > 0]
    fallback = statistics.median(known) if known else 1.0
    return [float(v) if v is not None and v > 0 else fallback for v in values]


@dataclass
class Model:
    """The won customers folded into per-fact tables of weighted shares (see the module doc)."""

    customers: Sequence[Customer]
    weights: list[float] = field(init=False)
    total: float = field(init=False)
    _exact: dict[str, dict[str, float]] = field(init=False)
    _near: dict[str, dict[str, float]] = field(init=False)
    _tags: dict[str, float] = field(init=False)
    _counts: dict[str, Counter[str]] = field(init=False)
    _regions: Counter[tuple[str, str]] = field(init=False)
    _tag_sets: Counter[frozenset[str]] = field(init=False)
    _groups: dict[tuple[str, ...], dict[tuple[str, ...], _Group]] = field(init=False)

    def __post_init__(self) -> None:
        self.weights = customer_weights([customer.value for customer in self.customers])
        self.total = sum(self.weights)
        self._exact = {fact: defaultdict(float) for fact in FACTS if fact != "tags"}
        self._near = {"size_band": defaultdict(float), "seniority": defaultdict(float)}
        self._tags = defaultdict(float)
        for customer, weight in zip(self.customers, self.weights, strict=True):
            share = weight / self.total
            facts = customer.facts
            for fact, table in self._exact.items():
                value = getattr(facts, fact)
                if value:
                    table[value] += share
            for value in _neighbours(BAND_ORDER, facts.size_band):
                self._near["size_band"][value] += share * NEIGHBOUR
            for value in _neighbours(SENIORITY_ORDER, facts.seniority):
                self._near["seniority"][value] += share * NEIGHBOUR
            for tag in facts.tags:
                self._tags[tag] += share / len(facts.tags)
        self._explanation_tables()

    def _explanation_tables(self) -> None:
        """Counts for `explain`: per fact value, per (country, region), per set of tags, and
        per combination of company facts (with that group's most valuable customers), so a
        row's explanation is a few look-ups, not a pass over every customer."""
        self._counts = {fact: Counter() for fact in EXPLAINED_FACTS}
        self._regions = Counter()
        self._tag_sets = Counter()
        self._groups = {group: {} for group in HEADLINE_GROUPS}
        for customer, weight in zip(self.customers, self.weights, strict=True):
            facts = customer.facts
            for fact in EXPLAINED_FACTS:
                if getattr(facts, fact):
                    self._counts[fact][getattr(facts, fact)] += 1
            if facts.country and facts.region:
                self._regions[(facts.country, facts.region)] += 1
            if facts.tags:
                self._tag_sets[facts.tags] += 1
            for group, table in self._groups.items():
                key = tuple(getattr(facts, fact) for fact in group)
                if all(key):
                    table.setdefault(key, _Group()).add(customer, weight)

    def __bool__(self) -> bool:
        return bool(self.customers)

    def score(self, candidate: Profile) -> float:
        """The candidate's similarity to the customers, in [0, 1]."""
        if not self.customers:
            return 0.0
        points = 0.0
        for fact, table in self._exact.items():
            value = getattr(candidate, fact)
            if not value:
                continue
            matched = table.get(value, 0.0)
            near = self._near.get(fact)
            if near is not None:
                matched += near.get(value, 0.0)
            points += FACT_WEIGHTS[fact] * matched
        points += FACT_WEIGHTS["tags"] * sum(self._tags.get(tag, 0.0) for tag in candidate.tags)
        # Sums of float shares can overshoot 1 by a rounding hair.
        return min(1.0, max(0.0, points / TOTAL_WEIGHT))

    def explain(self, candidate: Profile) -> Explanation:
        """Why the candidate scored as it did, in the salesperson's words."""
        return _explanation(candidate, self)


@dataclass
class _Group:
    """The customers who share one combination of company facts."""

    count: int = 0
    weight: float = 0.0
    top: list[tuple[float, int, str]] = field(default_factory=list)

    def add(self, customer: Customer, weight: float) -> None:
        self.count += 1
        self.weight += weight
        self.top = sorted([*self.top, (-weight, customer.id, customer.name)])[:CLOSEST]


@dataclass(frozen=True)
class Reason:
    fact: str
    text: str
    customers: int  # how many won customers share it


@dataclass(frozen=True)
class Explanation:
    headline: str
    reasons: tuple[Reason, ...]
    closest: tuple[str, ...]  # the names of the customers most alike, most valuable first


EXPLAINED_FACTS = ("industry", "size_band", "country", "seniority")
# Every combination of the company facts, largest first.
HEADLINE_GROUPS: tuple[tuple[str, ...], ...] = (
    ("industry", "size_band", "country"),
    ("industry", "size_band"),
    ("industry", "country"),
    ("size_band", "country"),
    ("industry",),
    ("size_band",),
    ("country",),
)
CLOSEST = 3

FACT_WORDS = {
    "industry": "industry",
    "size_band": "size band",
    "country": "country",
    "region": "region",
    "seniority": "title seniority",
    "tags": "tags",
}


NEIGHBOUR_ORDERS: Mapping[str, Sequence[str]] = {
    "size_band": BAND_ORDER,
    "seniority": SENIORITY_ORDER,
}


def _and(words: Sequence[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


def _explanation(candidate: Profile, model: Model) -> Explanation:
    count = len(model.customers)
    of = f"of your {count} won customer{'s' if count != 1 else ''}"
    # The headline names the combination of company facts (industry, size, country) that
    # weighs most: its facts' weights times the won value of the customers who share it all.
    best: tuple[float, int] = (0.0, 0)
    found: tuple[tuple[str, ...], _Group] | None = None
    for group, table in model._groups.items():
        key = tuple(getattr(candidate, fact) for fact in group)
        shared = table.get(key) if all(key) else None
        if shared is None:
            continue
        rank = (sum(FACT_WEIGHTS[fact] for fact in group) * shared.weight, len(group))
        if rank > best:
            best, found = rank, (group, shared)
    seniority = model._counts["seniority"][candidate.seniority] if candidate.seniority else 0
    parts = []
    if found is not None:
        group, shared = found
        words = [FACT_WORDS[fact] for fact in group]
        parts.append(f"same {_and(words)} as {shared.count} {of}")
    if seniority:
        parts.append(
            "title seniority matches" if parts else f"same title seniority as {seniority} {of}"
        )
    headline = "; ".join(parts) or f"little in common with {of.removeprefix('of ')}"
    headline = headline[0].upper() + headline[1:]

    reasons = []
    for fact in FACTS:
        sharing = _sharing(candidate, model, fact)
        value = _fact_value(candidate, fact)
        if sharing:
            label = FACT_WORDS[fact].capitalize()
            reasons.append(Reason(fact, f"{label} {value}: {sharing} {of}", sharing))
        elif value and fact in NEIGHBOUR_ORDERS:
            order = NEIGHBOUR_ORDERS[fact]
            near = sum(
                model._counts[fact][other] for other in _neighbours(order, getattr(candidate, fact))
            )
            if near:
                label = FACT_WORDS[fact].capitalize()
                reasons.append(Reason(fact, f"{label} {value}: one step from {near} {of}", 0))
    closest = tuple(name for _weight, _id, name in found[1].top) if found else ()
    return Explanation(headline=headline, reasons=tuple(reasons), closest=closest)


def _sharing(candidate: Profile, model: Model, fact: str) -> int:
    """How many customers have the candidate's value of `fact` (tags: at least one tag)."""
    if fact == "tags":
        return sum(n for tags, n in model._tag_sets.items() if tags & candidate.tags)
    if fact == "region":
        if not (candidate.country and candidate.region):
            return 0
        return model._regions[(candidate.country, candidate.region)]
    value = getattr(candidate, fact)
    return model._counts[fact][value] if value else 0


def _fact_value(candidate: Profile, fact: str) -> str:
    if fact == "tags":
        return ", ".join(sorted(candidate.tags))
    value = getattr(candidate, fact)
    if fact == "seniority":
        return SENIORITY_LABELS.get(value, value)
    if fact == "country":
        return value.upper()
    if fact in ("industry", "region"):
        return value.title()
    return value


def rank(scores: Mapping[int, float]) -> list[int]:
    """Ids best first; ties by id (the one added first), so the order is stable."""
    return sorted(scores, key=lambda key: (-scores[key], key))
