"""Writes to leads, companies, activities and follow-ups: the only way the app changes them.

Each service validates, writes inside one transaction, keeps the denormalised fields the
dashboard relies on (next_follow_up_at, last_contacted_at, …) in step, and asks for a rescore
after commit.
"""

from __future__ import annotations

import functools
import json
import operator
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core import validators
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, models, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet, UniqueConstraint
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from accounts.models import User
from audit.models import AuditAction
from audit.services import audit_event_record
from icp.rescoring import leads_rescore_now, request_owner_rescore, request_rescore
from leads import cadence, reconnects
from leads.models import (
    HAND_RAISE_KINDS,
    OPEN_STAGES,
    Activity,
    ActivityKind,
    Company,
    Direction,
    FollowUp,
    FollowUpKind,
    FollowUpResolution,
    Lead,
    Source,
    Stage,
    StageChange,
)
from leads.normalize import (
    normalize_domain,
    normalize_email,
    normalize_linkedin_url,
    normalize_phone,
)
from leads.referrers import ReferrerChoice, resolve_referrer
from leads.seniority import seniority_from_title

# Fields a person may set on a lead; scores, owner and denormalised fields are not among them.
EDITABLE_LEAD_FIELDS = (
    "first_name",
    "last_name",
    "title",
    "seniority",
    "email",
    "phone",
    "linkedin_url",
    "company",
    "source",
    "source_detail",
    "referred_by",
    "expected_value",
    "currency",
    "do_not_contact",
    "tags",
    "notes",
)
# Edits to these change what the scoring sees.
SCORED_FIELDS = {"title", "seniority", "company", "source", "referred_by", "tags"}
# The facts of a company a person may set, and those among them the scoring reads.
EDITABLE_COMPANY_FIELDS = (
    "name",
    "domain",
    "industry",
    "employee_count",
    "annual_revenue",
    "country",
    "region",
    "city",
    "website",
    "tags",
)
SCORED_COMPANY_FIELDS = {
    "industry",
    "employee_count",
    "annual_revenue",
    "country",
    "region",
    "city",
    "tags",
}
# Up to this many leads of a company are rescored before an edit of its facts returns (a few
# statements for all of them); a bigger account's are rescored in the background.
COMPANY_RESCORE_NOW_UP_TO = 500
ACTIVITY_FUTURE_TOLERANCE = timedelta(days=1)


# --- Companies -----------------------------------------------------------------------------


@transaction.atomic
def company_create(*, owner: User, name: str, domain: str = "", **fields: object) -> Company:
    company = Company(owner=owner, name=name, domain=domain, **fields)
    _normalise_company(company)
    _validate(company)
    company.save()
    return company


@transaction.atomic
def company_update(*, company: Company, user: User, **fields: object) -> Company:
    """Change a company's facts (what a salesperson found out researching it).

    When the scoring reads a changed fact, the company's leads are rescored before this
    returns, in this transaction: the page that saved the facts shows the new scores at once.
    A company with more than COMPANY_RESCORE_NOW_UP_TO leads has them rescored in the
    background instead. Anything but EDITABLE_COMPANY_FIELDS is refused.
    """
    unknown = set(fields) - set(EDITABLE_COMPANY_FIELDS)
    if unknown:
        raise TypeError(f"company_update() got fields it does not accept: {sorted(unknown)}")
    before = {name: getattr(company, name) for name in fields}
    for name, value in fields.items():
        setattr(company, name, value)
    _normalise_company(company)
    _validate(company)
    changed = {name for name in fields if getattr(company, name) != before[name]}
    if not changed:
        return company
    company.save(update_fields=[*sorted(changed), "updated_at"])
    if SCORED_COMPANY_FIELDS & changed:
        _rescore_company_leads(company)
    return company


@transaction.atomic
def lead_company_update(*, lead: Lead, user: User, **fields: object) -> Company:
    """Save the company facts researched for a lead, from the lead's page: its company's, or,
    when it has none, a new company's that the lead is then linked to. Either way the lead is
    rescored before this returns (see `company_update`)."""
    if lead.company_id is not None:
        return company_update(company=lead.company, user=user, **fields)
    company = company_create(owner=lead.owner, **fields)
    lead_update(lead=lead, user=user, company=company, rescore_now=True)
    return company


def _normalise_company(company: Company) -> None:
    for name in ("name", "industry", "region", "city"):
        setattr(company, name, (getattr(company, name) or "").strip())
    company.domain = normalize_domain(company.domain or "")
    company.country = (company.country or "").strip().upper()
    company.tags = _clean_tags(company.tags)


def _rescore_company_leads(company: Company) -> None:
    lead_ids = list(
        Lead.objects.filter(company=company, owner_id=company.owner_id)
        .order_by("pk")
        .values_list("pk", flat=True)[: COMPANY_RESCORE_NOW_UP_TO + 1]
    )
    if len(lead_ids) > COMPANY_RESCORE_NOW_UP_TO:
        request_owner_rescore(company.owner_id)
    else:
        leads_rescore_now(owner_id=company.owner_id, lead_ids=lead_ids)


def company_find_or_create(*, owner: User, name: str = "", domain: str = "") -> Company | None:
    """The owner's company with this domain (or, lacking one, this name), created if new."""
    domain = normalize_domain(domain)
    name = name.strip()
    if not name and not domain:
        return None
    existing = Company.objects.filter(owner=owner)
    match = existing.filter(domain=domain).first() if domain else None
    if match is None and name:
        match = existing.filter(name__iexact=name).order_by("id").first()
    if match is not None:
        if domain and not match.domain:
            match.domain = domain
            match.save(update_fields=["domain", "updated_at"])
        return match
    return company_create(owner=owner, name=name or domain, domain=domain)


# --- Leads ---------------------------------------------------------------------------------


@transaction.atomic
def lead_create(
    *,
    owner: User,
    created_by: User | None = None,
    stage: str = Stage.NEW,
    now: datetime | None = None,
    **fields: object,
) -> Lead:
    """Create a lead with its first stage-history row and its first follow-up."""
    now = now or timezone.now()
    lead = _unsaved_lead("lead_create", owner=owner, stage=stage, now=now, fields=fields)
    _validate(lead)
    # The history names who did it in a Celery task (an import) as well as in a request.
    lead._history_user = created_by or owner
    lead.save()
    StageChange.objects.create(
        lead=lead, from_stage="", to_stage=stage, changed_by=created_by or owner, changed_at=now
    )
    _reschedule(lead, user=created_by or owner, now=now, replace_manual=True)
    request_rescore(lead.pk)
    return lead


