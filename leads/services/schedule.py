"""The cadence's next follow-up for a lead, written where a touch, a stage change or a new lead
needs it, and the denormalised `next_follow_up_at` that Today sorts on.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.models import User
from leads import cadence
from leads.models import (
    FollowUp,
    FollowUpKind,
    FollowUpResolution,
    Lead,
)


@transaction.atomic
def follow_up_schedule(
    *, lead: Lead, user: User, due_at: datetime, kind: str = FollowUpKind.CUSTOM, note: str = ""
) -> FollowUp:
    """A person sets the next step; it replaces whatever was pending."""
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    close_pending(lead, resolution=FollowUpResolution.SUPERSEDED, now=timezone.now())
    follow_up = FollowUp(lead=lead, kind=kind, due_at=due_at, note=note.strip(), created_by=user)
    follow_up.full_clean()
    follow_up.save()
    set_next_follow_up_at(lead, follow_up.due_at)
    return follow_up


def leads_without_pending_follow_up():
    done = FollowUp.objects.filter(lead=OuterRef("pk"), done_at__isnull=False)
    return (
        Lead.objects.filter(
            ~Exists(FollowUp.objects.filter(lead=OuterRef("pk"), done_at__isnull=True))
        )
        .select_related("owner")
        .only(
            "stage",
            "created_at",
            "stage_changed_at",
            "won_at",
            "last_contacted_at",
            "last_inbound_at",
            "unanswered_touches",
            "first_unanswered_at",
            "owner__time_zone",
        )
        .annotate(
            referral_ask_done=Exists(done.filter(kind=FollowUpKind.REFERRAL_ASK)),
            check_in_done=Exists(done.filter(kind=FollowUpKind.CHECK_IN)),
            re_engage_done=Exists(
                done.filter(kind=FollowUpKind.RE_ENGAGE, done_at__gte=OuterRef("stage_changed_at"))
            ),
        )
    )


def cadence_state(
    lead: Lead, done: Iterable[tuple[str, datetime | None]] | None = None
) -> cadence.CadenceState:
    """The cadence's view of a lead; which steps are done comes from annotations (the batch
    job) or, for one lead, from its done follow-ups (kind and done_at, never None for these)."""
    if done is not None:
        done = list(done)
        referral_ask_done = any(kind == FollowUpKind.REFERRAL_ASK for kind, _ in done)
        check_in_done = any(kind == FollowUpKind.CHECK_IN for kind, _ in done)
        re_engage_done = any(
            kind == FollowUpKind.RE_ENGAGE and at is not None and at >= lead.stage_changed_at
            for kind, at in done
        )
    else:
        referral_ask_done = getattr(lead, "referral_ask_done", False)
        check_in_done = getattr(lead, "check_in_done", False)
        re_engage_done = getattr(lead, "re_engage_done", False)
    return cadence.CadenceState(
        stage=lead.stage,
        created_at=lead.created_at,
        stage_changed_at=lead.stage_changed_at,
        won_at=lead.won_at,
        last_contacted_at=lead.last_contacted_at,
        last_inbound_at=lead.last_inbound_at,
        unanswered_touches=lead.unanswered_touches,
        first_unanswered_at=lead.first_unanswered_at,
        referral_ask_done=referral_ask_done,
        check_in_done=check_in_done,
        re_engage_done=re_engage_done,
    )


def reschedule(
    lead: Lead, *, user: User, now: datetime, replace_manual: bool, completed: bool = False
) -> FollowUp | None:
    """Close the pending follow-up (unless it is a person's, kept) and create the cadence's next."""
    pending = lead.follow_ups.select_for_update().filter(done_at__isnull=True).first()
    if pending is not None:
        if pending.created_by_id is not None and not replace_manual:
            return pending
        resolution = FollowUpResolution.DONE if completed else FollowUpResolution.SUPERSEDED
        close_pending(lead, resolution=resolution, now=now)
    state = cadence_state(
        lead, done=lead.follow_ups.filter(done_at__isnull=False).values_list("kind", "done_at")
    )
    due = cadence.due_follow_up(state, lead.owner.zone)
    if due is None:
        set_next_follow_up_at(lead, None)
        return None
    due_at = due.due_at
    if completed:
        # What was just done is today's step: the next one is due tomorrow at the earliest.
        due_at = max(due_at, cadence.add_business_days(now, 1, lead.owner.zone))
    follow_up = FollowUp.objects.create(lead=lead, kind=due.kind, due_at=due_at, rule=due.rule)
    set_next_follow_up_at(lead, follow_up.due_at)
    return follow_up


def close_pending(lead: Lead, *, resolution: str, now: datetime) -> None:
    FollowUp.objects.filter(lead=lead, done_at__isnull=True).update(
        done_at=now, resolution=resolution
    )


def set_next_follow_up_at(lead: Lead, due_at: datetime | None) -> None:
    Lead.objects.filter(pk=lead.pk).update(next_follow_up_at=due_at)
    lead.next_follow_up_at = due_at


def sync_next_follow_up_at(lead_ids: list[int]) -> None:
    from django.db.models import Subquery

    pending_due = FollowUp.objects.filter(lead=OuterRef("pk"), done_at__isnull=True).values(
        "due_at"
    )[:1]
    Lead.objects.filter(pk__in=lead_ids).update(next_follow_up_at=Subquery(pending_due))
