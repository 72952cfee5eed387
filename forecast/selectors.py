"""Reads for the win probability and the forecast: closed deals per owner, open leads grouped
for the monthly forecast. Visibility comes from leads.selectors.leads_visible_to; the maths is
forecast.probability's.

Query counts do not grow with the leads: a lead's probability is one query (its owner's
closed deals, grouped in SQL), a pipeline forecast three (open leads grouped by owner, stage,
source and month; the closed deals' count and latest close, the key of the cached histories;
the closed deals grouped, when the cache has not got them).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.core.cache import cache
from django.db.models import (
    Case,
    Count,
    DateField,
    DateTimeField,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Greatest, TruncDate, TruncMonth
from django.utils import timezone

from accounts.models import User
from forecast.probability import (
    DAYS_TO_CLOSE,
    STAGE_ORDER,
    ClosedDeals,
    History,
    MonthForecast,
    PipelineGroup,
    WinProbability,
    estimated_close_date,
    forecast_by_month,
    history_from,
    win_probability,
)
from leads.models import CLOSED_STAGES, OPEN_STAGES, Lead, Stage, StageChange
from leads.selectors import leads_visible_to

_ORDER_BY_STAGE = {order: stage for stage, order in STAGE_ORDER.items()}


def _stage_ordinal() -> Case:
    return Case(
        *[When(to_stage=stage, then=Value(order)) for stage, order in STAGE_ORDER.items()],
        output_field=IntegerField(),
    )


def closed_deal_groups(leads: QuerySet[Lead]) -> list[tuple[int, ClosedDeals]]:
    """The closed (won or lost) deals among `leads`, grouped by owner, source, the first and
    furthest open stage their history went through, and the outcome: one query.

    A deal that never was in an open stage (created as Won, say an imported customer) tells
    nothing about converting from a stage and is left out.
    """
    open_changes = (
        StageChange.objects.filter(lead=OuterRef("pk"), to_stage__in=OPEN_STAGES)
        .annotate(order=_stage_ordinal())
        .order_by()
    )
    rows = (
        leads.filter(stage__in=CLOSED_STAGES)
        .annotate(
            first_order=Subquery(open_changes.order_by("order").values("order")[:1]),
            furthest_order=Subquery(open_changes.order_by("-order").values("order")[:1]),
        )
        .order_by()
        .values("owner_id", "source", "stage", "first_order", "furthest_order")
        .annotate(deals=Count("id"))
    )
    # Rows without an open stage (never in one) are skipped here rather than filtered in SQL,
    # where PostgreSQL would run the subquery once more per closed deal.
    return [
        (
            row["owner_id"],
            ClosedDeals(
                source=row["source"],
                first_stage=_ORDER_BY_STAGE[row["first_order"]],
                furthest_stage=_ORDER_BY_STAGE[row["furthest_order"]],
                won=row["stage"] == Stage.WON,
                count=row["deals"],
            ),
        )
        for row in rows
        if row["first_order"] is not None
    ]


def histories_by_owner(leads: QuerySet[Lead]) -> dict[int, History]:
    """Each owner's History from their closed deals among `leads` (one query)."""
    grouped: dict[int, list[ClosedDeals]] = defaultdict(list)
    for owner_id, deals in closed_deal_groups(leads):
        grouped[owner_id].append(deals)
    return {owner_id: history_from(deals) for owner_id, deals in grouped.items()}


# A team's closed deals take ~0.15 s to group at 100k leads; they change when a deal closes or
# reopens, which changes the count or the latest stage change of the closed deals, the cache
# key. A source edited on a closed deal shows within this many seconds.
HISTORY_CACHE_SECONDS = 600


def histories_cached(leads: QuerySet[Lead], *, scope: str) -> dict[int, History]:
    """histories_by_owner(leads), from the cache while the closed deals are unchanged: one
    small query (their count and latest close, from an index) when cached, two when not.
    `scope` names the set of leads (e.g. "team", "owner-7") in the cache key."""
    closed = leads.filter(stage__in=CLOSED_STAGES).order_by()
    # COUNT(*), not COUNT(id): for the team, both read from `lead_stage_changed` alone (an
    # index-only scan, ~1.5 ms at 100k leads, against ~7 ms reading each closed lead's row).
    version = closed.aggregate(deals=Count("*"), latest=Max("stage_changed_at"))
    latest = version["latest"].isoformat() if version["latest"] else "-"
    key = f"forecast:histories:{scope}:{version['deals']}:{latest}"
    histories = cache.get(key)
    if histories is None:
        histories = histories_by_owner(leads)
        cache.set(key, histories, HISTORY_CACHE_SECONDS)
    return histories


def owner_history(owner_id: int) -> History:
    """One salesperson's closed deals as the model sees them (one query)."""
    return histories_by_owner(Lead.objects.filter(owner_id=owner_id)).get(owner_id, History())


@dataclass(frozen=True)
class LeadForecast:
    """What the lead page shows: the chance, its range and basis, and the expected close."""

    chance: WinProbability
    close_date: date
    close_date_estimated: bool
    weighted_value: Decimal | None
    basis: str  # what the probability rests on, in words, to whoever looks


def lead_forecast(
    lead: Lead, *, viewer: User | None = None, today: date | None = None
) -> LeadForecast | None:
    """The open lead's win probability from its owner's own history; None for a closed or
    parked lead. One query. `viewer`: who reads it (a manager reads "Sam's deals")."""
    if lead.stage not in OPEN_STAGES:
        return None
    today = today or timezone.localdate(timezone=lead.owner.zone)
    chance = win_probability(owner_history(lead.owner_id), stage=lead.stage, source=lead.source)
    estimated = lead.expected_close_date is None
    close = lead.expected_close_date or estimated_close_date(
        lead.stage, timezone.localdate(lead.stage_changed_at, lead.owner.zone), today=today
    )
    weighted = None
    if lead.expected_value is not None:
        weighted = Decimal(round(float(lead.expected_value) * chance.probability))
    owner_name = None if viewer is None or viewer.pk == lead.owner_id else str(lead.owner)
    return LeadForecast(chance, close, estimated, weighted, chance.basis_for(owner_name))