@transaction.atomic
def lead_quick_add(
    *,
    owner: User,
    first_name: str,
    last_name: str,
    email: str,
    company_name: str,
    source: str,
    referred_by: ReferrerChoice | None = None,
) -> Lead:
    """Add a lead from a few words, finding or creating its company by name.

    With a "Referred by" pick the lead is credited to that referral source (made one if it is
    a lead or customer) and its source is Referral.
    """
    company = company_find_or_create(owner=owner, name=company_name)
    referrer = resolve_referrer(owner=owner, choice=referred_by or ReferrerChoice())
    return lead_create(
        owner=owner,
        first_name=first_name,
        last_name=last_name,
        email=email,
        company=company,
        source=Source.REFERRAL if referrer is not None else source,
        referred_by=referrer,
    )


def leads_bulk_action(
    *,
    leads: list[Lead],
    user: User,
    action: str,
    to_stage: str = "",
    due_date=None,
    reason: str = "",
) -> tuple[int, list[str]]:
    """Apply one action to many leads, each in its own transaction: a lead that can't take it
    (already in that stage, lost without a reason) is skipped and named, the others proceed.

    Each lead's history records its own change; one audit event sums the operation up."""
    done, skipped = 0, []
    changed: dict[int, str] = {}  # lead id → its stage before
    for lead in leads:
        try:
            if action == "stage":
                from_stage = lead.stage
                lead_change_stage(lead=lead, to_stage=to_stage, user=user, reason=reason)
                changed[lead.pk] = from_stage
            else:
                due_at = datetime.combine(
                    due_date, cadence.DEFAULT_RULES.working_day_starts, tzinfo=lead.owner.zone
                )
                follow_up_schedule(lead=lead, user=user, due_at=due_at)
        except ValidationError as error:
            skipped.append(f"{lead}: {' '.join(error.messages)}")
        else:
            done += 1
            changed.setdefault(lead.pk, "")
    if done:
        _audit_bulk_action(action, changed, user=user, to_stage=to_stage, due_date=due_date)
    return done, skipped


def _audit_bulk_action(
    action: str, changed: dict[int, str], *, user: User, to_stage: str, due_date
) -> None:
    details: dict[str, object] = {"lead_ids": sorted(changed)}
    if action == "stage":
        # Old → new of each lead moved, by id.
        details["stage"] = {"to": to_stage, "from": {str(pk): old for pk, old in changed.items()}}
    else:
        details["follow_up_due_date"] = due_date.isoformat() if due_date else None
    audit_event_record(
        action=AuditAction.BULK_STAGE_CHANGE if action == "stage" else AuditAction.BULK_FOLLOW_UP,
        target=Lead,
        count=len(changed),
        actor=user,
        details=details,
    )


@transaction.atomic
def lead_update(*, lead: Lead, user: User, rescore_now: bool = False, **fields: object) -> Lead:
    """Change the editable fields of a lead; anything else passed in is refused.

    A new job title brings its seniority along (`seniority_from_title`) unless a person chose
    the seniority: when it is empty or was what the old title implied, and this edit leaves it
    as it was. When a scored field changes, the lead is rescored after commit, or with
    `rescore_now` (an edit on the lead's page) before this returns, so the page shows it.
    """
    unknown = set(fields) - set(EDITABLE_LEAD_FIELDS)
    if unknown:
        raise TypeError(f"lead_update() got fields it does not accept: {sorted(unknown)}")
    if isinstance(fields.get("referred_by"), ReferrerChoice):
        # A lead form's "Referred by" pick (see leads/referrers.py).
        fields["referred_by"] = resolve_referrer(
            owner=lead.owner, choice=fields["referred_by"], lead=lead
        )
        # Crediting a referrer makes the lead a referral, unless the same form changed the
        # source on purpose.
        newly_referred = fields["referred_by"] is not None and lead.referred_by_id is None
        if newly_referred and fields.get("source", lead.source) == lead.source:
            fields["source"] = Source.REFERRAL
    if "title" in fields and fields["title"] != lead.title:
        seniority = fields.get("seniority", lead.seniority)
        if seniority == lead.seniority and seniority in ("", seniority_from_title(lead.title)):
            fields["seniority"] = seniority_from_title(str(fields["title"] or ""))
    for name, value in fields.items():
        setattr(lead, name, value)
    _normalise(lead)
    _check_same_owner(lead)
    _validate(lead)
    lead._history_user = user
    lead.save(update_fields=[*fields, "updated_at"])
    if SCORED_FIELDS & fields.keys():
        if rescore_now:
            leads_rescore_now(owner_id=lead.owner_id, lead_ids=[lead.pk])
        else:
            request_rescore(lead.pk)
    return lead


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
    lead._history_user = user
    lead.save(update_fields=["stage", "stage_changed_at", "lost_reason", "won_at", "updated_at"])
    StageChange.objects.create(
        lead=lead,
        from_stage=from_stage,
        to_stage=to_stage,
        changed_by=user,
        changed_at=now,
        reason=reason,
    )
    # Leaving the open pipeline ends whatever was planned; moving within it keeps a person's plan.
    _reschedule(lead, user=user, now=now, replace_manual=to_stage not in OPEN_STAGES)
    if to_stage in THANK_REFERRER_STAGES and lead.referred_by_id:
        _thank_referrer(lead, stage=to_stage, user=user, now=now)
    if to_stage == Stage.WON:
        from referrals.services import referral_source_from_customer

        referral_source_from_customer(lead=lead, user=user)
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
            _close_pending(referrer, resolution=FollowUpResolution.SUPERSEDED, now=now)
    follow_up = FollowUp.objects.create(
        lead=referrer,
        kind=FollowUpKind.THANK_REFERRER,
        due_at=now,
        note=note[:200],
        rule=rule,
        created_by=user,
    )
    _set_next_follow_up_at(referrer, follow_up.due_at)
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


