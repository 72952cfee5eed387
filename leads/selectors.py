"""Reads of leads and their records, always scoped to who is asking.

A salesperson sees their own rows only; a sales manager sees the whole team. Every page, export
and task that reads leads starts from one of these functions.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, TypedDict

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    Field,
    FilteredRelation,
    FloatField,
    Func,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.expressions import Combinable
from django.db.models.functions import Cast, Coalesce, Least
from django.utils import timezone
from django.utils.text import capfirst

from accounts.models import User
from leadhunter.prepared import PreparedQuery
from leads.models import (
    HAND_RAISE_KINDS,
    OPEN_STAGES,
    STAGE_LIMIT_DAYS,
    TOUCH_KINDS,
    Activity,
    ActivityKind,
    Company,
    FollowUp,
    FollowUpKind,
    Lead,
    LeadQuerySet,
    LeadSearchEntry,
    Source,
    Stage,
    StageChange,
)

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


def leads_visible_to(user: User) -> LeadQuerySet:
    if user.is_manager:
        return Lead.objects.all()
    return Lead.objects.filter(owner=user)


def companies_visible_to(user: User) -> QuerySet[Company]:
    if user.is_manager:
        return Company.objects.all()
    return Company.objects.filter(owner=user)


def activities_visible_to(user: User) -> QuerySet[Activity]:
    if user.is_manager:
        return Activity.objects.all()
    return Activity.objects.filter(lead__owner=user)


def follow_ups_visible_to(user: User) -> QuerySet[FollowUp]:
    if user.is_manager:
        return FollowUp.objects.all()
    return FollowUp.objects.filter(lead__owner=user)


def stage_changes_visible_to(user: User) -> QuerySet[StageChange]:
    if user.is_manager:
        return StageChange.objects.all()
    return StageChange.objects.filter(lead__owner=user)


def going_cold_condition(now: datetime | None = None) -> Q:
    """Open leads that have sat in their stage longer than the stage's limit, except contacts
    waiting in the network pool (their first touch is planned, not neglected)."""
    now = now or timezone.now()
    condition = Q(pk__in=[])
    for stage, days in STAGE_LIMIT_DAYS.items():
        condition |= Q(stage=stage, stage_changed_at__lt=now - timedelta(days=days))
    return Q(condition, ~in_network_pool())


def is_going_cold(lead: Lead, now: datetime | None = None) -> bool:
    """`going_cold_condition` for one lead. The pool is looked up only for a lead past its
    stage's limit, from its `in_pool` annotation when the caller made one (a list of cards)."""
    limit = STAGE_LIMIT_DAYS.get(lead.stage)
    if limit is None:
        return False
    if lead.stage_changed_at >= (now or timezone.now()) - timedelta(days=limit):
        return False
    in_pool = getattr(lead, "in_pool", None)
    if in_pool is None:
        in_pool = FollowUp.objects.filter(
            lead=lead, kind=FollowUpKind.RECONNECT, done_at__isnull=True
        ).exists()
    return not in_pool


def follow_ups_due(user: User, *, until: datetime) -> QuerySet[FollowUp]:
    """The user's own pending follow-ups due up to `until` (overdue included), soonest first."""
    return (
        FollowUp.objects.filter(lead__owner=user, done_at__isnull=True, due_at__lte=until)
        .select_related("lead", "lead__company")
        .order_by("due_at", "id")
    )


def hand_raiser_condition(*, since: datetime) -> Q:
    """Open leads who reached out since `since` and have not been answered yet."""
    return Q(stage__in=OPEN_STAGES, last_inbound_at__gte=since) & (
        Q(last_contacted_at__isnull=True) | Q(last_contacted_at__lt=F("last_inbound_at"))
    )


def in_network_pool() -> Exists:
    """Leads in the network pool: their next step is a reconnect (`leads.reconnects`), on the
    day the pool's plan gave it."""
    return Exists(
        FollowUp.objects.filter(
            lead=OuterRef("pk"), kind=FollowUpKind.RECONNECT, done_at__isnull=True
        )
    )


@dataclass(frozen=True)
class NetworkPool:
    """The user's network pool as its plan stands: how many wait, how many a day, and the
    first and last day planned (today included)."""

    size: int
    per_day: int
    first_at: datetime | None
    last_at: datetime | None


def network_pool(user: User, *, now: datetime | None = None) -> NetworkPool:
    """One aggregate query over the user's pending reconnects."""
    start, _end = local_day_bounds(user, now or timezone.now())
    pool = FollowUp.objects.filter(
        lead__owner=user, kind=FollowUpKind.RECONNECT, done_at__isnull=True
    ).aggregate(
        size=Count("id"),
        first_at=Min("due_at", filter=Q(due_at__gte=start)),
        last_at=Max("due_at"),
    )
    return NetworkPool(per_day=user.reconnects_per_day, **pool)


def hand_raisers_new(user: User, *, since: datetime) -> QuerySet[Lead]:
    """The user's open leads who reached out since `since` and have not been answered yet."""
    return Lead.objects.filter(owner=user).filter(hand_raiser_condition(since=since))


def missing_referrer_condition() -> Q:
    """Open leads marked as referrals whose referrer nobody has named yet: they get no referral
    bonus until someone answers "Who referred this?"."""
    return Q(stage__in=OPEN_STAGES, source=Source.REFERRAL, referred_by__isnull=True)


# --- Today ---------------------------------------------------------------------------------


class QueueKind(StrEnum):
    FOLLOW_UP = "follow_up"
    HAND_RAISER = "hand_raiser"
    GOING_COLD = "going_cold"
    MISSING_REFERRER = "missing_referrer"


