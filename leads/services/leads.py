"""One lead's life outside the pipeline: create (with its company named in words), quick add, edit,
edit its company, bulk actions from the lead list, and delete.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from audit.models import AuditAction
from audit.services import audit_event_record
from leads import cadence
from leads.dependents import leads_rescore_now, request_rescore
from leads.models import (
    Company,
    Lead,
    Source,
    Stage,
    StageChange,
)
from leads.normalize import normalize_email
from leads.referrers import ReferrerChoice, resolve_referrer
from leads.seniority import seniority_from_title
from leads.services.companies import company_create, company_find_or_create, company_update
from leads.services.schedule import follow_up_schedule, reschedule
from leads.services.stages import lead_change_stage
from leads.services.validation import (
    EDITABLE_LEAD_FIELDS,
    SCORED_FIELDS,
    check_same_owner,
    normalise_lead,
    unsaved_lead,
    validate,
)


@transaction.atomic
def lead_company_update(*, lead: Lead, user: User, **fields: Any) -> Company:
    """Save the company facts researched for a lead, from the lead's page: its company's, or,
    when it has none, a new company's that the lead is then linked to. Either way the lead is
    rescored before this returns (see `company_update`). `fields` are a company's, passed on
    as they are: `company_create` and `company_update` check them."""
    if lead.company is not None:
        return company_update(company=lead.company, user=user, **fields)
    company = company_create(owner=lead.owner, **fields)
    lead_update(lead=lead, user=user, company=company, rescore_now=True)
    return company


@transaction.atomic
def lead_create(
    *,
    owner: User,
    created_by: User | None = None,
    stage: str = Stage.NEW,
    now: datetime | None = None,
    company_name: str | None = None,
    **fields: object,
) -> Lead:
    """Create a lead with its first stage-history row and its first follow-up.

    Without a `company`, a `company_name` finds the owner's company of that name or creates it
    (the quick add, the API and hand-raise forms all name the company in words).
    """
    now = now or timezone.now()
    if company_name is not None and "company" not in fields:
        fields["company"] = company_find_or_create(owner=owner, name=company_name)
    lead = unsaved_lead("lead_create", owner=owner, stage=stage, now=now, fields=fields)
    validate(lead)
    # The history names who did it in a Celery task (an import) as well as in a request.
    lead._history_user = created_by or owner
    lead.save()
    StageChange.objects.create(
        lead=lead, from_stage="", to_stage=stage, changed_by=created_by or owner, changed_at=now
    )
    reschedule(lead, user=created_by or owner, now=now, replace_manual=True)
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
    referrer = resolve_referrer(owner=owner, choice=referred_by or ReferrerChoice())
    return lead_create(
        owner=owner,
        first_name=first_name,
        last_name=last_name,
        email=email,
        company_name=company_name,
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
    if isinstance(choice := fields.get("referred_by"), ReferrerChoice):
        # A lead form's "Referred by" pick (see leads/referrers.py).
        fields["referred_by"] = resolve_referrer(owner=lead.owner, choice=choice, lead=lead)
        # Crediting a referrer makes the lead a referral, unless the same form changed the
        # source on purpose.
        newly_referred = fields["referred_by"] is not None and lead.referred_by_id is None
        if newly_referred and fields.get("source", lead.source) == lead.source:
            fields["source"] = Source.REFERRAL
    if "title" in fields and fields["title"] != lead.title:
        seniority = fields.get("seniority", lead.seniority)
        if seniority == lead.seniority and seniority in ("", seniority_from_title(lead.title)):
            fields["seniority"] = seniority_from_title(str(fields["title"] or ""))
    old_email = lead.email
    for name, value in fields.items():
        setattr(lead, name, value)
    normalise_lead(lead)
    if lead.email != old_email and lead.email_bounced_at is not None:
        # The bounce was about the old address.
        lead.email_bounced_at = None
        fields["email_bounced_at"] = None
    check_same_owner(lead)
    validate(lead)
    lead._history_user = user
    lead.save(update_fields=[*fields, "updated_at"])
    if SCORED_FIELDS & fields.keys():
        if rescore_now:
            leads_rescore_now(owner_id=lead.owner_id, lead_ids=[lead.pk])
        else:
            request_rescore(lead.pk)
    return lead


@transaction.atomic
def lead_delete(*, lead: Lead, user: User) -> None:
    """Delete a lead with its activities, follow-ups and stage history.

    A referral source made from the lead (a won customer) stays, unlinked, so the leads it
    referred keep their credit. Other leads' scores do not depend on this one.
    """
    # The change history names who deleted it, with or without a request around.
    lead._history_user = user
    lead.delete()


def leads_mark_email_bouncing(*, owner: User, addresses: list[str], at: datetime) -> int:
    """Note that mail to these addresses bounced, on the owner's leads that have them.

    One UPDATE, no history row (like the other derived fields): a bounce is a fact about the
    address, not an edit by a person. Returns how many leads were marked.
    """
    emails = {normalize_email(address) for address in addresses if address.strip()}
    if not emails:
        return 0
    return Lead.objects.filter(owner=owner, email__in=emails).update(email_bounced_at=at)
