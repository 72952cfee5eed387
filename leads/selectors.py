"""Reads of leads and their records, always scoped to who is asking.

A salesperson sees their own rows only; a sales manager sees the whole team. Every page, export
and task that reads leads starts from one of these functions.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Count, F, Func, Q, QuerySet, Sum, TextField, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.text import capfirst

from accounts.models import User
from leads.models import (
    OPEN_STAGES,
    STAGE_LIMIT_DAYS,
    TOUCH_KINDS,
    Activity,
    Company,
    FollowUp,
    FollowUpKind,
    Lead,
    Stage,
    StageChange,
)


def leads_visible_to(user: User) -> QuerySet[Lead]:
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
    """Open leads that have sat in their stage longer than the stage's limit."""
    now = now or timezone.now()
    condition = Q(pk__in=[])
    for stage, days in STAGE_LIMIT_DAYS.items():
        condition |= Q(stage=stage, stage_changed_at__lt=now - timedelta(days=days))
    return condition


def is_going_cold(lead: Lead, now: datetime | None = None) -> bool:
    limit = STAGE_LIMIT_DAYS.get(lead.stage)
    if limit is None:
        return False
    return lead.stage_changed_at < (now or timezone.now()) - timedelta(days=limit)


def follow_ups_due(user: User, *, until: datetime) -> QuerySet[FollowUp]:
    """The user's own pending follow-ups due up to `until` (overdue included), soonest first."""
    return (
        FollowUp.objects.filter(lead__owner=user, done_at__isnull=True, due_at__lte=until)
        .select_related("lead", "lead__company")
        .order_by("due_at", "id")
    )


def hand_raisers_new(user: User, *, since: datetime) -> QuerySet[Lead]:
    """The user's open leads who reached out since `since` and have not been answered yet."""
    return Lead.objects.filter(
        owner=user,
        stage__in=OPEN_STAGES,
        last_inbound_at__gte=since,
    ).filter(Q(last_contacted_at__isnull=True) | Q(last_contacted_at__lt=F("last_inbound_at")))


# --- Today ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueItem:
    """One thing to do now on the Today page."""

    kind: str  # follow_up | hand_raiser | going_cold
    lead: Lead
    follow_up: FollowUp | None
    reason: str
    overdue: bool
    priority: float

    @property
    def row_id(self) -> str:
        return f"queue-{self.kind}-{self.follow_up.pk if self.follow_up else self.lead.pk}"


@dataclass(frozen=True)
class TodayQueue:
    items: list[QueueItem]
    more_due: bool
    not_contacted: list[Lead]
    touches_today: int
    goal: int

    @property
    def progress_percent(self) -> int:
        return min(100, round(100 * self.touches_today / self.goal)) if self.goal else 100


TODAY_QUEUE_LIMIT = 40


def local_day_bounds(user: User, now: datetime) -> tuple[datetime, datetime]:
    """Start and end of the user's current day, as aware datetimes."""
    local = now.astimezone(user.zone)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


def touches_today(user: User, *, now: datetime | None = None) -> int:
    start, end = local_day_bounds(user, now or timezone.now())
    return Activity.objects.filter(
        user=user, kind__in=TOUCH_KINDS, occurred_at__gte=start, occurred_at__lt=end
    ).count()


