"""The email that tells a salesperson about a hand-raise at once (not in the morning digest).

The HandRaise row is the outbox, as reminders.Reminder is for the scheduled emails:
- the task is enqueued after the landing commits; if the broker is down or loses it, the
  sweep (beat, every minute) finds the row still pending and sends it;
- a conditional UPDATE claims the row before sending, so a redelivered task, the sweep and a
  second worker cannot both send it;
- the result is recorded only while the claim still holds; a row left 'sending' by a dead
  worker is claimed again after STALE_CLAIM_AFTER. The Message-ID is stable per hand-raise, so
  the rare double send after such a crash folds into one in the mailbox.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import BadHeaderError, EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from handraise import booking_emails
from handraise.models import Booking, HandRaise, NotifyStatus
from reminders.emails import one_line
from reminders.services import backoff

logger = logging.getLogger(__name__)

STALE_CLAIM_AFTER = timedelta(minutes=15)
MAX_ATTEMPTS = 5
# A hand-raise email that could not go out within a day is no longer news: Today has it.
GIVE_UP_AFTER = timedelta(hours=24)


def hand_raise_notify_after_commit(hand_raise_id: int) -> None:
    """Send the email once the landing commits. robust: a broker outage is logged, the
    landing stands, and the sweep sends the email later."""
    from handraise import tasks  # tasks imports this module

    transaction.on_commit(lambda: tasks.send_hand_raise_email.delay(hand_raise_id), robust=True)


def _claimable(now: datetime) -> Q:
    return Q(notify_status=NotifyStatus.PENDING, notify_next_attempt_at__lte=now) | Q(
        notify_status=NotifyStatus.SENDING, notify_claimed_at__lt=now - STALE_CLAIM_AFTER
    )


def hand_raise_notify_send(*, hand_raise_id: int, now: datetime | None = None) -> str:
    """Claim, send and settle one hand-raise email; returns the new status, or
    "already-claimed" when the row is not claimable (sent, sending elsewhere, not yet due)."""
    now = now or timezone.now()
    claimed = HandRaise.objects.filter(_claimable(now), pk=hand_raise_id).update(
        notify_status=NotifyStatus.SENDING,
        notify_claimed_at=now,
        notify_attempts=F("notify_attempts") + 1,
    )
    if not claimed:
        return "already-claimed"
    hand_raise = HandRaise.objects.select_related("page__owner", "activity__lead__company").get(
        pk=hand_raise_id
    )
    owner = hand_raise.page.owner
    if not owner.is_active or not owner.email:
        return _settle(hand_raise, NotifyStatus.SKIPPED, "The salesperson has no email address.")
    if hand_raise.created_at < now - GIVE_UP_AFTER or hand_raise.notify_attempts > MAX_ATTEMPTS:
        return _settle(hand_raise, NotifyStatus.FAILED, "Gave up: too late or too many attempts.")
    try:
        hand_raise_email(hand_raise).send()
    except Exception as error:
        described = f"{type(error).__name__}: {error}"[:2000]
        if _is_permanent(error) or hand_raise.notify_attempts >= MAX_ATTEMPTS:
            logger.warning("Hand-raise email %s failed for good: %s", hand_raise.pk, described)
            return _settle(hand_raise, NotifyStatus.FAILED, described)
        return _settle(
            hand_raise,
            NotifyStatus.PENDING,
            described,
            notify_next_attempt_at=now + backoff(hand_raise.notify_attempts),
        )
    return _settle(hand_raise, NotifyStatus.SENT, "", notify_sent_at=now)


def hand_raises_notify_due(*, now: datetime | None = None, limit: int = 100) -> int:
    """The sweep: send every hand-raise email still due (its task lost, or a retry due)."""
    now = now or timezone.now()
    due = list(
        HandRaise.objects.filter(_claimable(now))
        .order_by("notify_next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    sent = 0
    for hand_raise_id in due:
        sent += hand_raise_notify_send(hand_raise_id=hand_raise_id, now=now) == NotifyStatus.SENT
    return sent


def _settle(hand_raise: HandRaise, status: str, error: str, **fields: object) -> str:
    settled = HandRaise.objects.filter(
        pk=hand_raise.pk,
        notify_status=NotifyStatus.SENDING,
        notify_claimed_at=hand_raise.notify_claimed_at,
    ).update(notify_status=status, notify_last_error=error, **fields)
    if not settled:
        logger.warning("Hand-raise email %s was re-claimed before its result", hand_raise.pk)
    return status


def _is_permanent(error: Exception) -> bool:
    if isinstance(error, smtplib.SMTPRecipientsRefused | smtplib.SMTPSenderRefused):
        return True
    if isinstance(error, BadHeaderError):
        return True
    return isinstance(error, smtplib.SMTPResponseException) and error.smtp_code >= 500


def hand_raise_email(hand_raise: HandRaise) -> EmailMultiAlternatives:
    """The email to the page's owner: who, what they wrote, how to reach them, and the lead.

    Everything the visitor typed reaches the HTML part through auto-escaping templates; the
    subject is forced onto one line.
    """
    owner = hand_raise.page.owner
    lead = hand_raise.activity.lead
    verb = "booked a meeting" if hand_raise.kind == "booked_meeting" else "asked for info"
    booking = Booking.objects.filter(hand_raise=hand_raise).select_related("owner").first()
    context = {
        "user": owner,
        "hand_raise": hand_raise,
        "lead": lead,
        "verb": verb,
        "lead_url": settings.SITE_URL + reverse("lead-detail", args=[lead.pk]),
        "open_url": settings.SITE_URL + reverse("today"),
        "time_zone": owner.time_zone,
        "booking": booking,
    }
    domain = urlsplit(settings.SITE_URL).hostname or "leadhunter.localhost"
    message = EmailMultiAlternatives(
        subject=one_line(f"{hand_raise.name[:80]} {verb} — answer now"),
        body=render_to_string("handraise/email/hand_raise.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[owner.email],
        reply_to=[hand_raise.email],
        headers={
            "Message-ID": f"<hand-raise-{hand_raise.pk}@{domain}>",
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(
        render_to_string("handraise/email/hand_raise.html", context), "text/html"
    )
    if booking is not None:
        booking.hand_raise = hand_raise
        booking_emails.attach_invite(message, booking, method="REQUEST", now=timezone.now())
    return message
