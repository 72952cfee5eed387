"""Reads of referral sources, scoped to who is asking."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Count, QuerySet
from django.utils import timezone

from accounts.models import User
from leads.models import Lead, Stage
from referrals.models import ReferralAsk, ReferralSource


def referral_sources_visible_to(user: User) -> QuerySet[ReferralSource]:
    if user.is_manager:
        return ReferralSource.objects.all()
    return ReferralSource.objects.filter(owner=user)


def referral_asks_visible_to(user: User) -> QuerySet[ReferralAsk]:
    if user.is_manager:
        return ReferralAsk.objects.all()
    return ReferralAsk.objects.filter(source__owner=user)


@dataclass(frozen=True)
class RankedSource:
    source: ReferralSource
    referrals_given: int
    days_since_ask: int | None
    rank_score: float


def referral_asks_due(
    user: User, *, now: datetime | None = None, limit: int = 25
) -> list[RankedSource]:
    """Who to ask for a referral this week: the user's own sources whose ask is due by the end
    of the user's week, not opted out, ranked by relationship strength, referrals already given
    and time since the last ask."""
    now = now or timezone.now()
    local = now.astimezone(user.zone)
    end_of_week = (local + timedelta(days=7 - local.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    sources = (
        ReferralSource.objects.filter(owner=user, opted_out=False, next_ask_at__lt=end_of_week)
        .select_related("lead")
        .annotate(given=Count("referred_leads"))
    )
    ranked = [_rank(source, now) for source in sources]
    ranked.sort(key=lambda item: (-item.rank_score, item.source.name))
    return ranked[:limit]


def _rank(source: ReferralSource, now: datetime) -> RankedSource:
    since = source.last_asked_at or source.created_at
    days = max(0, (now - since).days)
    # Strength matters most, a proven referrer next, then how long it has been.
    score = source.strength * 20 + min(source.given, 5) * 10 + min(days, 365) / 365 * 20
    return RankedSource(
        source=source,
        referrals_given=source.given,
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


@dataclass(frozen=True)
class SourceStats:
    referrals_given: int
    won_value_of_tree: Decimal


def referral_tree(source: ReferralSource) -> list[TreeNode]:
    """Who `source` referred, and whom they referred in turn (as far as the chain goes)."""
    leads_by_source, source_of_lead = _referral_graph(source.owner_id)
    return _children(source.pk, leads_by_source, source_of_lead, seen=set())


def referral_source_stats(owner_ids: list[int]) -> dict[int, SourceStats]:
    """For each source of these owners: direct referrals and the won value of their whole tree.

    Two queries for any number of sources: the graph is walked in memory.
    """
    stats: dict[int, SourceStats] = {}
    for owner_id in owner_ids:
        leads_by_source, source_of_lead = _referral_graph(owner_id)
        for source_id in set(leads_by_source) | set(source_of_lead.values()):
            nodes = _children(source_id, leads_by_source, source_of_lead, seen=set())
            stats[source_id] = SourceStats(
                referrals_given=len(leads_by_source.get(source_id, [])),
                won_value_of_tree=sum((_won_value(node) for node in nodes), Decimal(0)),
            )
    return stats


def _referral_graph(owner_id: int):
    leads_by_source: dict[int, list[dict]] = defaultdict(list)
    referred = Lead.objects.filter(owner_id=owner_id, referred_by__isnull=False).order_by("id")
    for lead in referred.values(
        "id", "first_name", "last_name", "email", "stage", "expected_value", "referred_by_id"
    ):
        leads_by_source[lead["referred_by_id"]].append(lead)
    source_of_lead = dict(
        ReferralSource.objects.filter(owner_id=owner_id, lead__isnull=False).values_list(
            "lead_id", "id"
        )
    )
    return leads_by_source, source_of_lead


def _children(source_id, leads_by_source, source_of_lead, *, seen: set[int]) -> list[TreeNode]:
    nodes = []
    for lead in leads_by_source.get(source_id, []):
        if lead["id"] in seen:
            continue  # a referral loop (A referred B who referred A) must not recurse forever
        seen.add(lead["id"])
        name = f"{lead['first_name']} {lead['last_name']}".strip() or lead["email"]
        node = TreeNode(lead["id"], name, lead["stage"], lead["expected_value"] or Decimal(0))
        child_source = source_of_lead.get(lead["id"])
        if child_source is not None:
            node.children = _children(child_source, leads_by_source, source_of_lead, seen=seen)
        nodes.append(node)
    return nodes


def _won_value(node: TreeNode) -> Decimal:
    own = node.value if node.stage == Stage.WON else Decimal(0)
    return own + sum((_won_value(child) for child in node.children), Decimal(0))