@dataclass(frozen=True)
class QueueItem:
    """One thing to do now on the Today page."""

    kind: str  # a QueueKind
    lead: Lead
    follow_up: FollowUp | None
    reason: str
    overdue: bool
    priority: float
    # How long a hand-raiser has been waiting for an answer; None on other rows.
    waiting: timedelta | None = None

    @property
    def row_id(self) -> str:
        return f"queue-{self.kind}-{self.follow_up.pk if self.follow_up else self.lead.pk}"

    @property
    def needs_referrer(self) -> bool:
        """Whoever referred this lead is still to be named (whatever the row is about)."""
        lead = self.lead
        return lead.is_open and lead.source == Source.REFERRAL and lead.referred_by_id is None


@dataclass(frozen=True)
class TodayQueue:
    items: list[QueueItem]
    total: int  # every item due, shown or not, up to TODAY_COUNT_CAP
    not_contacted: list[Lead]
    touches_today: int
    goal: int
    total_capped: bool = False  # more than TODAY_COUNT_CAP are due: `total` is the cap
    has_leads: bool = True  # False: a new account with no lead at all yet

    @property
    def more_due(self) -> int:
        """How many due items are not shown."""
        return max(0, self.total - len(self.items))

    @property
    def progress_percent(self) -> int:
        return min(100, round(100 * self.touches_today / self.goal)) if self.goal else 100


# The Today page shows the best this many; "see all" shows up to the second number.
TODAY_QUEUE_LIMIT = 40
# A referral whose referrer nobody named: Today's reason, and the Sources report's row of them.
MISSING_REFERRER_REASON = "Referral, referrer not named"
TODAY_QUEUE_ALL_LIMIT = 500
# Today says "1000+ due" past this: beyond it the number changes nothing for the salesperson.
TODAY_COUNT_CAP = 1000
# A hand-raiser stays in the queue this long unanswered (then the cadence's follow-up has it).
HAND_RAISE_WINDOW = timedelta(days=7)
# A hand-raise of the last day, still unanswered, is the top of Today whatever else is due:
# someone who just asked (on the public page, by email…) is worth more than any planned call.
FRESH_HAND_RAISE_WINDOW = timedelta(days=1)
FRESH_HAND_RAISE_POINTS = 1000

# Today's ranking: the lead's score (0-100), plus its deal value up to VALUE_POINTS_MAX points
# (capped so one big deal can't bury everything), plus what the work is about.
VALUE_PER_POINT = 2000
VALUE_POINTS_MAX = 20
OVERDUE_POINTS = 10
HAND_RAISE_POINTS = 15
GOING_COLD_POINTS = -5
# Naming the referrer takes seconds and gives the lead its referral bonus.
MISSING_REFERRER_POINTS = 10


def local_day_bounds(user: User, now: datetime) -> tuple[datetime, datetime]:
    """Start and end of the user's current day, as aware datetimes."""
    local = now.astimezone(user.zone)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


TouchRows = Callable[[User, datetime, datetime], QuerySet]
_touch_sources: list[TouchRows] = []


def touch_source_register(rows: TouchRows) -> None:
    """Let a higher app count its own records as touches towards the daily goal.

    `rows(user, start, end)` gives the user's records in [start, end) as a queryset. A referral
    ask made to a partner has no lead and so no activity: the referrals app registers its asks
    here (in its AppConfig.ready), since leads must not import it. Registering twice is a no-op.
    """
    if rows not in _touch_sources:
        _touch_sources.append(rows)


def touches_today(user: User, *, now: datetime | None = None) -> int:
    """The user's touches today: calls, emails, meetings and LinkedIn messages, plus what other
    apps registered (referral asks). One query whatever the sources.

    A referral ask to a customer also leaves a "referral ask" activity on the customer's lead;
    that kind is no touch kind, so the ask counts once, as an ask.
    """
    start, end = local_day_bounds(user, now or timezone.now())
    rows = Activity.objects.filter(
        user=user, kind__in=TOUCH_KINDS, occurred_at__gte=start, occurred_at__lt=end
    )
    touches = rows.order_by().values_list("pk")
    for source in _touch_sources:
        touches = touches.union(source(user, start, end).order_by().values_list("pk"), all=True)
    return touches.count()


# Before any activity: a lead never touched has every hand-raise unanswered.
BEFORE_ANY_TOUCH = datetime(1970, 1, 1, tzinfo=UTC)


def first_unanswered_hand_raise() -> Subquery:
    """When the lead's oldest hand-raise not yet answered by an outbound touch happened: the
    start of its wait, as the Speed to lead report counts it (a second hand-raise before the
    answer does not restart the clock). A touch at the same moment answers it."""
    return Subquery(
        Activity.objects.filter(
            lead=OuterRef("pk"),
            kind__in=HAND_RAISE_KINDS,
            occurred_at__gt=Coalesce(OuterRef("last_contacted_at"), Value(BEFORE_ANY_TOUCH)),
        )
        .order_by("occurred_at")
        .values("occurred_at")[:1]
    )


def last_unanswered_hand_raise_kind() -> Subquery:
    """The kind of the lead's latest hand-raise not yet answered (Today says "Replied" for an
    email reply, "Raised a hand" for the others)."""
    return Subquery(
        Activity.objects.filter(
            lead=OuterRef("pk"),
            kind__in=HAND_RAISE_KINDS,
            occurred_at__gt=Coalesce(OuterRef("last_contacted_at"), Value(BEFORE_ANY_TOUCH)),
        )
        .order_by("-occurred_at")
        .values("kind")[:1]
    )


def waiting_since(lead: Lead) -> datetime | None:
    """Since when a hand-raiser has waited: its first unanswered hand-raise when the row
    was read with `first_unanswered_hand_raise`, else (an inbound email, a row read alone)
    its last word."""
    return getattr(lead, "hand_raised_at", None) or lead.last_inbound_at


