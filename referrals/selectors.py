"""Reads of referral sources, scoped to who is asking."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Case, Count, OuterRef, Q, QuerySet, Subquery, Sum, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from leads.models import OPEN_STAGES, Lead, Stage
from leads.selectors import lead_search
from referrals.models import AskOutcome, ReferralAsk, ReferralSource


def referral_sources_visible_to(user: User) -> QuerySet[ReferralSource]:
    if user.is_manager:
        return ReferralSource.objects.all()
    return ReferralSource.objects.filter(owner=user)


def referral_asks_visible_to(user: User) -> QuerySet[ReferralAsk]:
    if user.is_manager:
        return ReferralAsk.objects.all()
    return ReferralAsk.objects.filter(source__owner=user)


def referral_asks_made(user: User, start: datetime, end: datetime) -> QuerySet[ReferralAsk]:
    """The referral asks the user made in [start, end): each one a touch towards the daily goal
    (registered with leads.selectors.touch_source_register in ReferralsConfig.ready)."""
    return ReferralAsk.objects.filter(asked_by=user, asked_at__gte=start, asked_at__lt=end)


@dataclass(frozen=True)
class RankedSource:
    source: ReferralSource
    referrals_given: int
    days_since_ask: int | None
    rank_score: float


def referral_asks_due(
    user: User, *, now: datetime | None = None, limit: int = 25, with_lead: bool = False
) -> list[RankedSource]:
    """Who to ask for a referral this week: the user's own sources whose ask is due by the end
    of the user's week, not opted out, ranked by relationship strength, referrals already given
    and time since the last ask. `with_lead`: each source's lead is read too (the weekly email
    reaches them through it; the pages do not show it)."""
    now = now or timezone.now()
    local = now.astimezone(user.zone)
    end_of_week = (local + timedelta(days=7 - local.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    # Counted per source in a subquery: joining the referred leads and grouping by every
    # column of the source (and of its lead) took ~18 ms at bench-sam's 200 due sources, the
    # subquery ~3 ms (issue 20).
    sources = ReferralSource.objects.filter(
        owner=user, opted_out=False, next_ask_at__lt=end_of_week
    ).annotate(given=_referred_lead_count())
    if with_lead:
        sources = sources.select_related("lead")
    ranked = [_rank(source, source.given, now) for source in sources]
    ranked.sort(key=lambda item: (-item.rank_score, item.source.name))
    return ranked[:limit]


def _referred_lead_count() -> Coalesce:
    """How many leads name the (outer) source as their referrer, as `Count("referred_leads")`."""
    count = (
        Lead.objects.filter(referred_by=OuterRef("pk"))
        .order_by()
        .values("referred_by")
        .annotate(count=Count("*"))
        .values("count")
    )
    return Coalesce(Subquery(count), 0)


def _rank(source: ReferralSource, given: int, now: datetime) -> RankedSource:
    since = source.last_asked_at or source.created_at
    days = max(0, (now - since).days)
    # Strength matters most, a proven referrer next, then how long it has been.
    score = source.strength * 20 + min(given, 5) * 10 + min(days, 365) / 365 * 20
    return RankedSource(
        source=source,
        referrals_given=given,
        days_since_ask=(now - source.last_asked_at).days if source.last_asked_at else None,
        rank_score=round(score, 2),
    )


@dataclass
class TreeNode:
    lead_id: int
    name: str
    stage: str
    value: Decimal
    children: list[TreeNode] = field(default_factory=list)

    @property
    def stage_label(self) -> str:
        return Stage(self.stage).label

    @property
    def is_won(self) -> bool:
        return self.stage == Stage.WON


@dataclass(frozen=True)
class SourceStats:
    referrals_given: int
    won_value_of_tree: Decimal


def referral_tree(source: ReferralSource) -> list[TreeNode]:
    """Who `source` referred, and whom they referred in turn (as far as the chain goes)."""
    leads_by_source, source_of_lead = _referral_graph([source.owner_id])
    return _children(source.pk, leads_by_source, source_of_lead, seen=set())


def referral_source_stats(
    owner_ids: list[int], *, source_ids: Iterable[int] | None = None
) -> dict[int, SourceStats]:
    """For each source that referred a lead of these owners (or only `source_ids` of them):
    its direct referrals and the won value of its whole tree.

    Two queries for any number of sources and owners. The database counts each source's
    referred leads and sums the won ones; the tree is then walked over sources only, along
    the links "a lead this source referred is itself a source". Each lead has one referrer,
    so the won value of a tree is the sum over the sources it reaches, each once (a referral
    loop included): what walking every lead of the tree gives (`_children`), without reading
    the ~20k referred leads of a team into Python (the referrals report, issue 20).
    """
    referrals_given: dict[int, int] = {}
    won_value: dict[int, Decimal] = {}
    for referrer_id, given, won in (
        Lead.objects.filter(owner_id__in=owner_ids)
        .referred()
        .order_by()
        .values_list("referred_by_id")
        .annotate(given=Count("id"), won=Sum("expected_value", filter=Q(stage=Stage.WON)))
    ):
        referrals_given[referrer_id] = given
        if won is not None:
            won_value[referrer_id] = won
    # Who referred the leads that became sources: from the referred leads' own index.
    sources_referred_by: dict[int, list[int]] = defaultdict(list)
    for referrer_id, source_id in (
        Lead.objects.filter(owner_id__in=owner_ids, as_referral_source__owner_id__in=owner_ids)
        .referred()
        .order_by()
        .values_list("referred_by_id", "as_referral_source")
    ):
        sources_referred_by[referrer_id].append(source_id)
    roots = set(referrals_given)
    if source_ids is not None:
        roots &= set(source_ids)
    return {
        source_id: SourceStats(
            referrals_given=referrals_given[source_id],
            won_value_of_tree=_won_value_of_tree(source_id, won_value, sources_referred_by),
        )
        for source_id in roots
    }


def _won_value_of_tree(
    root: int, won_value: dict[int, Decimal], sources_referred_by: dict[int, list[int]]
) -> Decimal:
    total = Decimal(0)
    reached, waiting = {root}, [root]
    while waiting:
        source_id = waiting.pop()
        total += won_value.get(source_id, 0)
        for child in sources_referred_by.get(source_id, ()):
            if child not in reached:
                reached.add(child)
                waiting.append(child)
    return total


@dataclass(frozen=True)
class SourceRow:
    """One line of the referral sources table."""

    source: ReferralSource
    referrals_given: int
    won_value_of_tree: Decimal
    days_since_ask: int | None
    ask_is_due: bool


def referral_source_rows(
    sources: Iterable[ReferralSource], *, now: datetime | None = None
) -> list[SourceRow]:
    """The sources table: each source with its referrals and the won value of its tree.

    A constant number of queries however many sources and owners the page shows.
    """
    now = now or timezone.now()
    sources = list(sources)
    stats = referral_source_stats(
        sorted({source.owner_id for source in sources}),
        source_ids=[source.pk for source in sources],
    )
    no_stats = SourceStats(referrals_given=0, won_value_of_tree=Decimal(0))
    rows = []
    for source in sources:
        source_stats = stats.get(source.pk, no_stats)
        rows.append(
            SourceRow(
                source=source,
                referrals_given=source_stats.referrals_given,
                won_value_of_tree=source_stats.won_value_of_tree,
                days_since_ask=_days_since(source.last_asked_at, now),
                ask_is_due=(
                    not source.opted_out
                    and source.next_ask_at is not None
                    and source.next_ask_at <= now
                ),
            )
        )
    return rows


def referrals_named_in_asks(source: ReferralSource) -> int:
    """How many people the source named in the asks they answered with "gave N referrals".

    Not the same as its referred leads (the leads whose "Referred by" is the source): a name
    counts there only once it is added as a lead, and a lead may be referred without an ask.
    """
    named = source.asks.filter(outcome=AskOutcome.GAVE).aggregate(total=Sum("referrals_given"))
    return named["total"] or 0


def referral_source_ranked(source: ReferralSource, *, now: datetime | None = None) -> RankedSource:
    """One source as a "who to ask" row, e.g. to redraw the row after an ask."""
    return _rank(source, source.referred_leads.count(), now or timezone.now())


@dataclass(frozen=True)
class TreeTotals:
    leads: int
    won: int
    won_value: Decimal
    open_value: Decimal


def referral_tree_totals(nodes: list[TreeNode]) -> TreeTotals:
    """Totals over a whole referral tree: every lead in it, the won ones and their value."""
    flat: list[TreeNode] = []
    pending = list(nodes)
    while pending:
        node = pending.pop()
        flat.append(node)
        pending.extend(node.children)
    won = [node for node in flat if node.is_won]
    return TreeTotals(
        leads=len(flat),
        won=len(won),
        won_value=sum((node.value for node in won), Decimal(0)),
        open_value=sum((node.value for node in flat if node.stage in OPEN_STAGES), Decimal(0)),
    )


def _days_since(moment: datetime | None, now: datetime) -> int | None:
    return max(0, (now - moment).days) if moment is not None else None


# What the tree shows of each referred lead, as plain tuples in this order.
_TREE_FIELDS = (
    "id",
    "stage",
    "expected_value",
    "referred_by_id",
    "first_name",
    "last_name",
    "email",
)


def _referral_graph(owner_ids: list[int]):
    """The owners' referred leads grouped by who referred them (rows of `_TREE_FIELDS`), and
    the source each lead has become, if any."""
    leads_by_source: dict[int, list[tuple]] = defaultdict(list)
    referred = Lead.objects.filter(owner_id__in=owner_ids).referred().order_by("id")
    for lead in referred.values_list(*_TREE_FIELDS):
        leads_by_source[lead[3]].append(lead)
    source_of_lead = dict(
        ReferralSource.objects.filter(owner_id__in=owner_ids, lead__isnull=False).values_list(
            "lead_id", "id"
        )
    )
    return leads_by_source, source_of_lead


def _children(source_id, leads_by_source, source_of_lead, *, seen: set[int]) -> list[TreeNode]:
    nodes = []
    for lead_id, stage, value, _referred_by, first_name, last_name, email in leads_by_source.get(
        source_id, ()
    ):
        if lead_id in seen:
            continue  # a referral loop (A referred B who referred A) must not recurse forever
        seen.add(lead_id)
        name = f"{first_name} {last_name}".strip() or email
        node = TreeNode(lead_id, name, stage, value or Decimal(0))
        child_source = source_of_lead.get(lead_id)
        if child_source is not None:
            node.children = _children(child_source, leads_by_source, source_of_lead, seen=seen)
        nodes.append(node)
    return nodes


# --- "Referred by" type-ahead --------------------------------------------------------------

REFERRER_OPTIONS = 8


@dataclass(frozen=True)
class ReferrerOption:
    """One line of the "Referred by" type-ahead: the token a lead form posts back, and who."""

    token: str
    name: str
    detail: str


def referrer_options(
    owner: User, query: str, *, exclude_lead_id: int | None = None, limit: int = REFERRER_OPTIONS
) -> list[ReferrerOption]:
    """Who may be credited for a lead of `owner`: their referral sources first, then won
    customers, then other leads, matching every word typed (name, email or company).

    Leads that are already a source appear once, as the source. Two queries.
    """
    words = query.split()[:5]
    sources = ReferralSource.objects.filter(owner=owner).select_related("lead__company")
    for word in words:
        sources = sources.filter(
            Q(name__icontains=word)
            | Q(email__icontains=word)
            | Q(lead__company__name__icontains=word)
        )
    if exclude_lead_id is not None:
        sources = sources.exclude(lead_id=exclude_lead_id)
    options = [
        ReferrerOption(
            f"source:{source.pk}",
            source.name,
            " · ".join(
                filter(
                    None,
                    [
                        f"Referral source · {source.get_kind_display()}",
                        source.lead.company.name if source.lead and source.lead.company else "",
                    ],
                )
            ),
        )
        for source in sources.order_by("name", "pk")[:limit]
    ]
    if len(options) >= limit or not words:
        return options
    leads = Lead.objects.filter(owner=owner, as_referral_source__isnull=True).select_related(
        "company"
    )
    for word in words:
        leads = leads.filter(lead_search(word, owner_id=owner.pk))
    if exclude_lead_id is not None:
        leads = leads.exclude(pk=exclude_lead_id)
    won_first = Case(When(stage=Stage.WON, then=0), default=1)
    for lead in leads.order_by(won_first, "-total_score", "-id")[: limit - len(options)]:
        kind = "Won customer" if lead.stage == Stage.WON else f"Lead · {lead.get_stage_display()}"
        company = f" · {lead.company.name}" if lead.company else ""
        options.append(ReferrerOption(f"lead:{lead.pk}", lead.full_name, f"{kind}{company}"))
    return options


def referral_source_ids_of_leads(lead_ids: Iterable[int]) -> set[int]:
    """The referral sources that are these leads (made from them when they were won)."""
    return set(ReferralSource.objects.filter(lead__in=list(lead_ids)).values_list("pk", flat=True))


def referred_lead_count_of(lead: Lead) -> int | None:
    """How many leads the referral source made from `lead` referred; None when it is none."""
    source = ReferralSource.objects.filter(lead=lead).first()
    return source.referred_leads.count() if source is not None else None
