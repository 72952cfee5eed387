"""Reads of the capture side, scoped to the salesperson who asks."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Q, QuerySet

from accounts.models import User
from emails.capture_models import Mailbox, MailboxKind, UnmatchedEmail, UnmatchedStatus
from leads.models import Lead

SUGGESTED_LEADS = 5


def unmatched_emails_of(user: User) -> QuerySet[UnmatchedEmail]:
    """The salesperson's emails waiting for a lead, newest first."""
    return UnmatchedEmail.objects.filter(owner=user, status=UnmatchedStatus.PENDING)


def unmatched_count_of(user: User) -> int:
    return unmatched_emails_of(user).count()


def personal_mailbox_of(user: User) -> Mailbox | None:
    return Mailbox.objects.filter(kind=MailboxKind.PERSONAL, owner=user).first()


def leads_like(user: User, unmatched_rows: list[UnmatchedEmail]) -> dict[str, list[Lead]]:
    """For each person's domain, up to a few of the user's leads at that domain: the likely
    leads to link an email to (a colleague, or the same person at another address). One query."""
    domains = {row.person_address.rsplit("@", 1)[-1] for row in unmatched_rows}
    found: dict[str, list[Lead]] = {domain: [] for domain in domains}
    if not domains:
        return found
    leads = Lead.objects.filter(owner=user).exclude(email="")
    query = Q()
    for domain in domains:
        query |= Q(email__iendswith=f"@{domain}")
    for lead in leads.filter(query).order_by("first_name", "last_name", "pk")[:200]:
        domain = lead.email.rsplit("@", 1)[-1]
        if domain in found and len(found[domain]) < SUGGESTED_LEADS:
            found[domain].append(lead)
    return found


def mailboxes_health() -> tuple[Mailbox | None, int, int]:
    """For the Status page: the capture mailbox row (None when not configured or never
    polled), how many connected mailboxes there are and how many of them are failing."""
    capture = (
        Mailbox.objects.filter(kind=MailboxKind.CAPTURE).first()
        if settings.CAPTURE_IMAP_URL
        else None
    )
    personal = Mailbox.objects.filter(kind=MailboxKind.PERSONAL)
    return capture, personal.count(), personal.exclude(last_error="").count()