def today_queue(user: User, *, now: datetime | None = None) -> TodayQueue:
    """What to do now, ranked by score and value: due and overdue follow-ups, new hand-raisers
    and leads going cold, plus the best leads never contacted and the touch goal's progress.

    A fixed number of queries whatever the number of leads.
    """
    now = now or timezone.now()
    start, end = local_day_bounds(user, now)
    due = list(
        follow_ups_due(user, until=end).select_related("lead__company")[: TODAY_QUEUE_LIMIT + 1]
    )
    more_due = len(due) > TODAY_QUEUE_LIMIT
    due = due[:TODAY_QUEUE_LIMIT]
    items: dict[int, QueueItem] = {}
    for follow_up in due:
        overdue = follow_up.due_at < start
        hand_raised = follow_up.kind == FollowUpKind.RESPOND
        reason = follow_up.get_kind_display()
        items[follow_up.lead_id] = QueueItem(
            kind="hand_raiser" if hand_raised else "follow_up",
            lead=follow_up.lead,
            follow_up=follow_up,
            reason=reason,
            overdue=overdue,
            priority=_priority(follow_up.lead, overdue=overdue, hand_raised=hand_raised),
        )
    for lead in hand_raisers_new(user, since=now - timedelta(days=7)).select_related("company")[
        :20
    ]:
        if lead.pk not in items:
            items[lead.pk] = QueueItem(
                "hand_raiser", lead, None, "Raised a hand", False, _priority(lead, hand_raised=True)
            )
    cold = (
        Lead.objects.filter(owner=user)
        .filter(going_cold_condition(now))
        .exclude(next_follow_up_at__lt=end)
        .select_related("company")
        .order_by("-total_score", "-id")[:10]
    )
    for lead in cold:
        if lead.pk not in items:
            reason = f"Going cold in {lead.get_stage_display()}"
            items[lead.pk] = QueueItem("going_cold", lead, None, reason, False, _priority(lead) - 5)
    ranked = sorted(items.values(), key=lambda item: (-item.priority, item.lead.pk))
    not_contacted = list(
        Lead.objects.filter(owner=user, stage=Stage.NEW, last_contacted_at__isnull=True)
        .exclude(pk__in=list(items))
        .select_related("company")
        .order_by("-total_score", "-id")[:5]
    )
    return TodayQueue(
        items=ranked,
        more_due=more_due,
        not_contacted=not_contacted,
        touches_today=touches_today(user, now=now),
        goal=user.daily_touch_goal,
    )


def queue_item_for(*, lead: Lead, follow_up: FollowUp | None, now: datetime | None = None):
    """One lead's Today row outside the queue: an action refused shows the row again."""
    if follow_up is None:
        if lead.last_inbound_at and (
            lead.last_contacted_at is None or lead.last_contacted_at < lead.last_inbound_at
        ):
            return QueueItem("hand_raiser", lead, None, "Raised a hand", False, 0)
        return QueueItem(
            "going_cold", lead, None, f"Going cold in {lead.get_stage_display()}", False, 0
        )
    start, _ = local_day_bounds(lead.owner, now or timezone.now())
    kind = "hand_raiser" if follow_up.kind == FollowUpKind.RESPOND else "follow_up"
    overdue = follow_up.due_at < start
    return QueueItem(kind, lead, follow_up, follow_up.get_kind_display(), overdue, 0)


def _priority(lead: Lead, *, overdue: bool = False, hand_raised: bool = False) -> float:
    """Score first, then deal value (capped so one big deal can't bury everything)."""
    value = float(lead.expected_value or 0)
    return (
        lead.total_score
        + min(value / 2000, 20)
        + (10 if overdue else 0)
        + (15 if hand_raised else 0)
    )


# --- Lead list -----------------------------------------------------------------------------

# Sort name → (field, descending, value for a missing field so those rows sort last).
LEAD_SORTS: dict[str, tuple[str, bool, object]] = {
    "score": ("total_score", True, None),
    "name": ("last_name", False, None),
    "created": ("id", True, None),
    "follow_up": ("next_follow_up_at", False, datetime(9999, 12, 31, tzinfo=UTC)),
    "value": ("expected_value", True, Decimal(-1)),
}


# What a row of the lead list shows (and sorts by). Leaving out the rest, the stored score
# explanation above all (~600 bytes of JSON decoded per row), is a quarter of a page's time.
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
    "company__name",
    "owner__first_name",
    "owner__last_name",
    "owner__username",
)


@dataclass(frozen=True)
class LeadPage:
    leads: list[Lead]
    next_cursor: str | None
    is_first: bool


class LeadSearchText(Func):
    """First name, last name and email joined by spaces: the expression the PostgreSQL trigram
    index lead_search_trgm covers (leads/migrations/0006). A search word never contains a
    space, so matching it in the joined text is matching it in one of the three fields."""

    arg_joiner = " || ' ' || "
    template = "(%(expressions)s)"
    output_field = TextField()

    def __init__(self) -> None:
        super().__init__(F("first_name"), F("last_name"), F("email"))


