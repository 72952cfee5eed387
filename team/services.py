"""Writes for the Team page: deactivating someone (their work moves, nothing is lost) and
removing the demo data (exactly the demo accounts and their records, nothing else)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from accounts import services as account_services
from accounts.models import User
from audit.models import AuditEvent
from icp.models import ICP, Criterion
from icp.rescoring import rescore_requests_forget_many
from leads import services as lead_services
from leads.models import Company, Lead, LeadMerge
from referrals import services as referral_services
from referrals.models import ReferralSource

# --- Deactivating a team member ------------------------------------------------------------


@dataclass(frozen=True)
class Deactivation:
    member: User
    to_owner: User
    leads: int
    referral_sources: int
    companies: int
    skipped: list[str] = field(default_factory=list)  # leads that stayed: "<lead>: why"


@transaction.atomic
def team_member_deactivate(
    *, member: User, to_owner: User, by: User, now: datetime | None = None
) -> Deactivation:
    """Someone leaves the team: their companies, referral sources and leads (with the leads'
    follow-ups, activities and history) go to `to_owner`, then they can no longer log in.

    In that order, so the moved leads keep their company and referrer (a lead points only at
    its own owner's). A lead `to_owner` already has (same email or LinkedIn profile) stays with
    the leaving person, still visible to managers, and is named in the result to be merged.
    Their ICPs and imports stay with them: the ICPs score only their owner's leads, and would
    change `to_owner`'s scores if they moved.
    """
    if not by.is_manager:
        raise PermissionDenied("Only sales managers deactivate people.")
    member = User.objects.select_for_update().get(pk=member.pk)
    if member.pk == by.pk:
        raise ValidationError("You cannot deactivate yourself; ask another manager.")
    if member.is_superuser and not by.is_superuser:
        raise ValidationError("Only a superuser can deactivate a superuser.")
    if not member.is_active:
        raise ValidationError(f"{member} is already deactivated.")
    if to_owner.pk == member.pk or not to_owner.is_active:
        raise ValidationError({"to_owner": "Choose someone active to take over their work."})
    companies = lead_services.companies_reassign(from_owner=member, to_owner=to_owner)
    sources = referral_services.referral_sources_reassign(
        from_owner=member, to_owner=to_owner, by=by
    )
    reassigned = lead_services.leads_reassign(
        leads=Lead.objects.filter(owner=member), to_owner=to_owner, by=by, now=now
    )
    account_services.user_deactivate(user=member)
    return Deactivation(
        member=member,
        to_owner=to_owner,
        leads=reassigned.reassigned,
        referral_sources=sources,
        companies=companies.moved + companies.merged,
        skipped=reassigned.skipped,
    )


# --- Removing the demo data ----------------------------------------------------------------


class DemoRemovalRefused(Exception):
    """The person asking is a demo account and real accounts exist."""


DEMO_SELF_REMOVAL_REFUSED = (
    "You are logged in as a demo account, which this would delete. Log in as one of your own "
    "managers to remove the demo data (add yourself as a Sales manager on the Team page first)."
)


def demo_removal_refused_for(user: User) -> str | None:
    """Why `user` may not remove the demo data now, or None."""
    if user.is_demo and User.objects.filter(is_demo=False).exists():
        return DEMO_SELF_REMOVAL_REFUSED
    return None


@dataclass(frozen=True)
class DemoRemoval:
    users: list[str]
    deleted: Counter[str]  # model label → rows deleted, e.g. "leads.Lead": 260
    removed_self: bool = False  # the person asking was a demo account (the last accounts)


@transaction.atomic
def demo_remove(*, by: User | None = None) -> DemoRemoval:
    """Delete the demo accounts (User.is_demo) and every record that is theirs; nothing else.

    Theirs: the leads they own with the leads' activities, follow-ups and stage changes, their
    referral sources with the asks, companies, ICPs with criteria, pending rescores, merges,
    imports, API tokens, calendar feeds, reminders, the history rows of all those records,
    the audit events they did or that were about their books, and their login attempts.

    Another person's records stay as they are. Where a real record merely mentions a demo one
    (an activity a demo manager logged on a real lead, a real lead once owned by a demo
    account, a real lead referred by a demo source) the real record stays and the mention is
    emptied by the foreign key's SET_NULL; nothing real is deleted.

    `by` is the manager pressing the button (None for the command). A demo account may remove
    the demo only when no real account exists, since it deletes itself: then the database is
    empty and the next visit offers "Create the first account". With real accounts, one of
    them must do it (DemoRemovalRefused), so nobody is left without a way in.
    """
    if by is not None and not by.is_manager:
        raise PermissionDenied("Only sales managers remove the demo data.")
    demo_users = list(User.objects.select_for_update().filter(is_demo=True).order_by("username"))
    removed_self = by is not None and by.is_demo
    refusal = demo_removal_refused_for(by) if by is not None else None
    if refusal:
        raise DemoRemovalRefused(refusal)
    deleted: Counter[str] = Counter()
    if not demo_users:
        return DemoRemoval(users=[], deleted=deleted)
    ids = [user.pk for user in demo_users]

    def delete(queryset) -> None:
        _, per_model = queryset.delete()
        deleted.update({label: count for label, count in per_model.items() if count})

    lead_ids = list(Lead.objects.filter(owner__in=ids).values_list("pk", flat=True))
    source_ids = list(ReferralSource.objects.filter(owner__in=ids).values_list("pk", flat=True))
    icp_ids = list(ICP.objects.filter(owner__in=ids).values_list("pk", flat=True))
    criterion_ids = list(Criterion.objects.filter(icp__in=icp_ids).values_list("pk", flat=True))
    # The owner foreign keys PROTECT, so the records go before the accounts.
    delete(LeadMerge.objects.filter(owner__in=ids))
    delete(Lead.objects.filter(pk__in=lead_ids))
    delete(ReferralSource.objects.filter(pk__in=source_ids))
    delete(Company.objects.filter(owner__in=ids))
    delete(ICP.objects.filter(pk__in=icp_ids))
    forgotten = rescore_requests_forget_many(lead_ids=lead_ids, icp_ids=icp_ids, owner_ids=ids)
    deleted.update({label: count for label, count in forgotten.items() if count})
    # Their history, the deletion rows just written included: a removed demo leaves no trace.
    delete(Lead.history.model.objects.filter(id__in=lead_ids))
    delete(ReferralSource.history.model.objects.filter(id__in=source_ids))
    delete(ICP.history.model.objects.filter(id__in=icp_ids))
    delete(Criterion.history.model.objects.filter(id__in=criterion_ids))
    delete(AuditEvent.objects.filter(actor__in=ids))
    delete(AuditEvent.objects.filter(actor=None, details__owner_id__in=ids))
    usernames = [user.username for user in demo_users]
    for model in (AccessAttempt, AccessFailureLog, AccessLog):
        delete(model.objects.filter(username__in=usernames))
    # Tokens, feeds, reminders, imports and admin log entries go with the accounts (CASCADE).
    delete(User.objects.filter(pk__in=ids))
    return DemoRemoval(
        users=[str(user) for user in demo_users], deleted=deleted, removed_self=removed_self
    )