# --- Activities ----------------------------------------------------------------------------


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
    change = cadence.after_activity(_cadence_state(lead, done=done), facts, now=now)
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
    _validate(activity)
    activity.save()

    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    facts = cadence.ActivityFacts(
        kind=kind, direction=direction, occurred_at=occurred_at, outcome=outcome
    )
    change = cadence.after_activity(_cadence_state(lead), facts, now=now)
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
            _reschedule(lead, user=user, now=now, replace_manual=True, completed=True)
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


# --- Follow-ups ----------------------------------------------------------------------------


@transaction.atomic
def follow_up_schedule(
    *, lead: Lead, user: User, due_at: datetime, kind: str = FollowUpKind.CUSTOM, note: str = ""
) -> FollowUp:
    """A person sets the next step; it replaces whatever was pending."""
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    _close_pending(lead, resolution=FollowUpResolution.SUPERSEDED, now=timezone.now())
    follow_up = FollowUp(lead=lead, kind=kind, due_at=due_at, note=note.strip(), created_by=user)
    follow_up.full_clean()
    follow_up.save()
    _set_next_follow_up_at(lead, follow_up.due_at)
    return follow_up


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
    return _reschedule(follow_up.lead, user=user, now=now, replace_manual=True, completed=True)


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
    _set_next_follow_up_at(follow_up.lead, follow_up.due_at)
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
            _leads_without_pending_follow_up().filter(pk__gt=last_id).order_by("pk")[:batch_size]
        )
        if not batch:
            return created
        last_id = batch[-1].pk
        new = []
        for lead in batch:
            due = cadence.due_follow_up(_cadence_state(lead), lead.owner.zone)
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
            _sync_next_follow_up_at([follow_up.lead_id for follow_up in new])
        created += len(new)


# --- The network pool: reconnects spread a few a day ---------------------------------------

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
    for start in range(0, len(ids), _HISTORY_IDS_PER_STATEMENT):
        chunk = ids[start : start + _HISTORY_IDS_PER_STATEMENT]
        with transaction.atomic():
            free = set(
                Lead.objects.filter(pk__in=sorted({lead_of[pk] for pk in chunk}))
                .order_by("pk")
                .select_for_update(skip_locked=True, no_key=True)
                .values_list("pk", flat=True)
            )
            moving = [(pk, lead_of[pk], moves[pk]) for pk in chunk if lead_of[pk] in free]
            # Still pending and still the plan's: one done or replaced meanwhile is left as is.
            moved += _reconnects_move(moving)
    return moved


def _reconnects_move(moves: Sequence[tuple[int, int, datetime]]) -> int:
    """Give pending plan reconnects (follow-up id, lead id, due time) their new due times and
    their leads the same next_follow_up_at; returns how many moved.

    Django's bulk_update (a CASE with a branch per row) took most of the time of a first
    plan. On PostgreSQL the rows travel as one JSON parameter, two statements (as
    `icp.rescoring` writes scores); SQLite runs in-process, where a prepared UPDATE per row
    (executemany) costs microseconds, while a join on a JSON table scanned it once per row.
    """
    if not moves:
        return 0
    pending = [FollowUpKind.RECONNECT, RECONNECT_RULE]
    with connection.cursor() as cursor:
        if connection.vendor != "sqlite":
            rows = json.dumps([{"id": pk, "due_at": due_at.isoformat()} for pk, _, due_at in moves])
            cursor.execute(_MOVE_RECONNECTS_SQL, [rows, *pending])
            moved = {lead_id for (lead_id,) in cursor.fetchall()}
            leads = json.dumps(
                [
                    {"id": lead_id, "due_at": due_at.isoformat()}
                    for _, lead_id, due_at in moves
                    if lead_id in moved
                ]
            )
            cursor.execute(_SET_NEXT_FOLLOW_UP_SQL, [leads])
            return len(moved)
        cursor.executemany(
            "UPDATE leads_followup SET due_at = %s WHERE id = %s AND done_at IS NULL"
            " AND kind = %s AND rule = %s AND created_by_id IS NULL",
            [
                [connection.ops.adapt_datetimefield_value(due_at), pk, *pending]
                for pk, _, due_at in moves
            ],
        )
        moved_count = cursor.rowcount
        cursor.executemany(
            "UPDATE leads_lead SET next_follow_up_at = (SELECT due_at FROM leads_followup"
            " WHERE lead_id = leads_lead.id AND done_at IS NULL) WHERE id = %s",
            [[lead_id] for _, lead_id, _ in moves],
        )
        return moved_count


_MOVE_RECONNECTS_SQL = """
    UPDATE leads_followup AS f SET due_at = v.due_at
    FROM jsonb_to_recordset(%s::jsonb) AS v(id bigint, due_at timestamptz)
    WHERE f.id = v.id AND f.done_at IS NULL AND f.kind = %s AND f.rule = %s
      AND f.created_by_id IS NULL
    RETURNING f.lead_id
"""
_SET_NEXT_FOLLOW_UP_SQL = """
    UPDATE leads_lead AS l SET next_follow_up_at = v.due_at
    FROM jsonb_to_recordset(%s::jsonb) AS v(id bigint, due_at timestamptz)
    WHERE l.id = v.id
"""


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


# --- Internals -----------------------------------------------------------------------------


def _leads_without_pending_follow_up():
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


def _cadence_state(
    lead: Lead, done: Iterable[tuple[str, datetime]] | None = None
) -> cadence.CadenceState:
    """The cadence's view of a lead; which steps are done comes from annotations (the batch
    job) or, for one lead, from its done follow-ups."""
    if done is not None:
        done = list(done)
        lead.referral_ask_done = any(kind == FollowUpKind.REFERRAL_ASK for kind, _ in done)
        lead.check_in_done = any(kind == FollowUpKind.CHECK_IN for kind, _ in done)
        lead.re_engage_done = any(
            kind == FollowUpKind.RE_ENGAGE and at >= lead.stage_changed_at for kind, at in done
        )
    return cadence.CadenceState(
        stage=lead.stage,
        created_at=lead.created_at,
        stage_changed_at=lead.stage_changed_at,
        won_at=lead.won_at,
        last_contacted_at=lead.last_contacted_at,
        last_inbound_at=lead.last_inbound_at,
        unanswered_touches=lead.unanswered_touches,
        first_unanswered_at=lead.first_unanswered_at,
        referral_ask_done=getattr(lead, "referral_ask_done", False),
        check_in_done=getattr(lead, "check_in_done", False),
        re_engage_done=getattr(lead, "re_engage_done", False),
    )