def lead_search(word: str) -> Q:
    """Leads whose first name, last name, email or company name contains `word`, any case.

    On PostgreSQL each side is a subquery the trigram GIN indexes answer (lead_search_trgm,
    company_name_trgm), instead of UPPER(…) LIKE on four columns of every visible lead and its
    company; words of 3+ characters use them. SQLite has no trigram index and gets the plain
    conditions (same results).
    """
    if connection.vendor != "postgresql":
        return (
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(email__icontains=word)
            | Q(company__name__icontains=word)
        )
    by_person = Lead.objects.alias(search_text=LeadSearchText()).filter(search_text__icontains=word)
    by_company = Company.objects.filter(name__icontains=word)
    # Looking a person up, the usual search, matches a handful of leads; PostgreSQL can't
    # tell that from the subqueries and walked every lead in score order looking for them
    # (~75 ms at 100k for no match). So the trigram indexes are asked first (two quick
    # queries); few matches become lists of ids, which the planner reads as few.
    people = list(by_person.order_by().values_list("pk", flat=True)[: SEARCH_FEW_LEADS + 1])
    companies = list(by_company.order_by().values_list("pk", flat=True)[: SEARCH_FEW_COMPANIES + 1])
    if len(people) <= SEARCH_FEW_LEADS and len(companies) <= SEARCH_FEW_COMPANIES:
        return Q(pk__in=people) | Q(company__in=companies)
    return Q(pk__in=by_person.values("pk")) | Q(company__in=by_company.values("pk"))


# Up to this many matching leads and companies, a search word becomes lists of ids.
SEARCH_FEW_LEADS = 200
SEARCH_FEW_COMPANIES = 50


def leads_filtered(user: User, filters: dict, *, now: datetime | None = None) -> QuerySet[Lead]:
    """The user's visible leads narrowed by the list's filters (all optional)."""
    leads = leads_visible_to(user)
    query = (filters.get("q") or "").strip()
    for word in query.split()[:5]:
        leads = leads.filter(lead_search(word))
    for name in ("stage", "source", "grade"):
        if filters.get(name):
            leads = leads.filter(**{name: filters[name]})
    if filters.get("owner") and user.is_manager:
        leads = leads.filter(owner_id=filters["owner"])
    follow_up = filters.get("follow_up")
    if follow_up == "yes":
        leads = leads.filter(next_follow_up_at__isnull=False)
    elif follow_up == "no":
        leads = leads.filter(next_follow_up_at__isnull=True)
    elif follow_up == "overdue":
        leads = leads.filter(next_follow_up_at__lt=now or timezone.now())
    if filters.get("cold"):
        leads = leads.filter(going_cold_condition(now))
    return leads


def lead_page(leads: QuerySet[Lead], *, sort: str, after: str = "", size: int = 50) -> LeadPage:
    """One page of leads by keyset pagination: fast on page 2,000 too, and no COUNT(*)."""
    field, descending, missing = LEAD_SORTS.get(sort, LEAD_SORTS["score"])
    key = field
    if missing is not None:
        # Nullable column: sort missing values last with a stand-in both sides agree on.
        leads = leads.annotate(sort_key=Coalesce(field, Value(missing)))
        key = "sort_key"
    order = [f"-{key}", "-id"] if descending else [key, "id"]
    leads = leads.order_by(*order)
    cursor = _read_cursor(after)
    if cursor is not None:
        value, last_id = cursor
        value = _cursor_value(value, missing)
        if descending:
            leads = leads.filter(Q(**{f"{key}__lt": value}) | Q(**{key: value, "id__lt": last_id}))
        else:
            leads = leads.filter(Q(**{f"{key}__gt": value}) | Q(**{key: value, "id__gt": last_id}))
    rows = list(leads.select_related("company", "owner").only(*LEAD_ROW_FIELDS)[: size + 1])
    next_cursor = None
    if len(rows) > size:
        rows = rows[:size]
        last = rows[-1]
        next_cursor = _make_cursor(getattr(last, key), last.pk)
    return LeadPage(leads=rows, next_cursor=next_cursor, is_first=cursor is None)


