"""The booked meetings on their salesperson's iCal feed (api/calendar.py).

Registered with the feed in HandraiseConfig.ready(): api sits below handraise and must not
import it. Each event has the UID of the booking's emailed invite, so a calendar that has both
shows one meeting.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.urls import reverse

from accounts.models import User
from api.calendar import CalendarEvent
from handraise import selectors

# Past meetings stay on the feed a while, as the follow-ups' overdue ones do.
FEED_PAST = timedelta(days=30)


def booked_meetings_for_feed(user: User, now: datetime) -> Iterable[CalendarEvent]:
    """The user's open bookings from a month ago on, as feed events."""
    bookings = (
        selectors.open_bookings_of(user)
        .filter(ends_at__gt=now - FEED_PAST, hand_raise__isnull=False)
        .select_related("hand_raise__activity__lead")
    )
    for booking in bookings:
        hand_raise = booking.hand_raise
        lead_url = settings.SITE_URL + reverse("lead-detail", args=[hand_raise.activity.lead_id])
        details = [f"Booked on your public page by {hand_raise.name} <{hand_raise.email}>."]
        if hand_raise.company:
            details.append(f"Company: {hand_raise.company}")
        if hand_raise.message:
            details.append(hand_raise.message)
        details.append(lead_url)
        yield CalendarEvent(
            uid_key=f"booking-{booking.pk}",
            start=booking.starts_at,
            end=booking.ends_at,
            summary=f"Meeting: {hand_raise.name}",
            description="\n".join(details),
            url=lead_url,
            sequence=booking.sequence,
        )