def _reschedule(
    lead: Lead, *, user: User, now: datetime, replace_manual: bool, completed: bool = False
) -> FollowUp | None:
    """Close the pending follow-up (unless it is a person's, kept) and create the cadence's next."""
    pending = lead.follow_ups.select_for_update().filter(done_at__isnull=True).first()
    if pending is not None:
        if pending.created_by_id is not None and not replace_manual:
            return pending
        resolution = FollowUpResolution.DONE if completed else FollowUpResolution.SUPERSEDED
        _close_pending(lead, resolution=resolution, now=now)
    state = _cadence_state(
        lead, done=lead.follow_ups.filter(done_at__isnull=False).values_list("kind", "done_at")
    )
    due = cadence.due_follow_up(state, lead.owner.zone)
    if due is None:
        _set_next_follow_up_at(lead, None)
        return None
    due_at = due.due_at
    if completed:
        # What was just done is today's step: the next one is due tomorrow at the earliest.
        due_at = max(due_at, cadence.add_business_days(now, 1, lead.owner.zone))
    follow_up = FollowUp.objects.create(lead=lead, kind=due.kind, due_at=due_at, rule=due.rule)
    _set_next_follow_up_at(lead, follow_up.due_at)
    return follow_up


def _close_pending(lead: Lead, *, resolution: str, now: datetime) -> None:
    FollowUp.objects.filter(lead=lead, done_at__isnull=True).update(
        done_at=now, resolution=resolution
    )


def _set_next_follow_up_at(lead: Lead, due_at: datetime | None) -> None:
    Lead.objects.filter(pk=lead.pk).update(next_follow_up_at=due_at)
    lead.next_follow_up_at = due_at


def _sync_next_follow_up_at(lead_ids: list[int]) -> None:
    from django.db.models import Subquery

    pending_due = FollowUp.objects.filter(lead=OuterRef("pk"), done_at__isnull=True).values(
        "due_at"
    )[:1]
    Lead.objects.filter(pk__in=lead_ids).update(next_follow_up_at=Subquery(pending_due))


def _normalise(lead: Lead) -> None:
    lead.first_name = lead.first_name.strip()
    lead.last_name = lead.last_name.strip()
    lead.email = normalize_email(lead.email)
    lead.linkedin_url = normalize_linkedin_url(lead.linkedin_url)
    region = lead.company.country if lead.company_id and lead.company else ""
    lead.phone = normalize_phone(lead.phone, region=region)
    lead.tags = _clean_tags(lead.tags)
    if isinstance(lead.expected_value, int | float | str) and lead.expected_value != "":
        lead.expected_value = Decimal(str(lead.expected_value))
    if lead.referred_by_id and not lead.source_detail and lead.source == Source.OTHER:
        lead.source = Source.REFERRAL


def _validate(instance: Lead | Activity | Company) -> None:
    """full_clean, with the database's unique constraints checked for a clear message.

    Check constraints stay a database guard only: their rules (choices, scores, name or email)
    are already validated field by field, and checking them here costs a query each.
    """
    errors: dict[str, list] = {}
    try:
        instance.full_clean(validate_constraints=False)
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    if isinstance(instance, Lead) and not (
        instance.first_name or instance.last_name or instance.email
    ):
        errors.setdefault("__all__", []).append(
            ValidationError("Give the lead a name or an email address.")
        )
    for message in _unique_conflicts(instance):
        errors.setdefault("__all__", []).append(ValidationError(message))
    if errors:
        raise ValidationError(errors)


def _unique_conflicts(instance: Lead | Activity | Company) -> list[str]:
    """The messages of the unique constraints another row already holds.

    One light EXISTS per constraint whose fields are all filled. Every unique constraint here
    exempts blank values (that is their condition), so a blank field can't conflict; checking it
    this way rather than with UniqueConstraint.validate (which also queries the condition)
    halves the cost of each lead write, which imports feel most.
    """
    model = type(instance)
    conflicts = []
    for constraint in model._meta.constraints:
        blank_exempt = [~Q(**{name: ""}) for name in getattr(constraint, "fields", ())]
        if not isinstance(constraint, UniqueConstraint) or constraint.condition not in blank_exempt:
            continue
        values = {
            name: getattr(instance, model._meta.get_field(name).attname)
            for name in constraint.fields
        }
        if any(value in ("", None) for value in values.values()):
            continue
        if model._default_manager.filter(**values).exclude(pk=instance.pk).exists():
            conflicts.append(str(constraint.violation_error_message))
    return conflicts


def _check_same_owner(lead: Lead) -> None:
    """A lead may point only at its own owner's company and referral source."""
    if lead.company is not None and lead.company.owner_id != lead.owner_id:
        raise ValidationError({"company": "Choose one of your own companies."})
    if lead.referred_by is not None and lead.referred_by.owner_id != lead.owner_id:
        raise ValidationError({"referred_by": "Choose one of your own referral sources."})


def _clean_tags(tags: object) -> list[str]:
    if isinstance(tags, str):
        tags = tags.split(",")
    seen: dict[str, None] = {}
    for tag in tags or []:
        tag = str(tag).strip().lower()
        if tag:
            seen.setdefault(tag, None)
    return list(seen)


# --- Reassigning ---------------------------------------------------------------------------

# Up to this many moved leads are rescored one by one; more, and the new owner's whole book is
# rescored in one set-based run rather than as a task per lead.
REASSIGN_RESCORE_EACH_UP_TO = 50
REASSIGN_BATCH_SIZE = 500
REASSIGN_FIELDS = ("owner", "company", "referred_by", "referral_ask", "notes", "updated_at")


@dataclass(frozen=True)
class ReassignResult:
    reassigned: int
    skipped: list[str] = field(default_factory=list)  # "<lead>: why"
    unlinked: list[str] = field(default_factory=list)  # "<lead>: what was unlinked"


