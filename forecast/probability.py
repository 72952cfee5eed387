"""The win probability engine: how likely an open lead is to be won, and how sure we are.

Pure Python on plain values (no ORM), like icp/scoring.py: the selectors load a salesperson's
closed deals, this module turns them into probabilities, and the backtest uses the very same
functions.

The model, per stage and source (a Beta-Binomial in two levels):

1. Stage level: a prior win rate per stage (PRIOR_WIN_RATE, worth PRIOR_DEALS pseudo-deals)
   updated by the owner's closed deals that reached the stage (any source):
   Beta(PRIOR_DEALS·p0 + won, PRIOR_DEALS·(1 - p0) + lost).
2. Stage × source: the stage level's mean, worth CELL_PRIOR_DEALS pseudo-deals, updated by the
   closed deals that reached the stage from that source. A thin cell (a few deals)
   therefore stays close to the stage's rate, a thick one speaks for itself: the "fall back to
   stage-only" is gradual, never a switch, so one more won deal never lowers a probability.

A deal "reached" a stage when its history (StageChange) went through it or past it: every
open stage from the first it was in to the furthest it got to. Won or lost is how it closed.
The range shown is the central 80% of a Beta with that mean, counting the cell's prior only as
far as the stage's own deals (plus its pseudo-deals) back it: no history, a wide range.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import cached_property

from leadhunter.stats import Z_80, beta_interval
from leads.models import OPEN_STAGES, SOURCE_LABELS, STAGE_LABELS, Stage

# Open stages in pipeline order, as numbers (a deal reached every stage between two of them).
STAGE_ORDER: Mapping[str, int] = {stage: index for index, stage in enumerate(OPEN_STAGES)}
# What a deal at each stage wins before any history: typical B2B rates, deliberately modest.
PRIOR_WIN_RATE: Mapping[str, float] = {
    Stage.NEW: 0.05,
    Stage.CONTACTED: 0.10,
    Stage.ENGAGED: 0.20,
    Stage.QUALIFIED: 0.35,
    Stage.PROPOSAL: 0.55,
}
# The prior counts as this many deals: four of the owner's own deals already move it.
PRIOR_DEALS = 4
# A stage × source cell's prior (the stage's rate) counts as this many deals: until a source
# has about twenty deals of its own, its rate leans on the stage's. Chosen by the backtest
# (docs/forecast.md): 5 and 10 overfitted the sources on the bench data's 15 salespeople.
CELL_PRIOR_DEALS = 20
CREDIBLE_MASS = 0.8
# Without an expected close date a deal is expected to close this many days after it entered
# its stage (never before today): rough sales-cycle remainders, shown as "estimated".
DAYS_TO_CLOSE: Mapping[str, int] = {
    Stage.NEW: 90,
    Stage.CONTACTED: 75,
    Stage.ENGAGED: 60,
    Stage.QUALIFIED: 45,
    Stage.PROPOSAL: 21,
}


@dataclass(frozen=True)
class ClosedDeals:
    """`count` closed deals from one source that went from `first_stage` to `furthest_stage`
    (open stages) and were then won or lost."""

    source: str
    first_stage: str
    furthest_stage: str
    won: bool
    count: int = 1

    def stages_reached(self) -> list[str]:
        first, furthest = STAGE_ORDER[self.first_stage], STAGE_ORDER[self.furthest_stage]
        return [stage for stage, order in STAGE_ORDER.items() if first <= order <= furthest]


@dataclass(frozen=True)
class Tally:
    won: int = 0
    lost: int = 0

    @property
    def deals(self) -> int:
        return self.won + self.lost

    def add(self, *, won: bool, count: int) -> Tally:
        if won:
            return Tally(self.won + count, self.lost)
        return Tally(self.won, self.lost + count)


@dataclass(frozen=True)
class History:
    """An owner's closed deals, counted per stage and per stage × source."""

    by_stage: Mapping[str, Tally] = field(default_factory=dict)
    by_cell: Mapping[tuple[str, str], Tally] = field(default_factory=dict)
    deals: int = 0  # closed deals counted (each once, however many stages it reached)


