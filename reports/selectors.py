"""Reads behind the reports: one function per report, each returning plain rows.

Every function starts from the scoped querysets the rest of the app uses (`leads_visible_to` and
friends), so a salesperson's report only ever counts their own rows and a manager's counts the
team, or one rep when filtered. Sums and counts are grouped in the database with a fixed number
of queries whatever the number of leads. Medians are taken by PostgreSQL's percentile_cont, or
in Python from one narrow query where the database has no such function (SQLite).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TypeVar
from zoneinfo import ZoneInfo

from django.db import connections
from django.db.models import (
    Avg,
    Case,
    CharField,
    Count,
    DateTimeField,
    F,
    FloatField,
    Func,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import TruncMonth
from django.db.models.lookups import LessThan

from accounts.models import User
from leads.models import (
    HAND_RAISE_KINDS,
    PATH_STAGES,
    REFERRED,
    TOUCH_KINDS,
    Activity,
    Direction,
    Lead,
    LeadQuerySet,
    Source,
    Stage,
    StageChange,
)
from leads.selectors import MISSING_REFERRER_REASON, activities_visible_to, leads_visible_to
from referrals.models import SourceKind
from referrals.selectors import (
    SourceStats,
    referral_asks_visible_to,
    referral_source_stats,
    referral_sources_visible_to,
)

ZERO = Decimal(0)


@dataclass(frozen=True)
class Period:
    """Whole days from `start` to `end`, both included, in the reader's time zone."""

    start: date
    end: date
    zone: ZoneInfo

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=self.zone)

    @property
    def end_at(self) -> datetime:
        """Exclusive: the midnight after `end`, so the whole last day counts."""
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=self.zone)

    def within(self, field_name: str) -> Q:
        return Q(**{f"{field_name}__gte": self.start_at, f"{field_name}__lt": self.end_at})

    def months(self) -> list[date]:
        """The first day of every month the period touches, so empty months still show."""
        months, month = [], self.start.replace(day=1)
        while month <= self.end:
            months.append(month)
            month = (month + timedelta(days=32)).replace(day=1)
        return months

    def weeks(self) -> list[date]:
        """The Monday of every ISO week the period touches."""
        monday = self.start - timedelta(days=self.start.weekday())
        return [monday + timedelta(weeks=n) for n in range((self.end - monday).days // 7 + 1)]

    def midnights(self, days: Iterable[date]) -> list[datetime]:
        return [datetime.combine(day, time.min, tzinfo=self.zone) for day in days]

    def business_days_in_week(self, monday: date) -> int:
        """Weekdays of that week inside the period: the touch goal of a cut-off week shrinks."""
        first, last = max(monday, self.start), min(monday + timedelta(days=4), self.end)
        return max(0, (last - first).days + 1)


class Bucket(Func):
    """Which of a period's weeks or months a moment falls in: the index of the last of their
    `starts` (local midnights, ascending) at or before it.

    Grouping by TruncWeek(tzinfo=…) means the same, but converts each row's time to the reader's
    zone and truncates it; PostgreSQL's width_bucket() is one binary search over the starts (a
    year of a team's touches: 235 → 131 ms in EXPLAIN ANALYZE). SQLite has no width_bucket: a CASE.
    """

    output_field = IntegerField()

    def __init__(self, field_name: str, starts: list[datetime]) -> None:
        super().__init__(F(field_name))
        self.starts = starts

    def as_sql(self, compiler, connection, **extra_context):
        moment = self.get_source_expressions()[0]
        case = Case(
            *(
                When(LessThan(moment, Value(start)), then=Value(index))
                for index, start in enumerate(self.starts[1:])
            ),
            default=Value(len(self.starts) - 1),
        )
        return compiler.compile(case.resolve_expression(compiler.query))

    def as_postgresql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.get_source_expressions()[0])
        return f"width_bucket({sql}, %s::timestamptz[]) - 1", (*params, self.starts)


def _leads(user: User, rep: User | None) -> LeadQuerySet:
    """The leads a report may count; the rep filter is a manager's only."""
    leads = leads_visible_to(user)
    if rep is not None and user.is_manager:
        leads = leads.filter(owner=rep)
    return leads.order_by()


# Counts or money: both parts of a share are of one kind.
_Amount = TypeVar("_Amount", float, Decimal)


def _share(part: _Amount, other: _Amount) -> float | None:
    total = part + other
    return round(float(part) * 100 / float(total), 1) if total else None


def _month(moment: datetime) -> date:
    # TruncMonth(tzinfo=…) hands back local midnight on the 1st; the date is the bucket.
    return moment.date()


# --- 1. Own your leads ---------------------------------------------------------------------


@dataclass
class SourcingMonth:
    """One month of self-sourced against marketing leads: the product's thesis in numbers.

    New leads and pipeline value count by the month a lead was created; wins and won value by
    the month it was won.
    """

    month: date | None  # None on the total row
    leads_self: int = 0
    leads_marketing: int = 0
    pipeline_self: Decimal = ZERO
    pipeline_marketing: Decimal = ZERO
    wins_self: int = 0
    wins_marketing: int = 0
    won_value_self: Decimal = ZERO
    won_value_marketing: Decimal = ZERO

    @property
    def leads(self) -> int:
        return self.leads_self + self.leads_marketing

    @property
    def leads_share(self) -> float | None:
        return _share(self.leads_self, self.leads_marketing)

    @property
    def pipeline_share(self) -> float | None:
        return _share(self.pipeline_self, self.pipeline_marketing)

    @property
    def wins_share(self) -> float | None:
        return _share(self.wins_self, self.wins_marketing)

    @property
    def won_value_share(self) -> float | None:
        return _share(self.won_value_self, self.won_value_marketing)


def own_your_leads(user: User, period: Period, rep: User | None = None) -> list[SourcingMonth]:
    """Per month: new leads, pipeline, wins and won value, self-sourced against marketing.

    Two queries grouped by month and source, however many leads there are.
    """
    leads = _leads(user, rep)
    rows = {month: SourcingMonth(month) for month in period.months()}
    created = leads.filter(period.within("created_at"))
    won = leads.filter(period.within("won_at"), stage=Stage.WON)
    for groups, count_name, value_name in (
        (_by_month_and_source(created, "created_at", period), "leads", "pipeline"),
        (_by_month_and_source(won, "won_at", period), "wins", "won_value"),
    ):
        for group in groups:
            row = rows[_month(group["bucket"])]
            side = "marketing" if group["source"] == Source.MARKETING else "self"
            _add(row, f"{count_name}_{side}", group["count"])
            _add(row, f"{value_name}_{side}", group["value"] or ZERO)
    return list(rows.values())


def _by_month_and_source(leads: QuerySet[Lead], field_name: str, period: Period):
    return (
        leads.annotate(bucket=TruncMonth(field_name, tzinfo=period.zone))
        .values("bucket", "source")
        .annotate(count=Count("id"), value=Sum("expected_value"))
    )


def _add(row: object, name: str, amount: int | Decimal) -> None:
    setattr(row, name, getattr(row, name) + amount)


SUMMED_SOURCING_FIELDS = (
    "leads_self",
    "leads_marketing",
    "pipeline_self",
    "pipeline_marketing",
    "wins_self",
    "wins_marketing",
    "won_value_self",
    "won_value_marketing",
)


def own_your_leads_total(months: Iterable[SourcingMonth]) -> SourcingMonth:
    """The period as one row: shares over the total, not an average of monthly shares."""
    total = SourcingMonth(None)
    for month in months:
        for name in SUMMED_SOURCING_FIELDS:
            _add(total, name, getattr(month, name))
    return total


# --- 2. By source --------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceResult:
    """How one lead source performs. `created` counts leads created in the period; won and
    lost count deals closed in it, whenever they were created."""

    source: str
    label: str
    created: int
    won: int
    lost: int
    average_won_value: Decimal | None
    median_cycle_days: float | None

    @property
    def win_rate(self) -> float | None:
        closed = self.won + self.lost
        return round(self.won * 100 / closed, 1) if closed else None

    @property
    def is_self_sourced(self) -> bool:
        return self.source != Source.MARKETING


# The Sources report's row for leads whose source says Referral but whose referrer nobody
# recorded: they are not referred leads (LeadQuerySet.referred), so they are not counted on
# the Referral row, which agrees with the Referrals report and the referral pages.
REFERRER_UNKNOWN_ROW = "referral_unknown"


def _reported_source() -> Case:
    """A lead's row in the Sources report: Referral exactly when it is a referred lead."""
    return Case(
        When(REFERRED, then=Value(Source.REFERRAL.value)),
        When(source=Source.REFERRAL, then=Value(REFERRER_UNKNOWN_ROW)),
        default=F("source"),
        output_field=CharField(),
    )


def by_source(user: User, period: Period, rep: User | None = None) -> list[SourceResult]:
    """Per source: leads created, won, lost, win rate, average won value and the median days
    from created to won. Three queries; the median is taken in Python from each won deal's
    days (`DaysBetween`), so it reads the same on SQLite and PostgreSQL.

    The Referral row counts the referred leads (LeadQuerySet.referred), whatever their source
    field says; leads marked Referral with no referrer recorded get a row of their own."""
    leads = _leads(user, rep).annotate(reported_source=_reported_source())
    created = dict(
        leads.filter(period.within("created_at"))
        .values("reported_source")
        .annotate(count=Count("id"))
        .values_list("reported_source", "count")
    )
    won_in_period = Q(stage=Stage.WON) & period.within("won_at")
    # stage_changed_at is when the lead entered its current stage: for a lost lead, the loss.
    lost_in_period = Q(stage=Stage.LOST) & period.within("stage_changed_at")
    closed = {
        group["reported_source"]: group
        for group in leads.filter(won_in_period | lost_in_period)
        .values("reported_source")
        .annotate(
            won=Count("id", filter=Q(stage=Stage.WON)),
            lost=Count("id", filter=Q(stage=Stage.LOST)),
            average_won_value=Avg("expected_value", filter=Q(stage=Stage.WON)),
        )
    }
    cycle_days: dict[str, list[float]] = defaultdict(list)
    for source, days in leads.filter(won_in_period).values_list(
        "reported_source", DaysBetween("created_at", "won_at")
    ):
        cycle_days[source].append(days)
    rows = []
    for key, label in [
        (Source.REFERRAL.value, Source.REFERRAL.label),
        (REFERRER_UNKNOWN_ROW, MISSING_REFERRER_REASON),
        *[(source.value, source.label) for source in Source if source != Source.REFERRAL],
    ]:
        group = closed.get(key, {})
        if key == REFERRER_UNKNOWN_ROW and not (group or created.get(key)):
            continue  # only when there are such leads: the row says what to fix
        average = group.get("average_won_value")
        rows.append(
            SourceResult(
                source=key,
                label=label,
                created=created.get(key, 0),
                won=group.get("won", 0),
                lost=group.get("lost", 0),
                average_won_value=Decimal(average).quantize(Decimal("0.01"))
                if average is not None
                else None,
                median_cycle_days=_median(cycle_days.get(key)),
            )
        )
    return rows


def _days(duration: timedelta) -> float:
    return duration.total_seconds() / 86400


class DaysBetween(Func):
    """Days from one moment to a later one, as a float, worked out by the database: a team's
    won deals are thousands of rows, and reading two timestamps each was most of the sources
    report's time. PostgreSQL counts the interval's seconds; SQLite its Julian days."""

    output_field = FloatField()

    def __init__(self, start: str, end: str) -> None:
        super().__init__(F(end), F(start))  # end - start

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            template="EXTRACT(EPOCH FROM (%(expressions)s))::double precision / 86400",
            arg_joiner=" - ",
            **extra_context,
        )

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            template="(julianday(%(expressions)s))",
            arg_joiner=") - julianday(",
            **extra_context,
        )