# A lead going cold that was touched within this long is being worked: not a Today item.
COLD_TOUCH_GRACE = timedelta(days=3)


class QueueRanking(TypedDict):
    """The annotations `today_work` ranks the leads by."""

    queue_kind: str
    queue_priority: float


def today_work(
    *, owner_id: int, now: datetime, start: datetime, end: datetime
) -> QuerySet[WithAnnotations[Lead, QueueRanking]]:
    """Every one of the owner's leads with something to do today (`start`, `end`: the bounds
    of the owner's day), best first: a follow-up due today or overdue, an unanswered
    hand-raise, going cold, or a referrer to name.

    One row per lead, annotated with `queue_kind` (the first that applies: a due follow-up,
    a hand-raise, going cold, a missing referrer) and `queue_priority`. The database ranks
    them, so the best of a 300-item Monday is found without reading the other rows. A
    hand-raise of the last day still waiting for an answer comes before everything else.

    Only the lead's own columns are read: whether a follow-up is due comes from the lead's
    next_follow_up_at, which the services keep in step with its pending follow-up. Joining the
    follow-ups to rank made PostgreSQL hash every pending follow-up of every user (~60k rows
    at 100k leads) on each Today; `today_rows` joins them to the rows shown only.

    Its SQL is built once per process (`TODAY_RANKING`): every value above goes into the
    SQL's parameters only.
    """
    due = Q(next_follow_up_at__lt=end)
    overdue = Q(next_follow_up_at__lt=start)
    # The lead's last word is theirs (a reply, a question…): answering comes first.
    waiting = Q(last_inbound_at__isnull=False) & (
        Q(last_contacted_at__isnull=True) | Q(last_contacted_at__lt=F("last_inbound_at"))
    )
    # A hand-raise whose answer the salesperson snoozed to a later day waits for that day (a
    # fresh hand-raise whose answer the cadence planned for tomorrow still comes up now).
    answer_snoozed = Exists(
        FollowUp.objects.filter(
            lead=OuterRef("pk"), done_at__isnull=True, snooze_count__gt=0, due_at__gte=end
        )
    )
    hand_raised = hand_raiser_condition(since=now - HAND_RAISE_WINDOW) & ~answer_snoozed
    fresh_hand_raise = (
        waiting & Q(last_inbound_at__gte=now - FRESH_HAND_RAISE_WINDOW) & ~answer_snoozed
    )
    # Going cold is time in the stage; it is Today's work only while nobody has touched the
    # lead lately (a lead worked this morning must not come back after a reload), and never
    # for a contact waiting in the network pool (planned, not neglected).
    cold = going_cold_condition(now) & ~Q(last_contacted_at__gte=now - COLD_TOUCH_GRACE)
    missing_referrer = missing_referrer_condition()
    value_points = Least(
        Cast(Coalesce("expected_value", Value(Decimal(0))), FloatField()) / VALUE_PER_POINT,
        Value(float(VALUE_POINTS_MAX)),
    )
    work_points = Case(
        When(fresh_hand_raise, then=Value(FRESH_HAND_RAISE_POINTS + HAND_RAISE_POINTS)),
        When(overdue & waiting, then=Value(OVERDUE_POINTS + HAND_RAISE_POINTS)),
        When(due & waiting, then=Value(HAND_RAISE_POINTS)),
        When(overdue, then=Value(OVERDUE_POINTS)),
        When(due, then=Value(0)),
        When(hand_raised, then=Value(HAND_RAISE_POINTS)),
        When(cold, then=Value(GOING_COLD_POINTS)),
        default=Value(MISSING_REFERRER_POINTS),
    )
    return (
        Lead.objects.filter(owner_id=owner_id)
        .filter(due | hand_raised | cold | missing_referrer)
        .annotate(
            queue_kind=Case(
                When(due & waiting, then=Value(QueueKind.HAND_RAISER.value)),
                When(due, then=Value(QueueKind.FOLLOW_UP.value)),
                When(hand_raised, then=Value(QueueKind.HAND_RAISER.value)),
                When(cold, then=Value(QueueKind.GOING_COLD.value)),
                default=Value(QueueKind.MISSING_REFERRER.value),
                output_field=CharField(),
            ),
            queue_priority=ExpressionWrapper(
                F("total_score") + value_points + work_points, output_field=FloatField()
            ),
        )
        .order_by("-queue_priority", "pk")
    )


def today_ranking(
    *, owner_id: int, now: datetime, start: datetime, end: datetime, limit: int
) -> QuerySet[Lead, tuple[int, str, float, int]]:
    """The best `limit` of `today_work` as (lead id, queue kind, priority, how many in all).

    The ranking counts what it ranks (a window over the rows it has to read to sort them
    anyway): a separate count built and ran the whole condition a second time.
    """
    work = today_work(owner_id=owner_id, now=now, start=start, end=end)
    return work.annotate(queue_total=Window(Count("pk"))).values_list(
        "pk", "queue_kind", "queue_priority", "queue_total"
    )[:limit]


# Building and compiling the ranking's conditions was 20 ms of CPU on every Today, running it
# ~1 ms: its SQL is built once per process (and per limit).
TODAY_RANKING = PreparedQuery(today_ranking, sql_keys=("limit",))


