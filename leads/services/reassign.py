"""Handing a salesperson's leads and companies to another one (a leaver, a territory change),
keeping only links the new owner may see.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from accounts.models import User
from audit.models import AuditAction
from audit.services import audit_event_record
from leads.dependents import request_owner_rescore, request_rescore
from leads.models import (
    Company,
    Lead,
)

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