def _median(values: list[float] | None) -> float | None:
    return round(statistics.median(values), 1) if values else None


# --- 3. Funnel -----------------------------------------------------------------------------

FUNNEL_STAGES = PATH_STAGES


@dataclass(frozen=True)
class FunnelStep:
    stage: str
    label: str
    reached: int
    conversion: float | None  # % of the previous step's leads that got this far
    median_days_in_stage: float | None  # None for Won: a lead never leaves it on the way

    @property
    def conversion_label(self) -> str:
        index = FUNNEL_STAGES.index(self.stage)
        return f"{FUNNEL_STAGES[index - 1].label} → {self.label}" if index else ""


def funnel(user: User, period: Period, rep: User | None = None) -> list[FunnelStep]:
    """For the leads created in the period: how many got to each stage, the conversion from
    one stage to the next, and the median days a lead spends in each stage.

    "Got to" a stage means the lead's furthest stage on the path — from its stage history or
    its current stage — is that stage or beyond: a lead that went straight from New to Engaged
    (a hand-raiser) still passed Contacted, so no step can convert more than 100%. Lost and
    Nurture leads count for the stages they reached before leaving the path.
    """
    leads = _leads(user, rep).filter(period.within("created_at"))
    furthest = _furthest_stage_counts(leads)
    median_days = _median_days_in_stage(leads)
    # Every lead created reached New, even one whose history was never recorded (rank -1).
    created = sum(furthest.values())
    steps, previous = [], None
    for i, stage in enumerate(FUNNEL_STAGES):
        count = sum(n for rank, n in furthest.items() if rank >= i) if i else created
        steps.append(
            FunnelStep(
                stage=stage.value,
                label=stage.label,
                reached=count,
                conversion=round(count * 100 / previous, 1) if previous else None,
                median_days_in_stage=median_days.get(stage.value),
            )
        )
        previous = count
    return steps