def today_rows(
    user: User, *, now: datetime, start: datetime, end: datetime, limit: int
) -> tuple[list[tuple[Lead, str, float]], int]:
    """The best `limit` leads of `today_work`, each with its company and pending follow-up,
    with its queue kind and priority; and how many leads Today has work for in all.

    Two queries: the ranking reads the owner's leads' own columns only, then the rows it
    picked are fetched with their joins. Joining in the ranking query hashed every company and
    pending follow-up of the database on each Today (~100 ms at 100k leads); repeating the
    ranking's expressions in one query cost more Python than the second query costs.
    """
    ranked = TODAY_RANKING.rows(owner_id=user.pk, now=now, start=start, end=end, limit=limit)
    total = ranked[0][3] if ranked else 0
    leads = (
        Lead.objects.annotate(
            pending=FilteredRelation("follow_ups", condition=Q(follow_ups__done_at__isnull=True)),
            # For the hand-raisers' "waiting 3 h": a subquery per row shown, on the hand-raise
            # index, in this same query.
            hand_raised_at=first_unanswered_hand_raise(),
            hand_raise_kind=last_unanswered_hand_raise_kind(),
        )
        # django-stubs does not know FilteredRelation's names (`pending`) in select_related.
        .select_related("company", "pending")  # type: ignore[misc]
        .defer("score_explanation")
        .in_bulk([pk for pk, _kind, _priority, _total in ranked])
    )
    # A lead deleted between the two queries is left out.
    rows = [(leads[pk], kind, priority) for pk, kind, priority, _total in ranked if pk in leads]
    return rows, total


def today_queue(
    user: User, *, now: datetime | None = None, limit: int = TODAY_QUEUE_LIMIT
) -> TodayQueue:
    """What to do now, best first (see today_work), at most `limit` items, with how many are due
    in all, plus the best leads never contacted and the touch goal's progress.

    A fixed number of queries whatever the number of leads and of items due.
    """
    now = now or timezone.now()
    start, end = local_day_bounds(user, now)
    rows, total = today_rows(user, now=now, start=start, end=end, limit=limit)
    items = [
        _queue_item(lead, kind=kind, priority=priority, start=start, end=end, now=now)
        for lead, kind, priority in rows
    ]
    not_contacted = list(
        Lead.objects.filter(owner=user, stage=Stage.NEW, last_contacted_at__isnull=True)
        .exclude(pk__in=[lead.pk for lead, _kind, _priority in rows])
        # The pool brings its contacts up a few a day; suggesting more would flood Today again.
        .exclude(in_network_pool())
        .select_related("company")
        .order_by("-total_score", "-id")[:5]
    )
    # Asked only of an empty queue: an empty Today says something else to a brand-new account.
    has_leads = bool(items or not_contacted) or Lead.objects.filter(owner=user).exists()
    return TodayQueue(
        has_leads=has_leads,
        items=items,
        total=min(total, TODAY_COUNT_CAP),
        total_capped=total > TODAY_COUNT_CAP,
        not_contacted=not_contacted,
        touches_today=touches_today(user, now=now),
        goal=user.daily_touch_goal,
    )


def _queue_item(
    lead: Lead, *, kind: str, priority: float, start: datetime, end: datetime, now: datetime
) -> QueueItem:
    # Django sets the joined `pending` only when the lead has one; the row is about it only
    # when it is due (a hand-raiser's answer due tomorrow is not today's work yet).
    pending = getattr(lead, "pending", None)
    follow_up = pending if pending is not None and pending.due_at < end else None
    if follow_up is not None:
        follow_up.lead = lead  # the row reads the lead through its follow-up too: no query
        reason = follow_up.get_kind_display()
    elif kind == QueueKind.HAND_RAISER:
        replied = getattr(lead, "hand_raise_kind", None) == ActivityKind.REPLIED
        reason = "Replied" if replied else "Raised a hand"
    elif kind == QueueKind.GOING_COLD:
        reason = f"Going cold in {lead.get_stage_display()}"
    elif kind == QueueKind.MISSING_REFERRER:
        reason = MISSING_REFERRER_REASON
    else:
        reason = "Follow-up due"
    return QueueItem(
        kind=kind,
        lead=lead,
        follow_up=follow_up,
        reason=reason,
        overdue=follow_up is not None and follow_up.due_at < start,
        priority=priority,
        waiting=_waiting(lead, kind, now),
    )


def _waiting(lead: Lead, kind: str, now: datetime) -> timedelta | None:
    answered = lead.last_contacted_at is not None and (
        lead.last_inbound_at is None or lead.last_contacted_at >= lead.last_inbound_at
    )
    since = waiting_since(lead) if kind == QueueKind.HAND_RAISER and not answered else None
    return max(now - since, timedelta(0)) if since is not None else None


def queue_item_for(*, lead: Lead, follow_up: FollowUp | None, now: datetime | None = None):
    """One lead's Today row outside the queue: an action refused shows the row again."""
    now = now or timezone.now()
    if follow_up is None:
        if lead.last_inbound_at and (
            lead.last_contacted_at is None or lead.last_contacted_at < lead.last_inbound_at
        ):
            waiting = _waiting(lead, QueueKind.HAND_RAISER, now)
            return QueueItem(QueueKind.HAND_RAISER, lead, None, "Raised a hand", False, 0, waiting)
        if lead.is_open and lead.source == Source.REFERRAL and lead.referred_by_id is None:
            return QueueItem(
                QueueKind.MISSING_REFERRER, lead, None, MISSING_REFERRER_REASON, False, 0
            )
        return QueueItem(
            QueueKind.GOING_COLD, lead, None, f"Going cold in {lead.get_stage_display()}", False, 0
        )
    start, _ = local_day_bounds(lead.owner, now)
    kind = QueueKind.HAND_RAISER if follow_up.kind == FollowUpKind.RESPOND else QueueKind.FOLLOW_UP
    overdue = follow_up.due_at < start
    reason = follow_up.get_kind_display()
    return QueueItem(kind, lead, follow_up, reason, overdue, 0, _waiting(lead, kind, now))


# --- Lead list -----------------------------------------------------------------------------

# Sort name → (field, descending, value for a missing field so those rows sort last).
LEAD_SORTS: dict[str, tuple[str, bool, object]] = {
    "score": ("total_score", True, None),
    "name": ("last_name", False, None),
    # The date the list shows as "Added" (an import can give an earlier one than the id's).
    "created": ("created_at", True, None),
    "follow_up": ("next_follow_up_at", False, datetime(9999, 12, 31, tzinfo=UTC)),
    "value": ("expected_value", True, Decimal(-1)),
}


