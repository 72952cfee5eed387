"""Writes for emails: logging one on a lead, exactly once, and what it does to the lead.

`email_log` is the one door every road goes through (sending, the capture address, a connected
mailbox): it stores the email and turns it into the lead's timeline entry. An outbound email is
a touch (the cadence moves as for any logged email); an inbound one from the lead is a "Replied"
hand-raise signal (intent, rescoring, a follow-up to respond), except an auto-reply, which is
stored and shown but changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, transaction

from accounts.models import User
from emails.models import BODY_MAX_CHARS, Email
from leads.models import ActivityKind, Direction, Lead
from leads.services import activity_log


@dataclass(frozen=True)
class EmailFacts:
    """An email as read from the message (or as sent), before it is logged on a lead."""

    message_id: str
    direction: str
    source: str
    from_address: str
    sent_at: datetime
    subject: str = ""
    body_text: str = ""
    to_addresses: list[str] = field(default_factory=list)
    cc_addresses: list[str] = field(default_factory=list)
    attachment_names: list[str] = field(default_factory=list)
    # Empty: the message starts its own conversation.
    thread_key: str = ""
    is_auto_reply: bool = False


@transaction.atomic
def email_log(*, owner: User, lead: Lead, facts: EmailFacts) -> Email | None:
    """Log `facts` on `lead` for `owner`; None if this Message-ID is already logged there.

    The unique constraint decides, not a read before the write, so two polls (or a BCC and a
    mailbox) racing on the same message log it once.
    """
    body = facts.body_text
    email = Email(
        owner=owner,
        lead=lead,
        message_id=facts.message_id,
        thread_key=facts.thread_key or facts.message_id,
        direction=facts.direction,
        source=facts.source,
        from_address=facts.from_address,
        to_addresses=facts.to_addresses,
        cc_addresses=facts.cc_addresses,
        subject=facts.subject,
        body_text=body[:BODY_MAX_CHARS],
        body_truncated=len(body) > BODY_MAX_CHARS,
        attachment_names=facts.attachment_names,
        sent_at=facts.sent_at,
        is_auto_reply=facts.is_auto_reply,
    )
    try:
        with transaction.atomic():
            email.save()
    except IntegrityError:
        if Email.objects.filter(owner=owner, lead=lead, message_id=facts.message_id).exists():
            return None
        raise
    if facts.is_auto_reply:
        return email
    inbound = facts.direction == Direction.INBOUND
    email.activity = activity_log(
        lead=lead,
        user=owner,
        kind=ActivityKind.REPLIED if inbound else ActivityKind.EMAIL,
        direction=facts.direction,
        occurred_at=facts.sent_at,
        text=facts.subject,
    )
    email.save(update_fields=["activity"])
    return email