@dataclass(frozen=True)
class PipelineForecast:
    months: list[MonthForecast]
    open_leads: int
    closed_deals: int  # the closed deals the probabilities rest on
    estimated: int  # open leads whose close date is estimated from the stage
    weighted_value: Decimal

    @property
    def is_empty(self) -> bool:
        return not self.open_leads


def _close_month(*, zone, today: date) -> Case:
    """The month of expected close in SQL, None for "this month".

    The expected close date's month (today's if it passed), or the stage's estimate: when the
    lead entered its stage plus DAYS_TO_CLOSE, for the leads whose estimate is still ahead;
    the others (most of a team's, whose estimates passed long ago) get None without any date
    arithmetic. Kept this simple, PostgreSQL groups a team's 73k open leads in a hash table
    instead of sorting them on disk (~40% faster at 100k leads).
    """
    start_of_today = datetime.combine(today, time.min, tzinfo=zone)
    ahead = [
        When(
            Q(stage=stage, stage_changed_at__gte=start_of_today - timedelta(days=days)),
            then=TruncMonth(
                TruncDate(
                    ExpressionWrapper(
                        F("stage_changed_at") + Value(timedelta(days=days)),
                        output_field=DateTimeField(),
                    ),
                    tzinfo=zone,
                ),
                output_field=DateField(),
            ),
        )
        for stage, days in DAYS_TO_CLOSE.items()
    ]
    # Before the earliest of the stages' windows every estimate has passed: one comparison
    # settles most of a team's leads instead of one per stage (~86 → ~79 ms at 100k leads).
    earliest = start_of_today - timedelta(days=max(DAYS_TO_CLOSE.values()))
    return Case(
        When(
            expected_close_date__isnull=False,
            then=TruncMonth(
                Greatest("expected_close_date", Value(today), output_field=DateField()),
                output_field=DateField(),
            ),
        ),
        When(stage_changed_at__lt=earliest, then=Value(None, output_field=DateField())),
        *ahead,
        default=Value(None, output_field=DateField()),
        output_field=DateField(),
    )


def pipeline_groups(leads: QuerySet[Lead], *, zone, today: date) -> list[PipelineGroup]:
    """Open leads grouped by owner, stage, source and month of expected close (one query).

    The month is the expected close date's, or (blank) the stage's estimate; dates before
    today count in today's month.
    """
    this_month = today.replace(day=1)
    value = Coalesce("expected_value", Value(Decimal(0)))
    rows = (
        leads.filter(stage__in=OPEN_STAGES)
        .order_by()
        .annotate(close_month=_close_month(zone=zone, today=today))
        .values("owner_id", "stage", "source", "close_month")
        .annotate(
            leads=Count("id"),
            value=Sum(value),
            value_squared=Sum(Cast(value, FloatField()) * Cast(value, FloatField())),
            estimated=Count("id", filter=Q(expected_close_date__isnull=True)),
        )
    )
    return [
        PipelineGroup(
            owner_id=row["owner_id"],
            stage=row["stage"],
            source=row["source"],
            month=_as_date(row["close_month"]) if row["close_month"] else this_month,
            leads=row["leads"],
            value=Decimal(row["value"] or 0),
            value_squared=float(row["value_squared"] or 0),
            estimated=row["estimated"],
        )
        for row in rows
    ]


def _as_date(value: date | datetime | str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, str):  # SQLite hands back text for a truncated expression
        return date.fromisoformat(value[:10])
    return value


def pipeline_forecast(
    user: User, *, owner_id: int | None = None, today: date | None = None
) -> PipelineForecast:
    """The weighted pipeline per month of expected close for what the user may see: their own
    leads, or (a manager) the team's or one rep's. Each lead is weighed by its owner's own
    history. Two queries."""
    leads = leads_visible_to(user)
    scope = "team" if user.is_manager else f"owner-{user.pk}"
    if owner_id and user.is_manager:
        leads = leads.filter(owner_id=owner_id)
        scope = f"owner-{owner_id}"
    today = today or timezone.localdate(timezone=user.zone)
    groups = pipeline_groups(leads, zone=user.zone, today=today)
    if not groups:
        return forecast_from([], {}, today=today)
    histories = histories_cached(leads, scope=scope)
    owner_ids = {group.owner_id for group in groups}
    # The deals it rests on: those of the owners with open deals in view.
    in_view = {owner: history for owner, history in histories.items() if owner in owner_ids}
    return forecast_from(groups, in_view, today=today)


def forecast_from(
    groups: Iterable[PipelineGroup], histories: dict[int, History], *, today: date
) -> PipelineForecast:
    groups = list(groups)
    memo: dict[tuple[int, str, str], WinProbability] = {}

    def probability_of(owner_id: int, stage: str, source: str) -> WinProbability:
        key = (owner_id, stage, source)
        if key not in memo:
            history = histories.get(owner_id, History())
            memo[key] = win_probability(history, stage=stage, source=source)
        return memo[key]

    months = forecast_by_month(groups, probability_of, this_month=today.replace(day=1))
    return PipelineForecast(
        months=months,
        open_leads=sum(group.leads for group in groups),
        closed_deals=sum(history.deals for history in histories.values()),
        estimated=sum(group.estimated for group in groups),
        weighted_value=sum((month.weighted_value for month in months), Decimal(0)),
    )
