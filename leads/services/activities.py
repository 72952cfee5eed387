"""Logging touches and hand-raise signals on a lead, and completing or snoozing its follow-ups.

A logged touch moves the cadence on (`schedule.reschedule`) and may move the lead's stage; a
hand-raise signal asks for a rescore, since intent is part of the score.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from leads import cadence
from leads.dependents import request_rescore
from leads.models import (
    HAND_RAISE_KINDS,
    Activity,
    ActivityKind,
    Direction,
    FollowUp,
    FollowUpKind,
    FollowUpResolution,
    Lead,
)
from leads.services.schedule import (
    cadence_state,
    follow_up_schedule,
    leads_without_pending_follow_up,
    reschedule,
    set_next_follow_up_at,
    sync_next_follow_up_at,
)
from leads.services.stages import lead_change_stage
from leads.services.validation import validate

ACTIVITY_FUTURE_TOLERANCE = timedelta(days=1)


@dataclass(frozen=True)
class NextStep:
    """The follow-up a logged activity leaves pending: the cadence's plan as shown before
    saving, or what the salesperson changed it to."""

    kind: str
    due_at: datetime
    note: str = ""
    # A follow-up a person planned, which this activity leaves in place.
    kept: bool = False

    def get_kind_display(self) -> str:
        return FollowUpKind(self.kind).label


def _direction_of(kind: str, direction: str | None) -> str:
    if direction is not None:
        return direction
    return Direction.INBOUND if kind in HAND_RAISE_KINDS else Direction.OUTBOUND


def activity_log_preview(
    *,
    lead: Lead,
    kind: str,
    outcome: str = "",
    direction: str | None = None,
    occurred_at: datetime | None = None,
    now: datetime | None = None,
) -> NextStep | None:
    """The follow-up `activity_log` would leave pending for this activity; writes nothing.

    A read, but it lives beside the write it mirrors: both go through cadence.after_activity,
    so what the log form shows is what saving it plans. Two queries.
    """
    now = now or timezone.now()
    follow_ups = list(
        lead.follow_ups.values_list("kind", "done_at", "due_at", "note", "created_by")
    )
    pending = next((row for row in follow_ups if row[1] is None), None)
    done = [(row[0], row[1]) for row in follow_ups if row[1] is not None]
    facts = cadence.ActivityFacts(
        kind=kind,
        direction=_direction_of(kind, direction),
        occurred_at=occurred_at or now,
        outcome=outcome,
    )
    change = cadence.after_activity(cadence_state(lead, done=done), facts, now=now)
    person_planned = pending is not None and pending[4] is not None
    if not change.moves_plan or (change.keeps_a_persons_follow_up and person_planned):
        if pending is None:
            return None
        return NextStep(kind=pending[0], due_at=pending[2], note=pending[3], kept=True)
    due = cadence.next_after_activity(change, lead.owner.zone, now=now)
    return NextStep(kind=due.kind, due_at=due.due_at) if due else None


@transaction.atomic
def activity_log(
    *,
    lead: Lead,
    user: User,
    kind: str,
    outcome: str = "",
    direction: str | None = None,
    occurred_at: datetime | None = None,
    text: str = "",
    next_step: NextStep | None = None,
    now: datetime | None = None,
) -> Activity:
    """Record a touch or a signal, and move the lead, its intent and its follow-ups along.

    How the lead moves is cadence.after_activity's rule; any touch or signal (not a note)
    completes the pending follow-up and sets the next one. `next_step`, when given, is the
    follow-up the salesperson saw (and perhaps changed) before saving: it is what stays pending.
    """
    now = now or timezone.now()
    occurred_at = occurred_at or now
    if kind not in ActivityKind.values:
        raise ValidationError({"kind": f"Unknown activity kind {kind!r}."})
    if occurred_at > now + ACTIVITY_FUTURE_TOLERANCE:
        raise ValidationError({"occurred_at": "An activity can't be dated more than a day ahead."})
    direction = _direction_of(kind, direction)
    activity = Activity(
        lead=lead,
        user=user,
        kind=kind,
        outcome=outcome,
        direction=direction,
        occurred_at=occurred_at,
        text=text.strip(),
    )
    validate(activity)
    activity.save()

    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    facts = cadence.ActivityFacts(
        kind=kind, direction=direction, occurred_at=occurred_at, outcome=outcome
    )
    change = cadence.after_activity(cadence_state(lead), facts, now=now)
    if change.moves_plan:
        contact_fields = [
            "last_contacted_at",
            "last_inbound_at",
            "unanswered_touches",
            "first_unanswered_at",
        ]
        for name in contact_fields:
            setattr(lead, name, getattr(change.state, name))
        lead.save(update_fields=[*contact_fields, "updated_at"])
        if change.to_stage:
            lead_change_stage(
                lead=lead, to_stage=change.to_stage, user=user, reason=change.reason, now=now
            )
        else:
            lead.refresh_from_db()
            reschedule(lead, user=user, now=now, replace_manual=True, completed=True)
    if next_step is not None:
        _keep_to_next_step(lead, user=user, next_step=next_step)
    if kind in HAND_RAISE_KINDS:
        request_rescore(lead.pk)
    return activity


def _keep_to_next_step(lead: Lead, *, user: User, next_step: NextStep) -> FollowUp:
    """Leave pending the follow-up the salesperson saw: the cadence's when they kept it as
    shown, else theirs (which, like any person's plan, a later stage move within the
    pipeline keeps)."""
    pending = lead.follow_ups.select_for_update().filter(done_at__isnull=True).first()
    shown = (next_step.kind, next_step.due_at, next_step.note.strip())
    if pending is not None and (pending.kind, pending.due_at, pending.note) == shown:
        return pending
    return follow_up_schedule(
        lead=lead,
        user=user,
        due_at=next_step.due_at,
        kind=next_step.kind,
        note=next_step.note,
    )


@transaction.atomic
def follow_up_complete(
    *,
    follow_up: FollowUp,
    user: User,
    touch_kind: str = "",
    outcome: str = "",
    now: datetime | None = None,
) -> FollowUp | None:
    """Mark a follow-up done and set the lead's next one; returns the next one, if any.

    With `touch_kind` (a call, an email…) the follow-up was done by a touch: it is logged as an
    activity with its `outcome`, so it counts towards the day's goal and the cadence moves on
    from how it went. Completing twice is harmless: a follow-up already done is left as it is
    and nothing is logged again.
    """
    now = now or timezone.now()
    follow_up = FollowUp.objects.select_for_update().select_related("lead").get(pk=follow_up.pk)
    if follow_up.done_at is not None:
        return follow_up.lead.follow_ups.filter(done_at__isnull=True).first()
    follow_up.done_at = now
    follow_up.resolution = FollowUpResolution.DONE
    follow_up.save(update_fields=["done_at", "resolution"])
    if touch_kind:
        # Closed first, so the touch's reschedule plans the next step instead of keeping this one.
        activity_log(lead=follow_up.lead, user=user, kind=touch_kind, outcome=outcome, now=now)
        return follow_up.lead.follow_ups.filter(done_at__isnull=True).first()
    return reschedule(follow_up.lead, user=user, now=now, replace_manual=True, completed=True)


@transaction.atomic
def follow_up_snooze(
    *,
    follow_up: FollowUp,
    user: User,
    days: int = 3,
    until: date | None = None,
    now: datetime | None = None,
) -> FollowUp:
    """Push a pending follow-up `days` days later, or to the day `until`, at the start of the
    owner's working day."""
    now = now or timezone.now()
    follow_up = (
        FollowUp.objects.select_for_update()
        .select_related("lead", "lead__owner")
        .get(pk=follow_up.pk)
    )
    zone = follow_up.lead.owner.zone
    if until is not None:
        today = now.astimezone(zone).date()
        if until <= today or until > today + timedelta(days=365):
            raise ValidationError({"until": "Pick a day after today, within a year."})
    elif days < 1 or days > 90:
        raise ValidationError({"days": "Snooze for 1 to 90 days."})
    if follow_up.done_at is not None:
        raise ValidationError("This follow-up is already done.")
    if until is not None:
        follow_up.due_at = datetime.combine(
            until, cadence.DEFAULT_RULES.working_day_starts, tzinfo=zone
        )
    else:
        follow_up.due_at = cadence.add_calendar_days(max(now, follow_up.due_at), days, zone)
    follow_up.snooze_count += 1
    follow_up.save(update_fields=["due_at", "snooze_count"])
    set_next_follow_up_at(follow_up.lead, follow_up.due_at)
    return follow_up