def _furthest_stage_counts(leads: QuerySet[Lead]) -> dict[int, int]:
    """Leads by the rank of the furthest funnel stage they reached (-1: none on the path).

    One count grouped by the furthest stage each lead keeps (`Lead.furthest_stage`, from its
    stage history): grouping a year's history per lead here took ~95 ms for a team.
    """
    counts = leads.order_by().values_list("furthest_stage").annotate(count=Count("id"))
    return {FUNNEL_STAGES.index(stage) if stage else -1: count for stage, count in counts}


TIMED_STAGES = tuple(stage.value for stage in FUNNEL_STAGES[:-1])


def _median_days_in_stage(leads: QuerySet[Lead]) -> dict[str, float]:
    """Median days from entering each stage to leaving it, from consecutive history rows per
    lead. A stage the lead is still in has no end yet and is left out, not counted "so far".

    PostgreSQL pairs the rows and takes the median itself (five rows come back); elsewhere the
    history comes back as one ordered query and is paired in Python.
    """
    if connections[leads.db].vendor == "postgresql":
        return _median_days_in_stage_postgresql(leads)
    return {
        stage: median
        for stage, days in _days_in_stage(leads).items()
        if (median := _median(days)) is not None
    }


def _median_days_in_stage_postgresql(leads: QuerySet[Lead]) -> dict[str, float]:
    lead_ids, params = leads.values("pk").query.sql_with_params()
    # Table name from the model, the subquery compiled by Django: nothing user-typed is pasted.
    sql = f"""
        SELECT to_stage,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM left_at - changed_at))
        FROM (
            SELECT to_stage, changed_at,
                   LEAD(changed_at) OVER (PARTITION BY lead_id ORDER BY changed_at, id) AS left_at
            FROM {StageChange._meta.db_table}
            WHERE lead_id IN ({lead_ids})
        ) AS moves
        WHERE left_at IS NOT NULL AND to_stage = ANY(%s)
        GROUP BY to_stage
    """  # noqa: S608
    with connections[leads.db].cursor() as cursor:
        cursor.execute(sql, [*params, list(TIMED_STAGES)])
        return {stage: round(float(seconds) / 86400, 1) for stage, seconds in cursor.fetchall()}