@transaction.atomic
def leads_reassign(
    *, leads: Iterable[Lead], to_owner: User, by: User, now: datetime | None = None
) -> ReassignResult:
    """Give leads to another salesperson: a sales manager's move.

    The leads' follow-ups, activities and stage history go with them (they hang off the lead).
    A lead points only at its own owner's company and referral source, so it keeps them only
    if they are the new owner's; otherwise the link is dropped and a line in the lead's notes
    says what it was. A lead the new owner already has (same email or LinkedIn profile) is
    skipped and named, as is one that is theirs already. Each move is one history row by `by`.
    Set-based: a few statements per batch of leads, whatever their number.
    """
    if not by.is_manager:
        raise PermissionDenied("Only sales managers reassign leads.")
    if not to_owner.is_active:
        raise ValidationError(
            {"to_owner": f"{to_owner} is not an active user; choose someone who can work them."}
        )
    now = now or timezone.now()
    if isinstance(leads, QuerySet):
        ids = sorted(set(leads.values_list("pk", flat=True)))
    else:
        ids = sorted({lead.pk for lead in leads})
    moved: list[int] = []
    from_owners: dict[str, int] = {}  # lead id → its owner before
    skipped: list[str] = []
    unlinked: list[str] = []
    for start in range(0, len(ids), REASSIGN_BATCH_SIZE):
        batch = list(
            Lead.objects.select_for_update(of=("self",))
            .select_related("owner", "company", "referred_by")
            .filter(pk__in=ids[start : start + REASSIGN_BATCH_SIZE])
            .order_by("pk")
        )
        taken_emails, taken_profiles = _contact_details_taken(to_owner, batch)
        to_save = []
        for lead in batch:
            if lead.owner_id == to_owner.pk:
                skipped.append(f"{lead}: already {to_owner}'s")
                continue
            if lead.email and lead.email in taken_emails:
                skipped.append(f"{lead}: {to_owner} already has a lead with this email")
                continue
            if lead.linkedin_url and lead.linkedin_url in taken_profiles:
                skipped.append(f"{lead}: {to_owner} already has a lead with this LinkedIn profile")
                continue
            taken_emails.add(lead.email)
            taken_profiles.add(lead.linkedin_url)
            dropped = _drop_links_not_owned_by(lead, to_owner)
            if dropped:
                unlinked.append(f"{lead}: {', '.join(dropped)}")
                note = (
                    f"{timezone.localdate(now):%Y-%m-%d}: reassigned from {lead.owner} to "
                    f"{to_owner}; unlinked {', '.join(dropped)} (theirs)."
                )
                lead.notes = f"{lead.notes.rstrip()}\n\n{note}" if lead.notes.strip() else note
            lead._change_reason = f"Reassigned from {lead.owner} to {to_owner}"[:100]
            from_owners[str(lead.pk)] = lead.owner_id
            lead.owner = to_owner
            lead.updated_at = now
            to_save.append(lead)
        if to_save:
            bulk_update_with_history(
                to_save, Lead, list(REASSIGN_FIELDS), default_user=by, default_date=now
            )
            moved += [lead.pk for lead in to_save]
    # Scores use the owner's ICPs.
    if len(moved) <= REASSIGN_RESCORE_EACH_UP_TO:
        for lead_id in moved:
            request_rescore(lead_id)
    else:
        request_owner_rescore(to_owner.pk)
    if moved:
        audit_event_record(
            action=AuditAction.BULK_REASSIGN,
            target=Lead,
            count=len(moved),
            actor=by,
            now=now,
            details={
                "lead_ids": moved,
                "owner": {"to": to_owner.pk, "from": from_owners},
                "skipped": len(skipped),
                "unlinked": len(unlinked),
            },
        )
    return ReassignResult(reassigned=len(moved), skipped=skipped, unlinked=unlinked)


@dataclass(frozen=True)
class CompaniesReassignResult:
    moved: int
    merged: int  # the new owner had the same domain: the leads now point at theirs


@transaction.atomic
def companies_reassign(*, from_owner: User, to_owner: User) -> CompaniesReassignResult:
    """Give all of one salesperson's companies to another, before their leads follow.

    A lead keeps its company only if the company is its owner's, so the companies go first.
    Where the new owner already has a company with the same domain (one per domain per owner),
    the leaving salesperson's leads are pointed at that one and the empty duplicate stays
    with its old owner; nothing about a lead is lost either way.
    """
    companies = list(Company.objects.select_for_update().filter(owner=from_owner).order_by("pk"))
    domains = {company.domain for company in companies if company.domain}
    theirs = {
        company.domain: company
        for company in Company.objects.filter(owner=to_owner, domain__in=domains)
    }
    moved, merged = [], 0
    for company in companies:
        same = theirs.get(company.domain) if company.domain else None
        if same is not None:
            Lead.objects.filter(owner=from_owner, company=company).update(company=same)
            merged += 1
        else:
            moved.append(company.pk)
    Company.objects.filter(pk__in=moved).update(owner=to_owner, updated_at=timezone.now())
    return CompaniesReassignResult(moved=len(moved), merged=merged)


def _contact_details_taken(owner: User, leads: list[Lead]) -> tuple[set[str], set[str]]:
    """The emails and LinkedIn profiles of `leads` that `owner` already has a lead with."""
    emails = {lead.email for lead in leads if lead.email}
    profiles = {lead.linkedin_url for lead in leads if lead.linkedin_url}
    if not emails and not profiles:
        return set(), set()
    rows = Lead.objects.filter(owner=owner).filter(
        Q(email__in=emails) | Q(linkedin_url__in=profiles)
    )
    taken_emails, taken_profiles = set(), set()
    for email, profile in rows.values_list("email", "linkedin_url"):
        if email in emails:
            taken_emails.add(email)
        if profile in profiles:
            taken_profiles.add(profile)
    return taken_emails, taken_profiles


def _drop_links_not_owned_by(lead: Lead, owner: User) -> list[str]:
    """Unlink the company and referral source that are not `owner`'s; returns what was."""
    dropped = []
    if lead.company is not None and lead.company.owner_id != owner.pk:
        dropped.append(f"company “{lead.company}”")
        lead.company = None
    if lead.referred_by is not None and lead.referred_by.owner_id != owner.pk:
        dropped.append(f"referral source “{lead.referred_by}”")
        lead.referred_by = None
        lead.referral_ask = None  # an ask made to that source
    return dropped


