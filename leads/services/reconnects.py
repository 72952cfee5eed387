"""The network pool: reconnect follow-ups for leads with nothing planned, spread a few a day over
the weeks ahead instead of all due at once.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from leads import reconnects
from leads.models import (
    FollowUp,
    FollowUpKind,
    FollowUpResolution,
    Lead,
    Stage,
)
from leads.services.bulk_sql import (
    HISTORY_IDS_PER_STATEMENT,
    reconnects_move,
)
from leads.services.schedule import close_pending, set_next_follow_up_at

# The rule of the reconnect follow-ups the plan owns (a person's own reconnects are left alone).
RECONNECT_RULE = "reconnect"


def _pending_reconnects(owner: User) -> QuerySet[FollowUp]:
    return FollowUp.objects.filter(
        lead__owner=owner,
        kind=FollowUpKind.RECONNECT,
        rule=RECONNECT_RULE,
        done_at__isnull=True,
        created_by__isnull=True,
    )


def reconnect_slots(*, owner: User, now: datetime | None = None) -> reconnects.Slots:
    """The free places in the owner's reconnect plan after what it already holds, from the
    next business day: where an import puts its new contacts (in file order) until
    `reconnects_plan` orders them by their scores. One query, a row per planned day."""
    now = now or timezone.now()
    zone = owner.zone
    first_day = reconnects.first_planned_day(now, zone)
    taken: dict = defaultdict(int)
    planned = (
        _pending_reconnects(owner)
        .filter(due_at__gte=datetime.combine(first_day, datetime.min.time(), tzinfo=zone))
        .order_by()
        .values("due_at")
        .annotate(count=models.Count("id"))
        .values_list("due_at", "count")
    )
    for due_at, count in planned:
        taken[due_at.astimezone(zone).date()] += count
    return reconnects.Slots(
        per_day=owner.reconnects_per_day, first_day=first_day, zone=zone, taken=taken
    )


def reconnects_plan(*, owner: User, now: datetime | None = None) -> int:
    """Give the owner's network pool its days: best fit first, `reconnects_per_day` a day from
    the next business day (see `leads.reconnects` for what is settled and what moves).
    Returns how many reconnects moved; running it again moves none.

    Set-based: one read of the pool, then per 900 moved reconnects one lock of their leads,
    one UPDATE of the follow-ups and one of the leads' next_follow_up_at. Leads a person is
    changing right now are skipped (their write may replace the reconnect) and planned on the
    next run; the leads are locked before their follow-ups, as every web write does, so the
    two cannot deadlock.
    """
    now = now or timezone.now()
    rows = _pending_reconnects(owner).values_list(
        "id", "lead_id", "due_at", "snooze_count", "lead__fit_score", "lead__total_score"
    )
    entries = [
        reconnects.PoolEntry(
            follow_up_id=follow_up_id,
            lead_id=lead_id,
            due_at=due_at,
            fit_score=fit_score,
            total_score=total_score,
            snoozed=snooze_count > 0,
        )
        for follow_up_id, lead_id, due_at, snooze_count, fit_score, total_score in rows.iterator(
            chunk_size=5000
        )
    ]
    moves = reconnects.plan(entries, per_day=owner.reconnects_per_day, now=now, zone=owner.zone)
    lead_of = {entry.follow_up_id: entry.lead_id for entry in entries}
    ids = sorted(moves)
    moved = 0
    for start in range(0, len(ids), HISTORY_IDS_PER_STATEMENT):
        chunk = ids[start : start + HISTORY_IDS_PER_STATEMENT]
        with transaction.atomic():
            free = set(
                Lead.objects.filter(pk__in=sorted({lead_of[pk] for pk in chunk}))
                .order_by("pk")
                .select_for_update(skip_locked=True, no_key=True)
                .values_list("pk", flat=True)
            )
            moving = [(pk, lead_of[pk], moves[pk]) for pk in chunk if lead_of[pk] in free]
            # Still pending and still the plan's: one done or replaced meanwhile is left as is.
            moved += reconnects_move(moving, rule=RECONNECT_RULE)
    return moved


def reconnects_plan_all(*, now: datetime | None = None) -> int:
    """Beat: plan every active owner's network pool again (see `reconnects_plan`)."""
    now = now or timezone.now()
    owners = User.objects.filter(
        is_active=True,
        pk__in=FollowUp.objects.filter(
            kind=FollowUpKind.RECONNECT, rule=RECONNECT_RULE, done_at__isnull=True
        ).values("lead__owner_id"),
    ).order_by("pk")
    return sum(reconnects_plan(owner=owner, now=now) for owner in owners)


def reconnects_plan_after_settings(user: User, changed: frozenset[str]) -> None:
    """A settings hook (see `accounts.services`): a new number per day or time zone re-plans
    the pool at once, not at the next beat run."""
    if changed & {"reconnects_per_day", "time_zone"}:
        reconnects_plan(owner=user)


@transaction.atomic
def lead_reconnect_add(*, lead: Lead, user: User, now: datetime | None = None) -> FollowUp:
    """Put one of the owner's leads into their network pool (prospecting's "add to my
    reconnects"): its pending follow-up, if any, is replaced by a reconnect in the plan's next
    free place, which the plan then owns like an imported contact's. A lead already in the pool
    keeps its reconnect (returned as it is). Raises ValidationError for a closed lead or one
    marked do-not-contact."""
    now = now or timezone.now()
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    pending = FollowUp.objects.filter(lead=lead, done_at__isnull=True).first()
    if pending is not None and pending.kind == FollowUpKind.RECONNECT:
        return pending
    if lead.stage in (Stage.WON, Stage.LOST):
        raise ValidationError(f"{lead} is {lead.get_stage_display().lower()}: reopen them first.")
    if lead.do_not_contact:
        raise ValidationError(f"{lead} asked not to be contacted.")
    if pending is not None:
        close_pending(lead, resolution=FollowUpResolution.SUPERSEDED, now=now)
    (due_at,) = reconnect_slots(owner=lead.owner, now=now).take(1)
    follow_up = FollowUp.objects.create(
        lead=lead, kind=FollowUpKind.RECONNECT, due_at=due_at, rule=RECONNECT_RULE
    )
    set_next_follow_up_at(lead, due_at)
    return follow_up