def _days_in_stage(leads: QuerySet[Lead]) -> dict[str, list[float]]:
    """Days spent in each stage, pairing each history row with the lead's next one."""
    changes = (
        StageChange.objects.filter(lead__in=leads.values("pk"))
        .order_by("lead_id", "changed_at", "id")
        .values_list("lead_id", "to_stage", "changed_at")
    )
    days_in: dict[str, list[float]] = defaultdict(list)
    previous: tuple[int, str, datetime] | None = None
    for lead_id, to_stage, changed_at in changes.iterator(chunk_size=5000):
        if previous is not None and previous[0] == lead_id and previous[1] in TIMED_STAGES:
            days_in[previous[1]].append(_days(changed_at - previous[2]))
        previous = (lead_id, to_stage, changed_at)
    return days_in


# --- 4. Activity ---------------------------------------------------------------------------


@dataclass(frozen=True)
class WeekTouches:
    """One rep's touches (calls, emails, meetings, messages) in one ISO week."""

    week: date  # Monday
    rep_id: int
    rep: str
    touches: int
    goal: int  # daily goal × weekdays of the week inside the period (5 for a whole week)

    @property
    def iso_week(self) -> str:
        year, week, _ = self.week.isocalendar()
        return f"{year}-W{week:02d}"

    @property
    def percent_of_goal(self) -> float | None:
        return round(self.touches * 100 / self.goal, 1) if self.goal else None