# --- Filling in (imports, merges) ----------------------------------------------------------


def _is_empty(value: object) -> bool:
    return value is None or value == "" or value == []


# --- Many leads at once (imports) ----------------------------------------------------------

# Rows per INSERT/UPDATE statement: well under PostgreSQL's 65,535 parameters per statement.
BULK_BATCH_SIZE = 1000
# Set by lead_new on the leads it checked; leads_bulk_create takes no other.
_CHECKED_FOR_BULK = "_checked_for_bulk"
# The fields _normalise may rewrite.
_NORMALISED_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "linkedin_url",
    "phone",
    "tags",
    "expected_value",
    "source",
)


def company_new(*, owner: User, name: str, domain: str = "") -> Company:
    """An unsaved company, normalised and validated as `company_create` would, without a query.

    For `leads_bulk_create` (or `leads_bulk_fill_empty_fields`), which saves it with the leads
    that point at it. Whether the owner already has this domain is the caller's to know (an
    import has the owner's companies in memory); the database's unique constraint has the last
    word.
    """
    company = Company(owner=owner, name=name.strip(), domain=normalize_domain(domain))
    company.full_clean(
        exclude=_not_given(Company, frozenset({"name", "domain"})),
        validate_unique=False,
        validate_constraints=False,
    )
    return company


def _unsaved_lead(
    caller: str, *, owner: User, stage: str, now: datetime, fields: Mapping[str, object]
) -> Lead:
    """The lead `lead_create` and `lead_new` build: editable fields only, normalised, its
    company the owner's; not yet validated (each validates its own way)."""
    unknown = set(fields) - set(EDITABLE_LEAD_FIELDS)
    if unknown:
        raise TypeError(f"{caller}() got fields it does not accept: {sorted(unknown)}")
    lead = Lead(owner=owner, stage=stage, stage_changed_at=now, **fields)
    if stage == Stage.WON:
        lead.won_at = now
    _normalise(lead)
    if not lead.seniority:
        lead.seniority = seniority_from_title(lead.title)
    _check_same_owner(lead)
    return lead


def lead_new(
    *, owner: User, stage: str = Stage.NEW, now: datetime | None = None, **fields: object
) -> Lead:
    """An unsaved lead, normalised and validated as `lead_create` would, without a query.

    For `leads_bulk_create`. Left out are the checks that cost a query each: whether the owner
    already has a lead with this email or LinkedIn profile (an import knows the owner's keys
    and matches rows against them; the database's unique constraints have the last word) and
    whether the company exists (it is the owner's, checked here, and saved or from
    `company_new`). Fields not given keep the model's defaults and are not re-checked.
    """
    lead = _unsaved_lead(
        "lead_new", owner=owner, stage=stage, now=now or timezone.now(), fields=fields
    )
    _validate_without_queries(lead, {*fields, "stage", "stage_changed_at", "won_at"})
    setattr(lead, _CHECKED_FOR_BULK, True)
    return lead


@transaction.atomic
def leads_bulk_create(
    *,
    leads: Sequence[Lead],
    created_by: User | None = None,
    now: datetime | None = None,
    reconnects_due: Sequence[datetime] | None = None,
) -> list[Lead]:
    """Create many leads from `lead_new` as `lead_create` creates one, in a few statements per
    thousand leads: each gets its "+" history row, its first stage-history row, its first
    follow-up (and next_follow_up_at), and a rescore request — inside `deferred_rescores`, as
    an import runs, that is one owner-wide rescore at the end. New companies the leads point at
    (from `company_new`) are created first.

    With `reconnects_due` (one time per lead: an import into the network pool, from
    `reconnect_slots`), an open lead's first step is a reconnect due then instead of the
    cadence's first touch on the next business day.

    All or nothing: when the database refuses a row (a unique email or profile another write
    took meanwhile) it raises IntegrityError and nothing is written; the caller can retry the
    leads one by one to find the row.
    """
    if not leads:
        return []
    if not all(getattr(lead, _CHECKED_FOR_BULK, False) for lead in leads):
        raise TypeError("leads_bulk_create() takes leads from lead_new() only.")
    if reconnects_due is not None and len(reconnects_due) != len(leads):
        raise ValueError("leads_bulk_create() needs one reconnect time per lead.")
    now = now or timezone.now()
    _save_new_companies(leads)
    # The cadence's first step, from the moment the leads are created (as `_reschedule`): the
    # same for every lead of one owner in one stage.
    first_steps: dict[tuple, cadence.DueFollowUp | None] = {}
    reconnecting: dict[int, datetime] = {}  # index in `leads` → the reconnect's due time
    for index, lead in enumerate(leads):
        if reconnects_due is not None and lead.stage in OPEN_STAGES:
            reconnecting[index] = lead.next_follow_up_at = reconnects_due[index]
            continue
        key = (lead.owner_id, lead.stage, lead.stage_changed_at, lead.won_at)
        if key not in first_steps:
            state = _cadence_state_of_new(lead, created_at=now)
            first_steps[key] = cadence.due_follow_up(state, lead.owner.zone)
        due = first_steps[key]
        lead.next_follow_up_at = due.due_at if due else None
    created = _bulk_insert(Lead, list(leads))
    _history_rows_insert(created, history_type="+", user=created_by, when=now)
    # The stage-history rows and follow-ups are copied from the lead rows just written, a
    # statement per kind of row, rather than built in Python one per lead.
    by_user: dict[int, list[Lead]] = defaultdict(list)
    for lead in created:
        by_user[created_by.pk if created_by else lead.owner_id].append(lead)
    for user_id, user_leads in by_user.items():
        _insert_per_lead(
            StageChange,
            user_leads,
            {
                "lead": _LeadColumn("id"),
                "from_stage": "",
                "to_stage": _LeadColumn("stage"),
                "changed_by": user_id,
                "changed_at": now,
            },
            now=now,
        )
    by_step: dict[cadence.DueFollowUp, list[Lead]] = defaultdict(list)
    for index, lead in enumerate(created):
        if index in reconnecting:
            continue
        due = first_steps[(lead.owner_id, lead.stage, lead.stage_changed_at, lead.won_at)]
        if due is not None:
            by_step[due].append(lead)
    if reconnecting:
        # Each reconnect has its own day: built here and written as rows (COPY on PostgreSQL).
        _bulk_insert(
            FollowUp,
            [
                FollowUp(
                    lead_id=created[index].pk,
                    kind=FollowUpKind.RECONNECT,
                    due_at=due_at,
                    rule=RECONNECT_RULE,
                )
                for index, due_at in reconnecting.items()
            ],
        )
    for due, step_leads in by_step.items():
        _insert_per_lead(
            FollowUp,
            step_leads,
            {"lead": _LeadColumn("id"), "kind": due.kind, "due_at": due.due_at, "rule": due.rule},
            now=now,
        )
    for lead in created:
        request_rescore(lead.pk)
    return created