def follow_ups_schedule_missing(*, now: datetime | None = None, batch_size: int = 2000) -> int:
    """Give every lead the cadence wants a next step one pending follow-up; returns how many.

    Set-based: leads without a pending follow-up are read in batches with what the cadence needs
    annotated, follow-ups are bulk-created, and the unique "one pending per lead" constraint makes
    a concurrent run or a retry create nothing twice. Running it again changes nothing.
    """
    now = now or timezone.now()
    created = 0
    last_id = 0
    while True:
        batch = list(
            leads_without_pending_follow_up().filter(pk__gt=last_id).order_by("pk")[:batch_size]
        )
        if not batch:
            return created
        last_id = batch[-1].pk
        new = []
        for lead in batch:
            due = cadence.due_follow_up(cadence_state(lead), lead.owner.zone)
            if due is not None:
                new.append(
                    FollowUp(lead_id=lead.pk, kind=due.kind, due_at=due.due_at, rule=due.rule)
                )
        with transaction.atomic():
            # Lock the leads first, as every web write does, skipping any a person is changing
            # right now (that write sets its next step): inserting a follow-up for a lead the
            # web has locked, then updating the leads, deadlocked with it (seen on PostgreSQL).
            free = set(
                Lead.objects.filter(pk__in=[follow_up.lead_id for follow_up in new])
                .order_by("pk")
                .select_for_update(skip_locked=True, no_key=True)
                .values_list("pk", flat=True)
            )
            new = [follow_up for follow_up in new if follow_up.lead_id in free]
            FollowUp.objects.bulk_create(new, ignore_conflicts=True)
            sync_next_follow_up_at([follow_up.lead_id for follow_up in new])
        created += len(new)