def activity(user: User, period: Period, rep: User | None = None) -> list[WeekTouches]:
    """Touches per rep per ISO week against their goal, weeks without a touch included.

    A touch counts for whoever made it. A salesperson sees their own; a manager sees everyone
    who touched a lead in the period, or the chosen rep. Two queries.
    """
    touches = activities_visible_to(user).filter(
        period.within("occurred_at"), kind__in=TOUCH_KINDS, user__isnull=False
    )
    if not user.is_manager:
        touches = touches.filter(user=user)
    elif rep is not None:
        touches = touches.filter(user=rep)
    weeks = period.weeks()
    # Only a manager's touches are read without joining their leads (activities_visible_to):
    # repeating that join each week made a salesperson's year ~35 → ~62 ms.
    counts = _touches_per_week(touches, period, weeks, week_by_week=user.is_manager)
    rep_ids = {user_id for user_id, _ in counts}
    if not user.is_manager:
        rep_ids.add(user.pk)
    elif rep is not None:
        rep_ids.add(rep.pk)
    reps = sorted(
        User.objects.filter(pk__in=rep_ids).only(
            "first_name", "last_name", "username", "daily_touch_goal"
        ),
        key=lambda person: (str(person).lower(), person.pk),
    )
    return [
        WeekTouches(
            week=monday,
            rep_id=person.pk,
            rep=str(person),
            touches=counts.get((person.pk, monday), 0),
            goal=person.daily_touch_goal * period.business_days_in_week(monday),
        )
        for monday in weeks
        for person in reps
    ]