# What a row of the lead list shows (and sorts by), in `LeadRow`'s order. Leaving out the
# rest, the stored score explanation above all (~600 bytes of JSON decoded per row), is a
# quarter of a page's time.
LEAD_ROW_FIELDS = (
    "id",
    "first_name",
    "last_name",
    "email",
    "title",
    "stage",
    "source",
    "expected_value",
    "currency",
    "next_follow_up_at",
    "created_at",
    "grade",
    "total_score",
    "fit_score",
    "intent_score",
    "company_id",
    "company__name",
    "owner_id",
)
# The owner's name, for the lists that show whose lead it is (a manager's).
LEAD_ROW_OWNER_FIELDS = ("owner__first_name", "owner__last_name", "owner__username")


@dataclass(slots=True)
class CompanyName:
    """The company of a `LeadRow`: what its cell links to and prints."""

    pk: int
    name: str


@dataclass(slots=True)
class LeadRow:
    """One row of the lead list as plain values: what `lead_row` draws, read without building
    a `Lead` and its `Company` per row (a quarter of the page's instructions). Its name and
    labels are `Lead`'s own methods, so a row reads as the lead does; `owner` is the owner's
    name (`str(lead.owner)`), where a `Lead` has the user. The fields up to `owner_id` are
    `LEAD_ROW_FIELDS`, in that order."""

    pk: int
    first_name: str
    last_name: str
    email: str
    title: str
    stage: str
    source: str
    expected_value: Decimal | None
    currency: str
    next_follow_up_at: datetime | None
    created_at: datetime
    grade: str
    total_score: int
    fit_score: int
    intent_score: int
    company_id: int | None
    company_name: str | None
    owner_id: int
    # The sort's stand-in value where the sort column can be empty (the page's cursor).
    sort_key: object = None
    # The owner's name, on a manager's list.
    owner: str = ""

    __str__ = Lead.__str__
    full_name = Lead.full_name
    get_stage_display = Lead.get_stage_display
    get_source_display = Lead.get_source_display

    @property
    def company(self) -> CompanyName | None:
        if self.company_id is None:
            return None
        return CompanyName(self.company_id, self.company_name or "")


@dataclass(frozen=True)
class LeadPage:
    leads: list[LeadRow]
    next_cursor: str | None
    is_first: bool


def lead_search(word: str, *, owner_id: int | None = None) -> Q:
    """Leads whose first name, last name, email or company name contains `word`, any case.

    On PostgreSQL each side is a subquery the trigram GIN indexes answer (lead_search_trgm,
    company_name_trgm), instead of UPPER(…) LIKE on four columns of every visible lead and its
    company; words of 3+ characters use them. The person side reads `LeadSearchEntry`, the
    lead's first name, last name and email joined by spaces, kept by the database beside the
    lead (a search word never contains a space, so matching it in the joined text is matching
    it in one of the three fields). SQLite has no trigram index and gets the plain conditions
    (same results).
    """
    if connection.vendor != "postgresql":
        return (
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(email__icontains=word)
            | Q(company__name__icontains=word)
        )
    by_person = LeadSearchEntry.objects.filter(text__icontains=word)
    by_company = Company.objects.filter(name__icontains=word)
    # Looking a person up, the usual search, matches a handful of leads; PostgreSQL can't
    # tell that from the subqueries and walked every lead in score order looking for them
    # (~75 ms at 100k for no match). So the trigram indexes are asked first (two quick
    # queries); few matches become lists of ids, which the planner reads as few. Within one
    # salesperson's leads (`owner_id`) only theirs are counted: a common name matches ~2,000
    # of a team's leads but ~200 of theirs, and as a subquery the planner walked the whole
    # team's score index for them (42 ms) instead of the owner's (5 ms).
    if owner_id is not None:
        by_person = by_person.filter(lead__owner_id=owner_id)
        by_company = by_company.filter(owner_id=owner_id)
    people = list(by_person.order_by().values_list("lead_id", flat=True)[: SEARCH_FEW_LEADS + 1])
    companies = list(by_company.order_by().values_list("pk", flat=True)[: SEARCH_FEW_COMPANIES + 1])
    if len(people) <= SEARCH_FEW_LEADS and len(companies) <= SEARCH_FEW_COMPANIES:
        return Q(pk__in=people) | Q(company__in=companies)
    return Q(pk__in=by_person.values("lead_id")) | Q(company__in=by_company.values("pk"))


# Up to this many matching leads and companies, a search word becomes lists of ids.
SEARCH_FEW_LEADS = 200
SEARCH_FEW_COMPANIES = 50


def leads_filtered(user: User, filters: dict, *, now: datetime | None = None) -> QuerySet[Lead]:
    """The user's visible leads narrowed by the list's filters (all optional)."""
    leads = leads_visible_to(user)
    owner_id = filters.get("owner") if user.is_manager else user.pk
    if owner_id and user.is_manager:
        leads = leads.filter(owner_id=owner_id)
    query = (filters.get("q") or "").strip()
    for word in query.split()[:5]:
        leads = leads.filter(lead_search(word, owner_id=owner_id))
    for name in ("stage", "source", "grade"):
        if filters.get(name):
            leads = leads.filter(**{name: filters[name]})
    follow_up = filters.get("follow_up")
    if follow_up == "yes":
        leads = leads.filter(next_follow_up_at__isnull=False)
    elif follow_up == "no":
        leads = leads.filter(next_follow_up_at__isnull=True)
    elif follow_up == "overdue":
        leads = leads.filter(next_follow_up_at__lt=now or timezone.now())
    elif follow_up == "network":
        leads = leads.filter(in_network_pool())
    if filters.get("cold"):
        leads = leads.filter(going_cold_condition(now))
    return leads


