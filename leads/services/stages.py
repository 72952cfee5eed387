"""Moving a lead through the pipeline: the stage history, closing or rescheduling follow-ups, the
thank-you follow-up for the referrer when a referred lead qualifies or is won, and undo.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from leads.dependents import customer_won
from leads.models import (
    OPEN_STAGES,
    FollowUp,
    FollowUpKind,
    FollowUpResolution,
    Lead,
    Stage,
    StageChange,
    furthest_stage,
)
from leads.services.schedule import close_pending, reschedule, set_next_follow_up_at


@transaction.atomic
def lead_change_stage(
    *, lead: Lead, to_stage: str, user: User, reason: str = "", now: datetime | None = None
) -> Lead:
    """Move a lead to another stage, record it, and set follow-ups by the cadence rules.

    Lost needs a reason. Won makes the customer a referral source for later asks.
    """
    now = now or timezone.now()
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if to_stage not in Stage.values:
        raise ValidationError({"stage": f"Unknown stage {to_stage!r}."})
    if to_stage == lead.stage:
        raise ValidationError({"stage": f"The lead is already in {lead.get_stage_display()}."})
    reason = reason.strip()
    if to_stage == Stage.LOST and not reason:
        raise ValidationError({"reason": "Say why the lead was lost; the reports use it."})
    from_stage = lead.stage
    lead.stage = to_stage
    lead.stage_changed_at = now
    lead.lost_reason = reason if to_stage == Stage.LOST else ""
    if to_stage == Stage.WON:
        lead.won_at = now
    lead.furthest_stage = furthest_stage(lead.furthest_stage, to_stage)
    lead._history_user = user
    lead.save(
        update_fields=[
            "stage",
            "stage_changed_at",
            "lost_reason",
            "won_at",
            "furthest_stage",
            "updated_at",
        ]
    )
    StageChange.objects.create(
        lead=lead,
        from_stage=from_stage,
        to_stage=to_stage,
        changed_by=user,
        changed_at=now,
        reason=reason,
    )
    # Leaving the open pipeline ends whatever was planned; moving within it keeps a person's plan.
    reschedule(lead, user=user, now=now, replace_manual=to_stage not in OPEN_STAGES)
    if to_stage in THANK_REFERRER_STAGES and lead.referred_by_id:
        _thank_referrer(lead, stage=to_stage, user=user, now=now)
    if to_stage == Stage.WON:
        customer_won(lead=lead, user=user)
    return lead


# A referred lead reaching one of these: the referrer is told how it went, and thanked.
THANK_REFERRER_STAGES = (Stage.QUALIFIED, Stage.WON)


def _thank_referrer(lead: Lead, *, stage: str, user: User, now: datetime) -> FollowUp | None:
    """Put "Thank the referrer" on the referrer's own lead (a customer's, usually), due now.

    A referral source without a lead of its own (a partner, a friend) has nowhere to hold a
    follow-up: its page lists the referred leads to tell them about instead. Once per referred
    lead and stage (the rule names both), so moving back and forth thanks nobody twice.

    A lead holds one pending follow-up. A cadence step pending on the referrer's lead is
    removed, not closed: closed, the cadence would count it done and never ask again; removed,
    the cadence plans it afresh once the thank-you is done. A person's own plan is replaced,
    and the thank-you's note says what it was, so nothing they planned goes unseen.
    """
    referrer = (
        Lead.objects.select_for_update(of=("self",))
        .filter(as_referral_source__pk=lead.referred_by_id)
        .select_related("owner")
        .first()
    )
    if referrer is None or referrer.pk == lead.pk:
        return None
    rule = f"thank_referrer:{lead.pk}:{stage}"
    if referrer.follow_ups.filter(rule=rule).exists():
        return None
    went = "won" if stage == Stage.WON else f"reached {Stage(stage).label}"
    note = f"Tell them {lead.full_name} {went}, and thank them."
    pending = referrer.follow_ups.filter(done_at__isnull=True).first()
    if pending is not None:
        if pending.created_by_id is None:
            pending.delete()
        else:
            was = pending.note or pending.get_kind_display()
            when = timezone.localtime(pending.due_at, referrer.owner.zone)
            note = f"{note} Then: {was} (was due {when:%-d %b})."
            close_pending(referrer, resolution=FollowUpResolution.SUPERSEDED, now=now)
    follow_up = FollowUp.objects.create(
        lead=referrer,
        kind=FollowUpKind.THANK_REFERRER,
        due_at=now,
        note=note[:200],
        rule=rule,
        created_by=user,
    )
    set_next_follow_up_at(referrer, follow_up.due_at)
    return follow_up


@transaction.atomic
def lead_stage_undo(
    *, stage_change: StageChange, user: User, now: datetime | None = None
) -> StageChange:
    """Undo a move: the lead goes back to the stage it came from, through lead_change_stage.

    History stays honest: the undo is a move of its own ("Undo of the move to Lost"), not a
    deleted row. Only the lead's latest move can be undone, and only while the lead is still
    where that move put it. Returns the new stage change.
    """
    lead = Lead.objects.select_for_update().get(pk=stage_change.lead_id)
    latest = lead.stage_changes.order_by("-changed_at", "-id").first()
    if (
        latest is None
        or latest.pk != stage_change.pk
        or lead.stage != stage_change.to_stage
        or not stage_change.from_stage
    ):
        raise ValidationError(
            f"{lead} has moved since: this move can no longer be undone. "
            "Move the lead from its page or the board."
        )
    reason = f"Undo of the move to {stage_change.get_to_stage_display()}"
    if stage_change.from_stage == Stage.LOST:
        # Back to Lost: the lead is lost for the reason it was lost for, which the reports count.
        lost = lead.stage_changes.filter(to_stage=Stage.LOST).exclude(pk=stage_change.pk).first()
        reason = lost.reason if lost and lost.reason else reason
    lead_change_stage(
        lead=lead, to_stage=stage_change.from_stage, user=user, reason=reason, now=now
    )
    return lead.stage_changes.order_by("-changed_at", "-id").first()


def leads_furthest_stage_recount(lead_ids: Iterable[int]) -> None:
    """Work out the leads' furthest stage again from their stage and whole history: after a
    merge, or its undo, moved history rows from one lead to another."""
    lead_ids = list(lead_ids)
    moves: dict[int, list[str]] = defaultdict(list)
    for lead_id, to_stage in StageChange.objects.filter(lead_id__in=lead_ids).values_list(
        "lead_id", "to_stage"
    ):
        moves[lead_id].append(to_stage)
    for lead_id, stage in Lead.objects.filter(pk__in=lead_ids).values_list("pk", "stage"):
        Lead.objects.filter(pk=lead_id).update(
            furthest_stage=furthest_stage(stage, *moves[lead_id])
        )