def _touches_per_week(
    touches: QuerySet[Activity], period: Period, weeks: list[date], *, week_by_week: bool
) -> dict[tuple[int, date], int]:
    """Touches per (rep id, Monday of the week), one query.

    `week_by_week` (PostgreSQL): each week is its own range of the touch index, counted per rep
    (a LATERAL join over the weeks' bounds). Giving every touch its week with width_bucket and
    grouping by rep and week cost more than the scan itself: a year of a team's touches, ~110
    → ~80 ms (docs/performance.md, section 27). Not for touches joined to their leads: the
    join, repeated each week, made a salesperson's year ~35 → ~62 ms.
    """
    starts = period.midnights(weeks)
    # COUNT(*), not COUNT(id): the touch index holds no id, so it stays an index-only scan.
    if not week_by_week or connections[touches.db].vendor != "postgresql":
        return {
            (group["user_id"], weeks[group["week"]]): group["count"]
            for group in touches.order_by()
            .annotate(week=Bucket("occurred_at", starts))
            .values("user_id", "week")
            .annotate(count=Count("*"))
        }
    stops = period.midnights([*weeks[1:], weeks[-1] + timedelta(weeks=1)])
    one_week = (
        touches.filter(
            occurred_at__gte=RawSQL("week.start", (), output_field=DateTimeField()),
            occurred_at__lt=RawSQL("week.stop", (), output_field=DateTimeField()),
        )
        .order_by()
        .values("user_id")
        .annotate(count=Count("*"))
    )
    inner, params = one_week.query.get_compiler(touches.db).as_sql()
    # The inner query compiled by Django; nothing user-typed is pasted.
    sql = (
        "SELECT week.number, touches.user_id, touches.count "  # noqa: S608
        "FROM unnest(%s::timestamptz[], %s::timestamptz[]) "
        f"WITH ORDINALITY AS week(start, stop, number) CROSS JOIN LATERAL ({inner}) AS touches"
    )
    with connections[touches.db].cursor() as cursor:
        cursor.execute(sql, [starts, stops, *params])
        return {(user_id, weeks[number - 1]): count for number, user_id, count in cursor.fetchall()}


@dataclass(frozen=True)
class RepTouches:
    """A rep's touches over the whole period."""

    rep: str
    touches: int
    goal: int

    @property
    def percent_of_goal(self) -> float | None:
        return round(self.touches * 100 / self.goal, 1) if self.goal else None


def activity_per_rep(weeks: Iterable[WeekTouches]) -> list[RepTouches]:
    totals: dict[int, list] = {}
    for week in weeks:
        total = totals.setdefault(week.rep_id, [week.rep, 0, 0])
        total[1] += week.touches
        total[2] += week.goal
    return [RepTouches(*total) for total in totals.values()]


# --- 5. Referrals --------------------------------------------------------------------------


@dataclass(frozen=True)
class Referrer:
    """A referral source that sent someone in the period, and what all it sent became."""

    source_id: int
    name: str
    kind: str
    owner: str
    referred_in_period: int
    referrals_given: int  # all time
    won_value_of_tree: Decimal  # all time: their referrals, and their referrals' referrals…


@dataclass
class ReferralMonth:
    month: date | None  # None on the total row
    asks: int = 0
    referred_leads: int = 0


@dataclass(frozen=True)
class ReferralsReport:
    leaderboard: list[Referrer] = field(default_factory=list)
    months: list[ReferralMonth] = field(default_factory=list)


# What str(user) is made of, so a leaderboard row names its owner without loading the user.
OWNER_NAME_FIELDS = ("first_name", "last_name", "username")


