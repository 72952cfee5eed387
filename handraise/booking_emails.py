"""The emails of a booking, each with an iCalendar invite (RFC 5545 / iTIP RFC 5546).

- The salesperson's invite (METHOD:REQUEST) rides on the hand-raise email (handraise/notify.py),
  which is already sent exactly once through its outbox.
- The visitor's invite (METHOD:REQUEST, with the cancel link) and the cancellations to both
  sides (METHOD:CANCEL) are BookingEmail rows: an outbox like HandRaise's. Planned in the
  booking's transaction, sent after commit; a conditional UPDATE claims a row before sending,
  so a redelivered task, the sweep and a second worker cannot both send it.

The event's UID is stable per booking and its SEQUENCE counts changes, so a calendar app updates
(or cancels) the one event instead of adding another.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import icalendar
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from handraise.models import Booking, BookingEmail, BookingEmailPurpose, NotifyStatus
from reminders.emails import one_line
from reminders.services import backoff

logger = logging.getLogger(__name__)

PRODID = "-//LeadHunter//Bookings//EN"
STALE_CLAIM_AFTER = timedelta(minutes=15)
MAX_ATTEMPTS = 5


def _host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "leadhunter.localhost"


def booking_uid(booking: Booking) -> str:
    return f"booking-{booking.pk}@{_host()}"


def cancel_url(booking: Booking) -> str:
    return settings.SITE_URL + reverse("booking-manage", args=[booking.cancel_token])


def owner_name_of(booking: Booking) -> str:
    return booking.owner.get_full_name() or booking.owner.get_username()


def booking_ics(booking: Booking, *, method: str, now: datetime) -> bytes:
    """One VEVENT for the booking, METHOD:REQUEST or CANCEL, times in UTC."""
    hand_raise = booking.hand_raise
    owner = booking.owner
    calendar = icalendar.Calendar()
    calendar.add("VERSION", "2.0")
    calendar.add("PRODID", PRODID)
    calendar.add("CALSCALE", "GREGORIAN")
    calendar.add("METHOD", method)
    event = icalendar.Event()
    event.add("UID", booking_uid(booking))
    event.add("DTSTAMP", now.astimezone(UTC))
    event.add("DTSTART", booking.starts_at.astimezone(UTC))
    event.add("DTEND", booking.ends_at.astimezone(UTC))
    event.add("SEQUENCE", booking.sequence)
    event.add("SUMMARY", f"Meeting: {owner_name_of(booking)} and {hand_raise.name}")
    description = [hand_raise.message] if hand_raise.message else []
    description.append(f"Change or cancel: {cancel_url(booking)}")
    event.add("DESCRIPTION", "\n\n".join(description))
    event.add("STATUS", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    organizer = icalendar.vCalAddress(f"mailto:{owner.email}")
    organizer.params["CN"] = icalendar.vText(owner_name_of(booking))
    event.add("ORGANIZER", organizer)
    attendee = icalendar.vCalAddress(f"mailto:{hand_raise.email}")
    attendee.params["CN"] = icalendar.vText(hand_raise.name)
    attendee.params["ROLE"] = icalendar.vText("REQ-PARTICIPANT")
    attendee.params["PARTSTAT"] = icalendar.vText("ACCEPTED")
    event.add("ATTENDEE", attendee)
    calendar.add_component(event)
    return calendar.to_ical(sorted=False)


def attach_invite(
    message: EmailMultiAlternatives, booking: Booking, *, method: str, now: datetime
) -> None:
    """The invite both as the text/calendar alternative mail apps show as an invitation and
    as an invite.ics attachment for the rest."""
    ics = booking_ics(booking, method=method, now=now)
    message.attach_alternative(ics.decode(), f"text/calendar; method={method}")
    message.attach("invite.ics", ics, f"application/ics; method={method}")


def local_times(booking: Booking, zone_name: str) -> dict[str, object]:
    zone = ZoneInfo(zone_name)
    return {
        "starts_local": booking.starts_at.astimezone(zone),
        "ends_local": booking.ends_at.astimezone(zone),
        "zone_name": zone_name,
    }


# --- The outbox ----------------------------------------------------------------------------


def booking_email_plan(*, booking: Booking, purpose: str, now: datetime) -> BookingEmail:
    """Plan one email (once per booking and purpose) and send it after the commit."""
    email, _created = BookingEmail.objects.get_or_create(
        booking=booking,
        purpose=purpose,
        defaults={"next_attempt_at": now, "created_at": now},
    )
    from handraise import tasks  # tasks imports this module

    transaction.on_commit(lambda: tasks.send_booking_email.delay(email.pk), robust=True)
    return email


def _claimable(now: datetime) -> Q:
    return Q(status=NotifyStatus.PENDING, next_attempt_at__lte=now) | Q(
        status=NotifyStatus.SENDING, claimed_at__lt=now - STALE_CLAIM_AFTER
    )


def booking_email_send(*, email_id: int, now: datetime | None = None) -> str:
    """Claim, send and settle one booking email; "already-claimed" when not claimable."""
    now = now or timezone.now()
    claimed = BookingEmail.objects.filter(_claimable(now), pk=email_id).update(
        status=NotifyStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return "already-claimed"
    email = BookingEmail.objects.select_related(
        "booking__owner", "booking__hand_raise", "booking__page"
    ).get(pk=email_id)
    if email.booking.hand_raise is None:
        return _settle(email, NotifyStatus.SKIPPED, "The booking has no hand-raise.")
    try:
        _message(email, now=now).send()
    except Exception as error:
        described = f"{type(error).__name__}: {error}"[:2000]
        if email.attempts >= MAX_ATTEMPTS:
            logger.warning("Booking email %s failed for good: %s", email.pk, described)
            return _settle(email, NotifyStatus.FAILED, described)
        return _settle(
            email, NotifyStatus.PENDING, described, next_attempt_at=now + backoff(email.attempts)
        )
    return _settle(email, NotifyStatus.SENT, "", sent_at=now)


def booking_emails_send_due(*, now: datetime | None = None, limit: int = 100) -> int:
    """The sweep: every booking email still due (its task lost, or a retry due)."""
    now = now or timezone.now()
    due = list(
        BookingEmail.objects.filter(_claimable(now))
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(booking_email_send(email_id=pk, now=now) == NotifyStatus.SENT for pk in due)


def _settle(email: BookingEmail, status: str, error: str, **fields: object) -> str:
    settled = BookingEmail.objects.filter(
        pk=email.pk, status=NotifyStatus.SENDING, claimed_at=email.claimed_at
    ).update(status=status, last_error=error, **fields)
    if not settled:
        logger.warning("Booking email %s was re-claimed before its result", email.pk)
    return status


def _message(email: BookingEmail, *, now: datetime) -> EmailMultiAlternatives:
    booking = email.booking
    hand_raise = booking.hand_raise
    owner = booking.owner
    owner_name = owner_name_of(booking)
    if email.purpose == BookingEmailPurpose.VISITOR_INVITE:
        context = {
            "booking": booking,
            "hand_raise": hand_raise,
            "owner_name": owner_name,
            "cancel_url": cancel_url(booking),
            **local_times(booking, booking.visitor_time_zone),
        }
        template, method = "handraise/email/booking_visitor", "REQUEST"
        subject = f"Your meeting with {owner_name[:80]}"
        to, reply_to = [hand_raise.email], [owner.email] if owner.email else []
    elif email.purpose == BookingEmailPurpose.VISITOR_CANCEL:
        context = {
            "booking": booking,
            "hand_raise": hand_raise,
            "owner_name": owner_name,
            **local_times(booking, booking.visitor_time_zone),
        }
        template, method = "handraise/email/booking_cancelled_visitor", "CANCEL"
        subject = f"Cancelled: your meeting with {owner_name[:80]}"
        to, reply_to = [hand_raise.email], [owner.email] if owner.email else []
    else:
        context = {
            "booking": booking,
            "hand_raise": hand_raise,
            "owner_name": owner_name,
            **local_times(booking, owner.time_zone),
        }
        template, method = "handraise/email/booking_cancelled", "CANCEL"
        subject = f"Cancelled: your meeting with {hand_raise.name[:80]}"
        to, reply_to = [owner.email], [hand_raise.email]
    message = EmailMultiAlternatives(
        subject=one_line(subject),
        body=render_to_string(f"{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=to,
        reply_to=reply_to,
        headers={
            "Message-ID": f"<booking-{booking.pk}-{email.purpose}@{_host()}>",
            "Auto-Submitted": "auto-generated",
        },
    )
    attach_invite(message, booking, method=method, now=now)
    return message