def lead_page(
    leads: QuerySet[Lead], *, sort: str, after: str = "", size: int = 50, with_owner: bool = True
) -> LeadPage:
    """One page of leads by keyset pagination: fast on page 2,000 too, and no COUNT(*).

    The rows are `LeadRow`s, plain values. `with_owner=False` leaves out the owner's name (a
    salesperson's own list doesn't show it).
    """
    field, descending, missing = LEAD_SORTS.get(sort, LEAD_SORTS["score"])
    key = field
    if missing is not None:
        # Nullable column: sort missing values last with a stand-in both sides agree on.
        leads = leads.annotate(sort_key=Coalesce(field, Value(missing)))
        key = "sort_key"
    order = [f"-{key}", "-id"] if descending else [key, "id"]
    leads = leads.order_by(*order)
    sort_field = Lead._meta.get_field(field)
    if not isinstance(sort_field, Field):
        raise TypeError(f"The lead list cannot sort by the relation {field!r}.")
    cursor = _read_cursor(after, sort_field)
    if cursor is not None:
        value, last_id = cursor
        leads = leads.filter(
            RowComparison(
                (F(key), F("id")),
                "<" if descending else ">",
                (Value(value, output_field=sort_field), Value(last_id)),
            )
        )
    # The page's ids first, then its rows: the ids come from the sort index alone where it holds
    # the filters' columns (an index-only scan), so a walk past thousands of leads that don't
    # match (a deep page of a filtered list, a search) reads no table rows; the table is read
    # for the page's rows only. One query (a subquery), PostgreSQL and SQLite alike.
    page = Lead.objects.filter(pk__in=leads.values("pk")[: size + 1])
    if missing is not None:
        page = page.annotate(sort_key=Coalesce(field, Value(missing)))
    rows = _lead_rows(
        page.order_by(*order), with_owner=with_owner, with_sort_key=missing is not None
    )
    next_cursor = None
    if len(rows) > size:
        rows = rows[:size]
        last = rows[-1]
        next_cursor = _make_cursor(getattr(last, key), last.pk)
    return LeadPage(leads=rows, next_cursor=next_cursor, is_first=cursor is None)


def _lead_rows(page: QuerySet[Lead], *, with_owner: bool, with_sort_key: bool) -> list[LeadRow]:
    columns = [*LEAD_ROW_FIELDS, *(["sort_key"] if with_sort_key else [])]
    width = len(columns)
    if with_owner:
        columns += LEAD_ROW_OWNER_FIELDS
    owners: dict[int, str] = {}
    rows = []
    for values in page.values_list(*columns):
        row = LeadRow(*values[:width])
        if with_owner:
            if row.owner_id not in owners:
                first_name, last_name, username = values[width:]
                owner = User(first_name=first_name, last_name=last_name, username=username)
                owners[row.owner_id] = str(owner)
            row.owner = owners[row.owner_id]
        rows.append(row)
    return rows


class RowComparison(Func):
    """`(a, b) < (x, y)`: a row comparison, true when the left row sorts before the right.

    The keyset condition written as `a < x OR (a = x AND b < y)` means the same, but PostgreSQL
    reads it as a filter and walks the sort index from its start past every earlier row (a deep
    page of the list cost 43-54 ms); as a row comparison it starts the index scan at (x, y)
    (0.3 ms). SQLite (3.15+) has row values too.
    """

    output_field = BooleanField()

    def __init__(
        self, left: tuple[Combinable, ...], operator: str, right: tuple[Combinable, ...]
    ) -> None:
        if operator not in ("<", ">") or len(left) != len(right):
            raise ValueError(f"Cannot compare {len(left)} with {len(right)} values by {operator}.")
        super().__init__(*left, *right)
        self.operator = operator

    def as_sql(self, compiler, connection, **extra_context):
        parts, params = [], []
        for expression in self.get_source_expressions():
            sql, expression_params = compiler.compile(expression)
            parts.append(sql)
            params.extend(expression_params)
        width = len(parts) // 2
        left, right = ", ".join(parts[:width]), ", ".join(parts[width:])
        return f"({left}) {self.operator} ({right})", params