def history_from(closed: Iterable[ClosedDeals]) -> History:
    """Count closed deals per stage they reached, and per stage and source."""
    by_stage: dict[str, Tally] = defaultdict(Tally)
    by_cell: dict[tuple[str, str], Tally] = defaultdict(Tally)
    deals = 0
    for group in closed:
        if group.count <= 0:
            continue
        deals += group.count
        for stage in group.stages_reached():
            by_stage[stage] = by_stage[stage].add(won=group.won, count=group.count)
            cell = (stage, group.source)
            by_cell[cell] = by_cell[cell].add(won=group.won, count=group.count)
    return History(dict(by_stage), dict(by_cell), deals)


@dataclass(frozen=True)
class WinProbability:
    """A lead's chance of being won, its 80% credible range and what it rests on."""

    stage: str
    source: str
    probability: float
    weight: float  # the deals (and pseudo-deals) the range counts: Beta(p·weight, (1-p)·weight)
    stage_deals: Tally  # the owner's closed deals that reached the stage
    source_deals: Tally  # of those, the ones from the lead's source

    @cached_property
    def _range(self) -> tuple[float, float]:
        p, weight = self.probability, self.weight
        low, high = beta_interval(p * weight, (1 - p) * weight, CREDIBLE_MASS)
        # A very skewed Beta (many losses, no win) can have its mean above its 90th
        # percentile; the range shown always holds the number shown.
        return min(low, p), max(high, p)

    @property
    def low(self) -> float:
        return self._range[0]

    @property
    def high(self) -> float:
        return self._range[1]

    @property
    def spread(self) -> float:
        """The Beta's standard deviation: what the forecast's band adds up (quantiles for
        hundreds of groups would cost a pipeline page ~0.1 s)."""
        p = self.probability
        return math.sqrt(p * (1 - p) / (self.weight + 1))

    @property
    def deals(self) -> int:
        return self.stage_deals.deals

    @property
    def percent(self) -> int:
        return _percent(self.probability)

    @property
    def low_percent(self) -> int:
        return _percent(self.low)

    @property
    def high_percent(self) -> int:
        return _percent(self.high)

    @property
    def basis(self) -> str:
        """What the number rests on, in words, to the deals' owner."""
        return self.basis_for(None)

    def basis_for(self, owner_name: str | None) -> str:
        """What the number rests on, in words: "your deals", or `owner_name`'s (a manager
        looking at a rep's lead)."""
        stage = STAGE_LABELS.get(self.stage, self.stage)
        source = SOURCE_LABELS.get(self.source, self.source)
        whose = f"{owner_name}'s" if owner_name else "your"
        if not self.deals:
            nobody = (
                f"No closed deal of {owner_name}'s" if owner_name else "No closed deal of yours"
            )
            return (
                f"{nobody} reached {stage} yet: this is the usual rate for the stage, and the "
                f"range is wide."
            )
        won = self.stage_deals.won
        text = (
            f"Based on {self.deals} of {whose} deals that reached {stage} ({won} won, "
            f"{self.stage_deals.lost} lost)"
        )
        if self.source_deals.deals:
            text += (
                f"; {self.source_deals.deals} of them from {source} ({self.source_deals.won} won)."
            )
        else:
            text += f"; none from {source} yet, so the stage's rate stands for it."
        return text


def _percent(value: float) -> int:
    return math.floor(value * 100 + 0.5)


def win_probability(history: History, *, stage: str, source: str) -> WinProbability:
    """The Beta-Binomial estimate for an open lead at `stage` from `source` (see the module)."""
    if stage not in STAGE_ORDER:
        raise ValueError(f"{stage!r} is not an open stage")
    prior = PRIOR_WIN_RATE[stage]
    stage_deals = history.by_stage.get(stage, Tally())
    stage_rate = (PRIOR_DEALS * prior + stage_deals.won) / (PRIOR_DEALS + stage_deals.deals)
    source_deals = history.by_cell.get((stage, source), Tally())
    alpha = CELL_PRIOR_DEALS * stage_rate + source_deals.won
    beta = CELL_PRIOR_DEALS * (1 - stage_rate) + source_deals.lost
    # The range: the stage's rate is only as sure as the deals behind it, so the cell's prior
    # counts for at most those (with no history, the 4 pseudo-deals of the prior: wide).
    weight = source_deals.deals + min(CELL_PRIOR_DEALS, PRIOR_DEALS + stage_deals.deals)
    return WinProbability(
        stage=stage,
        source=source,
        probability=alpha / (alpha + beta),
        weight=weight,
        stage_deals=stage_deals,
        source_deals=source_deals,
    )