@transaction.atomic
def leads_bulk_fill_empty_fields(
    *,
    owner: User,
    user: User,
    values_by_lead: Mapping[int, Mapping[str, object]],
    now: datetime | None = None,
) -> dict[int, list[str]]:
    """Give many of one owner's leads the values they lack, never overwriting one they have
    (what they typed in is theirs and stays): returns what was filled, by id.

    The leads are re-read under a lock in one query, so a field filled by someone else since
    the caller looked is left alone; each is normalised and checked as `lead_update` would
    (the unique email and profile by the database's constraints: IntegrityError, nothing
    written) and all are written with one UPDATE and a "~" history row each. A lead that is
    not found (deleted meanwhile, or not the owner's) is missing from the result. New
    companies in the values (from `company_new`) are created first. Raises ValidationError for
    a value that does not validate, writing nothing.
    """
    unknown = {name for values in values_by_lead.values() for name in values} - set(
        EDITABLE_LEAD_FIELDS
    )
    if unknown:
        raise TypeError(f"Fields that can't be filled in: {sorted(unknown)}")
    now = now or timezone.now()
    leads = list(
        Lead.objects.select_for_update(of=("self",))
        .select_related("company")
        .filter(owner=owner, pk__in=list(values_by_lead))
        .order_by("pk")
    )
    filled: dict[int, list[str]] = {}
    changed: list[Lead] = []
    for lead in leads:
        fills = {
            name: value
            for name, value in values_by_lead[lead.pk].items()
            if not _is_empty(value) and _is_empty(getattr(lead, name))
        }
        # As `lead_update` does for one lead: the title's seniority, when none is set.
        if (
            "title" in fills
            and not lead.seniority
            and not fills.get("seniority")
            and (seniority := seniority_from_title(str(fills["title"])))
        ):
            fills["seniority"] = seniority
        filled[lead.pk] = sorted(fills)
        if not fills:
            continue
        kept = {name: getattr(lead, name) for name in _NORMALISED_FIELDS if name not in fills}
        for name, value in fills.items():
            setattr(lead, name, value)
        _normalise(lead)
        for name, value in kept.items():  # as lead_update, which saves the filled fields only
            setattr(lead, name, value)
        _check_same_owner(lead)
        _validate_without_queries(lead, set(fills))
        lead.updated_at = now
        lead._history_user = user
        lead._filled = fills
        changed.append(lead)
    if not changed:
        return filled
    _save_new_companies(changed)
    written = sorted({name for lead in changed for name in lead._filled})
    Lead.objects.bulk_update(changed, [*written, "updated_at"], batch_size=BULK_BATCH_SIZE)
    _history_rows_insert(changed, history_type="~", user=user, when=now)
    for lead in changed:
        if SCORED_FIELDS & lead._filled.keys():
            request_rescore(lead.pk)
        del lead._filled
    return filled


def companies_bulk_set_domain(*, companies: Sequence[Company], now: datetime | None = None) -> int:
    """Record the domain now known for companies that had none, as `company_find_or_create`
    does for one; a domain set meanwhile is kept. Returns how many were updated."""
    if not companies:
        return 0
    now = now or timezone.now()
    for company in companies:
        company.domain = normalize_domain(company.domain)
        company.updated_at = now
    return Company.objects.filter(domain="").bulk_update(
        companies, ["domain", "updated_at"], batch_size=BULK_BATCH_SIZE
    )


@functools.cache
def _not_given(model: type[models.Model], given: frozenset[str]) -> frozenset[str]:
    return frozenset(
        model_field.name
        for model_field in model._meta.concrete_fields
        if model_field.name not in given
    )


def _validate_without_queries(lead: Lead, given: set[str]) -> None:
    """`_validate` for the fields given, less its queries: foreign keys are left to
    `_check_same_owner` and unique constraints to the database."""
    errors: dict[str, list] = {}
    # Plain text within its length (or one of its choices) passes clean() as it is; checking
    # that directly halves the cost of validating an import's leads.
    plain = {name for name in given if _passes_clean(Lead, name, getattr(lead, name))}
    exclude = _not_given(Lead, frozenset(given - plain)) | {"owner", "company"}
    try:
        lead.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    if not (lead.first_name or lead.last_name or lead.email):
        errors.setdefault("__all__", []).append(
            ValidationError("Give the lead a name or an email address.")
        )
    if errors:
        raise ValidationError(errors)


# Ids per statement of the INSERT … SELECTs below: within SQLite's oldest limit of 999
# parameters.
_HISTORY_IDS_PER_STATEMENT = 900


def _history_rows_insert(
    leads: Sequence[Lead], *, history_type: str, user: User | None, when: datetime
) -> None:
    """The history rows django-simple-history writes for saved leads ("+" created, "~"
    changed), copied from the leads' rows by an INSERT … SELECT per 900 leads: what its bulk
    helpers do, without building a history object per lead in Python. The user is `user`, or
    else each lead's owner (as `lead_create` names them)."""
    if not leads or not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        return
    quote = connection.ops.quote_name
    history = Lead.history.model
    columns = ", ".join(quote(field.column) for field in history.tracked_fields)
    ids = [lead.pk for lead in leads]
    for start in range(0, len(ids), _HISTORY_IDS_PER_STATEMENT):
        chunk = ids[start : start + _HISTORY_IDS_PER_STATEMENT]
        # Names from the models (quoted), values as parameters.
        sql = " ".join(
            [
                f"INSERT INTO {quote(history._meta.db_table)}",
                f"({columns}, {quote('history_date')}, {quote('history_type')},",
                f"{quote('history_user_id')})",
                f"SELECT {columns}, %s, %s, COALESCE(%s, {quote('owner_id')})",
                f"FROM {quote(Lead._meta.db_table)}",
                f"WHERE {quote('id')} IN ({', '.join(['%s'] * len(chunk))})",
            ]
        )
        params = [
            connection.ops.adapt_datetimefield_value(when),
            history_type,
            user.pk if user else None,
            *chunk,
        ]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