def referrals(user: User, period: Period, rep: User | None = None) -> ReferralsReport:
    """The sources that referred most in the period, with the won value of their whole
    referral tree (which needs all time: a referral's own referrals come later), and per month
    the asks made against the referred leads that came in. Six queries."""
    sources = referral_sources_visible_to(user)
    asks = referral_asks_visible_to(user)
    if rep is not None and user.is_manager:
        sources = sources.filter(owner=rep)
        asks = asks.filter(source__owner=rep)
    # Plain tuples, not model instances or dicts: a team has thousands of sources.
    source_rows = list(
        sources.order_by("name", "id").values_list(
            "id", "name", "kind", "owner_id", *(f"owner__{name}" for name in OWNER_NAME_FIELDS)
        )
    )

    months = {month: ReferralMonth(month) for month in period.months()}
    referred = _leads(user, rep).referred().filter(period.within("created_at")).order_by()
    # Two groupings rather than one by month and referrer: that one gave a row per referrer
    # per month (~9k for a team), each with a month to convert to the reader's zone.
    for group in (
        referred.annotate(bucket=TruncMonth("created_at", tzinfo=period.zone))
        .values("bucket")
        .annotate(count=Count("id"))
    ):
        months[_month(group["bucket"])].referred_leads += group["count"]
    in_period: dict[int, int] = dict(
        referred.values("referred_by_id")
        .annotate(count=Count("id"))
        .values_list("referred_by_id", "count")
    )
    # The trees of the leaderboard's sources only (those that referred in the period).
    stats = referral_source_stats(
        sorted({owner_id for _, _, _, owner_id, *_ in source_rows}), source_ids=in_period
    )
    for group in (
        asks.filter(period.within("asked_at"))
        .order_by()
        .annotate(bucket=TruncMonth("asked_at", tzinfo=period.zone))
        .values("bucket")
        .annotate(count=Count("id"))
    ):
        months[_month(group["bucket"])].asks += group["count"]

    leaderboard = []
    no_stats = SourceStats(referrals_given=0, won_value_of_tree=ZERO)
    owner_names: dict[int, str] = {}
    # Each label translated once, not once a row (a team's leaderboard has thousands).
    kind_labels = {kind: str(label) for kind, label in SourceKind.choices}
    for source_id, name, kind, owner_id, *owner_name_parts in source_rows:
        referred_in_period = in_period.get(source_id)
        if not referred_in_period:
            continue
        source_stats = stats.get(source_id, no_stats)
        if owner_id not in owner_names:
            names = dict(zip(OWNER_NAME_FIELDS, owner_name_parts, strict=True))
            owner_names[owner_id] = str(User(pk=owner_id, **names))
        leaderboard.append(
            Referrer(
                source_id=source_id,
                name=name,
                kind=kind_labels[kind],
                owner=owner_names[owner_id],
                referred_in_period=referred_in_period,
                referrals_given=source_stats.referrals_given,
                won_value_of_tree=source_stats.won_value_of_tree,
            )
        )
    leaderboard.sort(key=lambda row: (-row.referred_in_period, -row.won_value_of_tree, row.name))
    return ReferralsReport(leaderboard=leaderboard, months=list(months.values()))


def referral_months_total(months: Iterable[ReferralMonth]) -> ReferralMonth:
    total = ReferralMonth(None)
    for month in months:
        total.asks += month.asks
        total.referred_leads += month.referred_leads
    return total


# --- 6. Speed to lead ----------------------------------------------------------------------

# "Answered within" thresholds, inclusive: a first touch exactly 5 minutes after the
# hand-raise is within 5 minutes. Each count includes the faster ones.
WITHIN_5_MINUTES = timedelta(minutes=5)
WITHIN_1_HOUR = timedelta(hours=1)
WITHIN_1_DAY = timedelta(days=1)


@dataclass
class SpeedToLead:
    """How fast one salesperson (or the team, on a total row) answered the hand-raises of a
    month (or of the whole period).

    A hand-raise counts for the owner of its lead, in the month it happened in the reader's
    time zone. It is answered by the first outbound call, email, meeting or LinkedIn message
    on the lead at or after it, whoever logged it and however much later. A second hand-raise
    before that answer is part of the same wait: the clock runs from the first unanswered one.
    """

    month: date | None  # None on a per-salesperson or total row
    rep_id: int | None
    rep: str
    hand_raises: int = 0
    within_5_minutes: int = 0
    within_1_hour: int = 0
    within_1_day: int = 0
    waiting: int = 0  # never answered yet
    answer_minutes: list[float] = field(default_factory=list, repr=False)

    @property
    def answered(self) -> int:
        return len(self.answer_minutes)

    @property
    def answered_later(self) -> int:
        return self.answered - self.within_1_day

    @property
    def median_minutes(self) -> float | None:
        """The median minutes to the first touch over the answered hand-raises; the waiting
        ones have no time yet (they show in `waiting`)."""
        return statistics.median(self.answer_minutes) if self.answer_minutes else None

    def count(self, answer: timedelta | None) -> None:
        self.hand_raises += 1
        if answer is None:
            self.waiting += 1
            return
        self.answer_minutes.append(answer.total_seconds() / 60)
        self.within_5_minutes += answer <= WITHIN_5_MINUTES
        self.within_1_hour += answer <= WITHIN_1_HOUR
        self.within_1_day += answer <= WITHIN_1_DAY