def _make_cursor(value: object, last_id: int) -> str:
    if isinstance(value, datetime):
        value = value.isoformat()
    elif isinstance(value, Decimal):
        value = str(value)
    raw = json.dumps([value, last_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _read_cursor(cursor: str, sort_field: Field) -> tuple[object, int] | None:
    """A cursor from the URL, its value read as the sort column's type; anything malformed
    (or tampered with) means the first page, never an error."""
    if not cursor:
        return None
    try:
        value, last_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        value = sort_field.to_python(value)
    except (ValueError, TypeError, binascii.Error, ValidationError):
        return None
    if not isinstance(last_id, int) or value is None:
        return None
    return value, last_id


# --- Pipeline ------------------------------------------------------------------------------

# Cards a column shows at first and adds per "Show more": the board's HTML stays small however
# many leads a salesperson has (issue 20: no daily page over 80 KB).
PIPELINE_CARDS_PER_PAGE = 20


@dataclass(frozen=True)
class PipelineColumn:
    stage: str
    label: str
    count: int
    value: Decimal


@dataclass(frozen=True)
class PipelineCards:
    """A page of one column's cards, best score first, and the cursor of the next page."""

    cards: list[Lead]
    next_cursor: str | None


def _pipeline_leads(user: User, owner_id: int | None) -> QuerySet[Lead]:
    leads = leads_visible_to(user)
    if owner_id and user.is_manager:
        leads = leads.filter(owner_id=owner_id)
    return leads


def pipeline_board(user: User, *, owner_id: int | None = None) -> list[PipelineColumn]:
    """A column per stage with its count and value (one query); the cards come a page at a
    time from `pipeline_cards`."""
    totals = {
        row["stage"]: row
        for row in _pipeline_leads(user, owner_id)
        .order_by()
        .values("stage")
        .annotate(count=Count("id"), value=Sum("expected_value"))
    }
    return [
        PipelineColumn(
            stage=stage.value,
            label=stage.label,
            count=totals.get(stage.value, {}).get("count", 0),
            value=totals.get(stage.value, {}).get("value") or Decimal(0),
        )
        for stage in Stage
    ]


def pipeline_cards(
    user: User,
    *,
    stage: str,
    owner_id: int | None = None,
    after: str = "",
    size: int = PIPELINE_CARDS_PER_PAGE,
    now: datetime | None = None,
) -> PipelineCards:
    """One page of a column's cards after the cursor `after` (keyset on score and id, like the
    lead list): one query whatever the page."""
    now = now or timezone.now()
    leads = _pipeline_leads(user, owner_id).filter(stage=stage)
    score_field = Lead._meta.get_field("total_score")
    if not isinstance(score_field, Field):
        raise TypeError("total_score is a column")
    cursor = _read_cursor(after, score_field)
    if cursor is not None:
        score, last_id = cursor
        leads = leads.filter(
            RowComparison(
                (F("total_score"), F("id")),
                "<",
                (Value(score, output_field=score_field), Value(last_id)),
            )
        )
    cards: list[Lead] = list(
        leads.select_related("company", "owner")
        .annotate(in_pool=in_network_pool())
        .order_by("-total_score", "-id")[: size + 1]
    )
    next_cursor = None
    if len(cards) > size:
        cards = cards[:size]
        next_cursor = _make_cursor(cards[-1].total_score, cards[-1].pk)
    for card in cards:
        card.is_cold = is_going_cold(card, now)  # type: ignore[attr-defined]  # for the template
    return PipelineCards(cards=cards, next_cursor=next_cursor)


# --- Lead detail ---------------------------------------------------------------------------

# The lead page opens on the latest TIMELINE_FIRST entries (issue 20: drawing 100 entries was
# most of the page's time for a long history); "Show older entries" shows up to TIMELINE_LIMIT.
TIMELINE_FIRST = 25
TIMELINE_LIMIT = 100


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # activity | stage | what a registered source calls its entries
    activity: Activity | None = None
    stage_change: StageChange | None = None
    # A registered source's entry: what it shows and the template partial that shows it.
    item: object = None
    template: str = ""


@dataclass(frozen=True)
class TimelinePart:
    """What a higher app adds to a lead's timeline, and the activities its entries stand for
    (shown by its entries instead of on their own: an email thread holds the email touches)."""

    entries: list[TimelineEntry]
    activity_ids: set[int]


TimelineSource = Callable[[Lead], TimelinePart]
_timeline_sources: list[TimelineSource] = []


def timeline_source_register(source: TimelineSource) -> None:
    """Let a higher app put its own entries on the lead page's timeline.

    `source(lead)` reads them in a fixed number of queries. The emails app registers its
    threads here (in its AppConfig.ready), since leads must not import it. Registering twice
    is a no-op.
    """
    if source not in _timeline_sources:
        _timeline_sources.append(source)


def lead_detail_extras(lead: Lead, *, timeline_limit: int = TIMELINE_FIRST) -> dict[str, object]:
    """What the lead page shows besides the lead: the timeline (activities and stage changes,
    newest first, the latest `timeline_limit`), the pending follow-up and the referrals this
    lead has given. Four queries, however long the lead's history, and each registered
    timeline source's own (emails: one). The change history is its own card (lead_history)."""
    activities = list(
        lead.activities.select_related("user").order_by("-occurred_at", "-id")[:timeline_limit]
    )
    changes = list(
        lead.stage_changes.select_related("changed_by").order_by("-changed_at", "-id")[
            :timeline_limit
        ]
    )
    parts = [source(lead) for source in _timeline_sources]
    shown_elsewhere = {pk for part in parts for pk in part.activity_ids}
    timeline = [
        TimelineEntry(a.occurred_at, "activity", activity=a)
        for a in activities
        if a.pk not in shown_elsewhere
    ]
    timeline += [TimelineEntry(c.changed_at, "stage", stage_change=c) for c in changes]
    timeline += [entry for part in parts for entry in part.entries]
    timeline.sort(key=lambda entry: entry.at, reverse=True)
    source = getattr(lead, "as_referral_source", None)
    referrals_given = list(source.referred_leads.order_by("-created_at")[:50]) if source else []
    return {
        "timeline": timeline[:timeline_limit],
        # Older entries may exist: a read stopped at the limit, or the merged entries passed it.
        "timeline_truncated": len(timeline) > timeline_limit
        or timeline_limit in (len(activities), len(changes)),
        "pending_follow_up": lead.follow_ups.filter(done_at__isnull=True).first(),
        "referrals_given": referrals_given,
    }


# --- Companies -----------------------------------------------------------------------------

COMPANY_CONTACTS_LIMIT = 200


@dataclass(frozen=True)
class CompanyValue:
    """The deal value of a company's leads in one currency."""

    currency: str
    open: Decimal
    won: Decimal


@dataclass(frozen=True)
class CompanySummary:
    contacts: list[Lead]  # best score first, capped
    contact_count: int
    open_count: int
    won_count: int
    values: list[CompanyValue]  # a line per currency that has any value

    @property
    def contacts_truncated(self) -> bool:
        return self.contact_count > len(self.contacts)

    @property
    def open_values(self) -> list[CompanyValue]:
        return [value for value in self.values if value.open]

    @property
    def won_values(self) -> list[CompanyValue]:
        return [value for value in self.values if value.won]


def company_summary(user: User, company: Company) -> CompanySummary:
    """The company page's contacts (the user's visible leads at it) and their open and won
    value by currency: two queries however many contacts."""
    leads = leads_visible_to(user).filter(company=company)
    contacts = list(
        leads.select_related("owner").order_by("-total_score", "-id")[:COMPANY_CONTACTS_LIMIT]
    )
    value = Coalesce(Sum("expected_value", filter=Q(stage__in=OPEN_STAGES)), Value(Decimal(0)))
    won = Coalesce(Sum("expected_value", filter=Q(stage=Stage.WON)), Value(Decimal(0)))
    rows = list(
        leads.order_by("currency")
        .values("currency")
        .annotate(
            count=Count("id"),
            open_count=Count("id", filter=Q(stage__in=OPEN_STAGES)),
            won_count=Count("id", filter=Q(stage=Stage.WON)),
            open=value,
            won=won,
        )
    )
    return CompanySummary(
        contacts=contacts,
        contact_count=sum(row["count"] for row in rows),
        open_count=sum(row["open_count"] for row in rows),
        won_count=sum(row["won_count"] for row in rows),
        values=[
            CompanyValue(row["currency"], Decimal(row["open"]), Decimal(row["won"]))
            for row in rows
            if row["open"] or row["won"]
        ],
    )


def company_industries(user: User, *, limit: int = 200) -> list[str]:
    """The industries the user's companies already have, for the industry field's suggestions:
    picking one keeps "Software" from becoming "software company" on the next lead, and the
    ICP criteria match the text."""
    return list(
        companies_visible_to(user)
        .exclude(industry="")
        .order_by("industry")
        .values_list("industry", flat=True)
        .distinct()[:limit]
    )


# --- Change history ------------------------------------------------------------------------

# Set by every stage move, which the timeline already shows with its reason.
HISTORY_HIDDEN_FIELDS = ("stage_changed_at", "won_at")
# The related rows a history record may point at, joined in so naming them costs no query.
HISTORY_RELATED = ("history_user", "owner", "company", "referred_by", "referral_ask__source")


@dataclass(frozen=True)
class HistoryRow:
    """One field of a lead changed by someone (None: a background job) at a moment."""

    when: datetime
    who: User | None
    field: str
    old: str
    new: str
    is_creation: bool = False


def lead_history(
    lead: Lead, limit: int = 50, *, merged_history: Mapping[int, str] | None = None
) -> list[HistoryRow]:
    """Who changed which field of the lead, from what to what, newest first, at most `limit`
    rows; the lead's creation is the oldest row once the whole history fits.

    One query: the latest `limit + 1` history records (one more than shown, to diff the oldest
    shown against), with the users and related rows joined in; consecutive records are diffed
    in Python. Saves that changed nothing shown produce no row.

    `merged_history` (history_id → name) marks the records a merge brought in from another
    lead (leads.merging): they are another person's, so they are diffed among themselves and
    their rows say whose they were.
    """
    records = list(
        lead.history.select_related(*HISTORY_RELATED).order_by("-history_date", "-history_id")[
            : limit + 1
        ]
    )
    origins = merged_history or {}
    chains: dict[str, list] = {}
    for record in records:
        chains.setdefault(origins.get(record.history_id, ""), []).append(record)
    rows: list[HistoryRow] = []
    for origin, chain in chains.items():
        suffix = f" (merged lead {origin})" if origin else ""
        for newer, older in itertools.pairwise(chain):
            delta = newer.diff_against(older, excluded_fields=HISTORY_HIDDEN_FIELDS)
            for change in delta.changes:
                label = capfirst(_lead_column(change.field).verbose_name)
                rows.append(
                    HistoryRow(
                        when=newer.history_date,
                        who=newer.history_user,
                        field=f"{label}{suffix}",
                        old=_history_value(older, change.field),
                        new=_history_value(newer, change.field),
                    )
                )
        if len(records) <= limit and chain[-1].history_type == "+":
            first = chain[-1]
            rows.append(
                HistoryRow(
                    first.history_date,
                    first.history_user,
                    f"Created{suffix}",
                    "",
                    "",
                    is_creation=True,
                )
            )
    if len(chains) > 1:
        rows.sort(key=lambda row: row.when, reverse=True)  # stable: a record's rows stay together
    return rows[:limit]


def _lead_column(name: str) -> Field:
    """A field the change history records: a column of Lead, never a reverse relation."""
    field = Lead._meta.get_field(name)
    if not isinstance(field, Field):
        raise TypeError(f"Lead.{name} is not a column")
    return field


def _history_value(record: object, name: str) -> str:
    """A field of a history record in words: choice labels, related rows by name."""
    field = _lead_column(name)
    if field.is_relation:
        related = getattr(record, name)  # joined in by HISTORY_RELATED; None when deleted
        related_id = getattr(record, field.attname)
        if related is None:
            return f"#{related_id} (deleted)" if related_id else ""
        return str(related)
    value = getattr(record, name)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value or ""))
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return "" if value is None else str(value)


# --- Duplicates ----------------------------------------------------------------------------


def lead_match_keys(owner: User) -> QuerySet[Lead]:
    """What recognises each of the owner's leads (email, LinkedIn URL, name + company) and which
    of their fillable fields are empty, as dicts, in one query.

    An import reads this once up front and matches every row against it in memory, instead of
    a query per row. Notes are reduced to "has notes" so long notes aren't loaded.
    """
    return (
        Lead.objects.filter(owner=owner)
        .annotate(has_notes=~Q(notes=""))
        .order_by("id")
        .values(
            "id",
            "email",
            "linkedin_url",
            "first_name",
            "last_name",
            "title",
            "phone",
            "company_id",
            "company__name",
            "has_notes",
        )
    )