def _make_cursor(value: object, last_id: int) -> str:
    if isinstance(value, datetime):
        value = value.isoformat()
    elif isinstance(value, Decimal):
        value = str(value)
    raw = json.dumps([value, last_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _read_cursor(cursor: str) -> tuple[object, int] | None:
    """A cursor from the URL; anything malformed means the first page, never an error."""
    if not cursor:
        return None
    try:
        value, last_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError, binascii.Error):
        return None
    if not isinstance(last_id, int):
        return None
    return value, last_id


def _cursor_value(value: object, missing: object) -> object:
    if isinstance(missing, datetime) and isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return missing
    if isinstance(missing, Decimal):
        try:
            return Decimal(str(value))
        except ArithmeticError:
            return missing
    return value


# --- Pipeline ------------------------------------------------------------------------------

PIPELINE_CARDS_PER_COLUMN = 25


@dataclass(frozen=True)
class PipelineColumn:
    stage: str
    label: str
    count: int
    value: Decimal
    cards: list[Lead]

    @property
    def more(self) -> int:
        return max(0, self.count - len(self.cards))


def pipeline_board(user: User, *, owner_id: int | None = None) -> list[PipelineColumn]:
    """A column per stage with its count and value, and its best cards (capped)."""
    leads = leads_visible_to(user)
    if owner_id and user.is_manager:
        leads = leads.filter(owner_id=owner_id)
    totals = {
        row["stage"]: row
        for row in leads.order_by()
        .values("stage")
        .annotate(count=Count("id"), value=Sum("expected_value"))
    }
    columns = []
    now = timezone.now()
    for stage in Stage:
        cards = list(
            leads.filter(stage=stage)
            .select_related("company", "owner")
            .order_by("-total_score", "-id")[:PIPELINE_CARDS_PER_COLUMN]
        )
        for card in cards:
            card.is_cold = is_going_cold(card, now)
        total = totals.get(stage.value, {})
        columns.append(
            PipelineColumn(
                stage=stage.value,
                label=stage.label,
                count=total.get("count", 0),
                value=total.get("value") or Decimal(0),
                cards=cards,
            )
        )
    return columns


# --- Lead detail ---------------------------------------------------------------------------

TIMELINE_LIMIT = 100


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # activity | stage
    activity: Activity | None = None
    stage_change: StageChange | None = None


def lead_detail_extras(
    lead: Lead, *, merged_history: Mapping[int, str] | None = None
) -> dict[str, object]:
    """What the lead page shows besides the lead: the timeline (activities and stage changes,
    newest first, capped), the pending follow-up, the referrals this lead has given and the
    change history (`merged_history`: see lead_history). Five queries, however long the
    lead's history."""
    activities = list(
        lead.activities.select_related("user").order_by("-occurred_at", "-id")[:TIMELINE_LIMIT]
    )
    changes = list(
        lead.stage_changes.select_related("changed_by").order_by("-changed_at", "-id")[
            :TIMELINE_LIMIT
        ]
    )
    timeline = [TimelineEntry(a.occurred_at, "activity", activity=a) for a in activities]
    timeline += [TimelineEntry(c.changed_at, "stage", stage_change=c) for c in changes]
    timeline.sort(key=lambda entry: entry.at, reverse=True)
    source = getattr(lead, "as_referral_source", None)
    referrals_given = list(source.referred_leads.order_by("-created_at")[:50]) if source else []
    return {
        "timeline": timeline[:TIMELINE_LIMIT],
        "timeline_truncated": len(activities) == TIMELINE_LIMIT,
        "pending_follow_up": lead.follow_ups.filter(done_at__isnull=True).first(),
        "referrals_given": referrals_given,
        "history": lead_history(lead, merged_history=merged_history),
    }


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
                label = capfirst(Lead._meta.get_field(change.field).verbose_name)
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


def _history_value(record: object, name: str) -> str:
    """A field of a history record in words: choice labels, related rows by name."""
    field = Lead._meta.get_field(name)
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