# Field types whose Python values PostgreSQL's COPY takes as they are (see `_bulk_insert`).
_COPIED_AS_IS = {
    "AutoField",
    "BigAutoField",
    "BigIntegerField",
    "BooleanField",
    "CharField",
    "DateTimeField",
    "EmailField",
    "IntegerField",
    "PositiveBigIntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "SmallIntegerField",
    "TextField",
    "URLField",
}


def _bulk_insert(model: type[models.Model], objs: list[models.Model]) -> list[models.Model]:
    """`bulk_create`, or on PostgreSQL the same rows by COPY: the ids are drawn from the
    table's sequence first, and the values go as they are rather than through the ORM's
    per-value preparation, which is most of the cost of inserting 100,000 leads. Constraints
    hold the same; a violation raises IntegrityError. No signals, as with bulk_create."""
    if connection.vendor != "postgresql":
        return model._default_manager.bulk_create(objs, batch_size=BULK_BATCH_SIZE)
    table = model._meta.db_table
    fields = list(model._meta.concrete_fields)
    auto = [f for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
    # The values of a row in one call; the few that need it (JSON, decimals) are then adapted.
    values_of = operator.attrgetter(*(f.attname for f in fields))
    adapted = [
        (index, f)
        for index, f in enumerate(fields)
        if not (f.is_relation or f.get_internal_type() in _COPIED_AS_IS)
    ]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(model_field.column) for model_field in fields)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, model._meta.pk.column, len(objs)],
        )
        ids = [row[0] for row in cursor.fetchall()]
        rows = []
        for obj, pk in zip(objs, ids, strict=True):
            obj._prepare_related_fields_for_save(operation_name="bulk_create")
            obj.pk = pk
            for model_field in auto:
                model_field.pre_save(obj, add=True)
            row = list(values_of(obj))
            for index, model_field in adapted:
                row[index] = model_field.get_db_prep_save(row[index], connection)
            rows.append(row)
        copy_sql = f"COPY {quote(table)} ({columns}) FROM STDIN"
        with connection.wrap_database_errors, cursor.cursor.copy(copy_sql) as copy:
            for row in rows:
                copy.write_row(row)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias
    return objs


_NOT_GIVEN = object()


class _LeadColumn(str):
    """A column of the lead's own row, for `_insert_per_lead` to copy."""


def _insert_per_lead(
    model: type[models.Model],
    leads: Sequence[Lead],
    values: Mapping[str, object],
    *,
    now: datetime,
) -> None:
    """A row of `model` for each saved lead, by INSERT … SELECT from the leads' rows (900 per
    statement): `values` by field name, each a constant or a `_LeadColumn`; the other fields
    take their defaults, and auto_now(_add) fields `now`."""
    quote = connection.ops.quote_name
    columns, selected, constants = [], [], []
    for model_field in model._meta.concrete_fields:
        if model_field.primary_key:
            continue
        value = values.get(model_field.name, _NOT_GIVEN)
        if isinstance(value, _LeadColumn):
            columns.append(quote(model_field.column))
            selected.append(quote(value))
            continue
        if value is _NOT_GIVEN:
            auto = getattr(model_field, "auto_now", False) or getattr(
                model_field, "auto_now_add", False
            )
            value = now if auto else model_field.get_default()
        columns.append(quote(model_field.column))
        selected.append("%s")
        constants.append(model_field.get_db_prep_save(value, connection))
    ids = [lead.pk for lead in leads]
    for start in range(0, len(ids), _HISTORY_IDS_PER_STATEMENT):
        chunk = ids[start : start + _HISTORY_IDS_PER_STATEMENT]
        sql = " ".join(
            [
                f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(columns)})",
                f"SELECT {', '.join(selected)} FROM {quote(Lead._meta.db_table)}",  # noqa: S608
                f"WHERE {quote('id')} IN ({', '.join(['%s'] * len(chunk))})",
            ]
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*constants, *chunk])


def _passes_clean(model: type[models.Model], name: str, value: object) -> bool:
    """True when `value` is text that the field's clean() would pass unchanged: the field is a
    plain CharField or TextField (no validators besides its length and the NUL check) and the
    value is within its length, or one of its choices. False means: run clean()."""
    choices = _plain_text_field(model, name)
    if choices is None or type(value) is not str:
        return False
    model_field = model._meta.get_field(name)
    if choices:
        return value in choices
    if not value:
        return model_field.blank
    max_length = model_field.max_length
    return (max_length is None or len(value) <= max_length) and "\x00" not in value


@functools.cache
def _plain_text_field(model: type[models.Model], name: str) -> frozenset[str] | None:
    """The choices of a plain text field (empty if it has none), or None for any other."""
    model_field = model._meta.get_field(name)
    plain = (validators.MaxLengthValidator, validators.ProhibitNullCharactersValidator)
    if type(model_field) not in (models.CharField, models.TextField) or not all(
        isinstance(validator, plain) for validator in model_field.validators
    ):
        return None
    return frozenset(str(value) for value, _label in model_field.flatchoices)


def _save_new_companies(leads: Sequence[Lead]) -> None:
    """Create, in one statement, the unsaved companies (from `company_new`) leads point at."""
    field = Lead._meta.get_field("company")
    new: dict[int, Company] = {}
    for lead in leads:
        if field.is_cached(lead) and (company := lead.company) is not None and company.pk is None:
            new.setdefault(id(company), company)
    if new:
        _bulk_insert(Company, list(new.values()))


def _cadence_state_of_new(lead: Lead, *, created_at: datetime) -> cadence.CadenceState:
    return cadence.CadenceState(
        stage=lead.stage,
        created_at=created_at,
        stage_changed_at=lead.stage_changed_at,
        won_at=lead.won_at,
    )