def estimated_close_date(stage: str, stage_entered: date, *, today: date) -> date:
    """When a deal without an expected close date is expected to close (never in the past)."""
    return max(today, stage_entered + timedelta(days=DAYS_TO_CLOSE[stage]))


@dataclass(frozen=True)
class PipelineGroup:
    """Open leads alike for the forecast: one owner, stage, source and month of expected close.

    `value` is the sum of their expected values and `value_squared` of the squares (for the
    spread); leads without a value count in `leads` but add nothing.
    """

    owner_id: int
    stage: str
    source: str
    month: date  # the first of the month
    leads: int
    value: Decimal
    value_squared: float
    estimated: int  # leads whose close date is estimated from the stage


@dataclass(frozen=True)
class MonthForecast:
    month: date
    leads: int
    pipeline_value: Decimal
    weighted_value: Decimal  # the expected won value: the sum of probability × value
    low: Decimal  # an 80% range of the won value
    high: Decimal
    estimated: int


def forecast_by_month(
    groups: Iterable[PipelineGroup],
    probability_of: Callable[[int, str, str], WinProbability],
    *,
    this_month: date,
) -> list[MonthForecast]:
    """The weighted pipeline per month of expected close, with an 80% range.

    A month's expected won value is the sum of probability × value. Its range combines two
    uncertainties, as a normal approximation: the win rates themselves (each group's standard
    deviation, taken as moving together, since a salesperson's rates do) and each deal's
    own luck (won or not: variance p(1 - p) × value²). Months before `this_month` (close dates
    that passed with the deal still open) count in `this_month`.
    """
    months: dict[date, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for group in groups:
        month = max(group.month, this_month)
        chance = probability_of(group.owner_id, group.stage, group.source)
        value = float(group.value)
        row = months[month]
        row["leads"] += group.leads
        row["estimated"] += group.estimated
        row["value"] += value
        row["weighted"] += chance.probability * value
        row["rate_spread"] += chance.spread * value
        row["luck"] += chance.probability * (1 - chance.probability) * group.value_squared
    result = []
    for month in sorted(months):
        row = months[month]
        spread = Z_80 * math.sqrt(row["rate_spread"] ** 2 + row["luck"])
        result.append(
            MonthForecast(
                month=month,
                leads=int(row["leads"]),
                pipeline_value=_money(row["value"]),
                weighted_value=_money(row["weighted"]),
                low=_money(max(0.0, row["weighted"] - spread)),
                high=_money(min(row["value"], row["weighted"] + spread)),
                estimated=int(row["estimated"]),
            )
        )
    return result


def _money(value: float) -> Decimal:
    return Decimal(round(value))


# --- Calibration (the backtest) --------------------------------------------------------------


@dataclass(frozen=True)
class CalibrationBin:
    low: float
    high: float
    predictions: int
    mean_predicted: float | None
    observed: float | None


@dataclass(frozen=True)
class Calibration:
    predictions: int
    brier: float | None
    bins: list[CalibrationBin]


def calibration(pairs: Iterable[tuple[float, bool]], *, bins: int = 10) -> Calibration:
    """Predicted probability against what happened: equal-width bins and the Brier score
    (mean squared error of the probability; 0 is perfect, 0.25 is a coin toss at 50%)."""
    pairs = list(pairs)
    grouped: list[list[tuple[float, bool]]] = [[] for _ in range(bins)]
    for probability, won in pairs:
        grouped[min(bins - 1, int(probability * bins))].append((probability, won))
    result = []
    for index, members in enumerate(grouped):
        result.append(
            CalibrationBin(
                low=index / bins,
                high=(index + 1) / bins,
                predictions=len(members),
                mean_predicted=sum(p for p, _ in members) / len(members) if members else None,
                observed=sum(1 for _, won in members if won) / len(members) if members else None,
            )
        )
    brier = sum((p - won) ** 2 for p, won in pairs) / len(pairs) if pairs else None
    return Calibration(len(pairs), brier, result)
