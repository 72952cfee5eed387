"""Reads for bookings: a page's availability, what keeps its owner busy, the free slots."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Q, QuerySet

from accounts.models import User
from handraise import slots
from handraise.models import Booking, PublicPage
from leads.models import Activity, ActivityKind

# A meeting logged in LeadHunter has a time but no length: it is taken to last an hour.
MEETING_ASSUMED_LENGTH = timedelta(hours=1)


def availability_of(page: PublicPage) -> slots.Availability:
    """The page's booking settings as the slot engine's facts, in the owner's own zone."""
    return slots.Availability(
        hours=slots.parse_hours(page.booking_hours),
        zone=page.owner.zone,
        meeting=timedelta(minutes=page.meeting_minutes),
        buffer=timedelta(minutes=page.buffer_minutes),
        days_ahead=page.booking_days_ahead,
        notice=timedelta(hours=page.booking_notice_hours),
    )


def open_bookings_of(owner: User) -> QuerySet[Booking]:
    return Booking.objects.filter(owner=owner, cancelled_at__isnull=True)


def busy_times(owner: User, *, now: datetime) -> list[slots.Busy]:
    """What a slot must not overlap: the owner's open bookings, and the meetings on their leads
    dated ahead in LeadHunter (an Activity of kind Meeting, the only scheduled meeting the
    leads app keeps; it may be dated up to a day ahead), each taken as an hour long."""
    since = now - MEETING_ASSUMED_LENGTH
    busy = [
        slots.Busy(start=start, end=end)
        for start, end in open_bookings_of(owner)
        .filter(ends_at__gt=since)
        .values_list("starts_at", "ends_at")
    ]
    meetings = Activity.objects.filter(
        Q(user=owner) | Q(lead__owner=owner), kind=ActivityKind.MEETING, occurred_at__gt=since
    ).values_list("occurred_at", flat=True)
    busy += [slots.Busy(start=start, end=start + MEETING_ASSUMED_LENGTH) for start in meetings]
    return busy


def free_slots_of(page: PublicPage, *, now: datetime) -> list[datetime]:
    """The page's bookable slot starts (UTC) right now."""
    return slots.free_slots(availability_of(page), busy=busy_times(page.owner, now=now), now=now)


def booking_for_cancel_token(token: str) -> Booking | None:
    return (
        Booking.objects.select_related("page__owner", "hand_raise__activity__lead")
        .filter(cancel_token=token)
        .first()
    )


def slot_is_free(page: PublicPage, *, start: datetime, now: datetime) -> bool:
    """`start` is one of the page's free slots right now."""
    return slots.slot_is_free(
        availability_of(page), start=start, busy=busy_times(page.owner, now=now), now=now
    )
