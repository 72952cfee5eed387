"""Reads for emails: who sees which, a lead's conversations for its timeline, templates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from accounts.models import User
from emails.models import Email
from emails.templates_models import EmailTemplate
from leads.models import Direction, Lead
from leads.selectors import TimelineEntry, TimelinePart, leads_visible_to

# The newest emails of a lead that its timeline shows (grouped into their conversations).
TIMELINE_EMAILS_LIMIT = 200
THREAD_TEMPLATE = "emails/_timeline_thread.html"


def emails_visible_to(user: User) -> QuerySet[Email]:
    """The emails on the leads `user` sees (a manager: the team's), as the lead pages do."""
    return Email.objects.filter(lead__in=leads_visible_to(user))


def email_templates_of(user: User) -> QuerySet[EmailTemplate]:
    return EmailTemplate.objects.filter(owner=user)


@dataclass(frozen=True)
class EmailThread:
    """One conversation (Email.thread_key) on a lead: its emails, oldest first."""

    key: str
    emails: list[Email]

    @property
    def subject(self) -> str:
        return next((email.subject for email in self.emails if email.subject), "")

    @property
    def last_at(self) -> datetime:
        return self.emails[-1].sent_at

    @property
    def received(self) -> int:
        return sum(email.direction == Direction.INBOUND for email in self.emails)


def lead_email_threads(lead: Lead) -> list[EmailThread]:
    """A lead's conversations, the one with the newest email first. One query."""
    emails = list(lead.emails.order_by("-sent_at", "-id")[:TIMELINE_EMAILS_LIMIT])
    threads: dict[str, list[Email]] = {}
    for email in reversed(emails):
        threads.setdefault(email.thread_key, []).append(email)
    found = [EmailThread(key, thread) for key, thread in threads.items()]
    found.sort(key=lambda thread: thread.last_at, reverse=True)
    return found


def lead_timeline_emails(lead: Lead) -> TimelinePart:
    """The lead page's timeline part (registered with leads.selectors): a thread per
    conversation, at its newest email, standing for the email touches and replies it holds."""
    threads = lead_email_threads(lead)
    return TimelinePart(
        entries=[
            TimelineEntry(thread.last_at, "email_thread", item=thread, template=THREAD_TEMPLATE)
            for thread in threads
        ],
        activity_ids={
            email.activity_id
            for thread in threads
            for email in thread.emails
            if email.activity_id is not None
        },
    )