@dataclass(frozen=True)
class SpeedToLeadReport:
    months: list[SpeedToLead]  # every month of the period for every salesperson shown
    reps: list[SpeedToLead]  # each salesperson over the whole period
    total: SpeedToLead  # everyone over the whole period


def first_answers(
    events: Iterable[tuple[int, str, datetime]],
) -> Iterator[tuple[int, datetime, timedelta | None]]:
    """(lead id, hand-raise time, time to the first touch or None) per wait, from one lead's
    (or several leads') hand-raises and outbound touches ordered by lead and time, a
    hand-raise before a touch at the same moment.

    A wait starts at a hand-raise when none is open and ends at the next outbound touch;
    hand-raises while it is open belong to it. A touch with no wait open answers nothing.
    """
    waiting: tuple[int, datetime] | None = None  # the open wait: lead id, hand-raise time
    for lead_id, kind, occurred_at in events:
        if waiting is not None and lead_id != waiting[0]:
            yield waiting[0], waiting[1], None
            waiting = None
        if kind in HAND_RAISE_KINDS:
            if waiting is None:
                waiting = (lead_id, occurred_at)
        elif waiting is not None:
            yield waiting[0], waiting[1], occurred_at - waiting[1]
            waiting = None
    if waiting is not None:
        yield waiting[0], waiting[1], None


def speed_to_lead(user: User, period: Period, rep: User | None = None) -> SpeedToLeadReport:
    """Per salesperson and month: the hand-raises, the median time to the first touch and how
    many were answered within 5 minutes, an hour and a day (see SpeedToLead for the rules).

    Two queries: the hand-raises and outbound touches of the leads that raised a hand in the
    period (their earlier history too, so a hand-raise still waiting from before the period is
    known to start the wait), then the salespeople's names. The median is taken in Python over
    those rows, so SQLite and PostgreSQL agree.
    """
    leads = _leads(user, rep)
    raised_in_period = Activity.objects.filter(
        period.within("occurred_at"), kind__in=HAND_RAISE_KINDS, lead__in=leads.values("pk")
    ).values("lead_id")
    hand_raise_first = Case(
        When(kind__in=HAND_RAISE_KINDS, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    events = (
        Activity.objects.filter(lead_id__in=raised_in_period)
        .filter(
            Q(kind__in=HAND_RAISE_KINDS) | Q(kind__in=TOUCH_KINDS, direction=Direction.OUTBOUND)
        )
        .annotate(hand_raise_first=hand_raise_first)
        .order_by("lead_id", "occurred_at", "hand_raise_first", "id")
        .values_list("lead_id", "lead__owner_id", "kind", "occurred_at")
    )
    owners: dict[int, int] = {}
    waits: list[tuple[int, datetime, timedelta | None]] = []

    def lead_events():
        for lead_id, owner_id, kind, occurred_at in events.iterator(chunk_size=5000):
            owners[lead_id] = owner_id
            yield lead_id, kind, occurred_at

    for lead_id, raised_at, answer in first_answers(lead_events()):
        if period.start_at <= raised_at < period.end_at:
            waits.append((owners[lead_id], raised_at, answer))

    rep_ids = {owner_id for owner_id, _, _ in waits}
    if not user.is_manager:
        rep_ids.add(user.pk)
    elif rep is not None:
        rep_ids.add(rep.pk)
    people = sorted(
        User.objects.filter(pk__in=rep_ids).only("first_name", "last_name", "username"),
        key=lambda person: (str(person).lower(), person.pk),
    )
    per_rep = {person.pk: SpeedToLead(None, person.pk, str(person)) for person in people}
    per_month = {
        (person.pk, month): SpeedToLead(month, person.pk, str(person))
        for month in period.months()
        for person in people
    }
    total = SpeedToLead(None, None, "Everyone")
    for owner_id, raised_at, answer in waits:
        month = raised_at.astimezone(period.zone).date().replace(day=1)
        for row in (per_month[(owner_id, month)], per_rep[owner_id], total):
            row.count(answer)
    return SpeedToLeadReport(
        months=list(per_month.values()), reps=list(per_rep.values()), total=total
    )
