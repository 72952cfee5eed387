"""The bookable slots of a salesperson's page: a pure engine, like leads/cadence.py.

Facts in (the weekly hours in the salesperson's own zone, meeting length, buffer, how far ahead,
minimum notice, the times already taken), free slot starts out, in UTC. Nothing here reads the
database or the clock.

Local times are walked in real (UTC) time: a day's hours are turned into two instants in the
salesperson's zone, and slots step from the first by meeting length + buffer. So on the day a
clock springs forward or falls back, 9:00 to 17:00 is still 9:00 to 17:00 on the wall clock, and
a local time that does not exist (in the spring gap) is read as the same wall time before the
change (Python's fold=0), then converted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class Availability:
    """What the salesperson set: hours per weekday (Monday first) in their own `zone`."""

    hours: tuple[tuple[time, time] | None, ...]
    zone: ZoneInfo
    meeting: timedelta
    buffer: timedelta = timedelta(0)
    days_ahead: int = 14
    notice: timedelta = timedelta(0)


@dataclass(frozen=True)
class Busy:
    """A time the salesperson is not free: a booking or one of their own meetings."""

    start: datetime
    end: datetime


def parse_hours(stored: Sequence[Sequence[str] | None]) -> tuple[tuple[time, time] | None, ...]:
    """The stored JSON (7 entries of ["HH:MM", "HH:MM"] or null) as times; ValueError if bad."""
    if len(stored) != len(WEEKDAYS):
        raise ValueError("Give hours for each of the seven weekdays.")
    hours: list[tuple[time, time] | None] = []
    for day, entry in zip(WEEKDAYS, stored, strict=True):
        if not entry:
            hours.append(None)
            continue
        start, end = (time.fromisoformat(value) for value in entry)
        if end <= start:
            raise ValueError(f"{day}: the end must be after the start.")
        hours.append((start, end))
    return tuple(hours)


def free_slots(
    availability: Availability, *, busy: Sequence[Busy], now: datetime
) -> list[datetime]:
    """Every slot start (UTC, ascending) that fits the hours, is at least `notice` from now,
    starts within `days_ahead` days, and keeps `buffer` clear of everything busy."""
    zone = availability.zone
    earliest = now + availability.notice
    latest = now + timedelta(days=availability.days_ahead)
    step = availability.meeting + availability.buffer
    busy_sorted = sorted(busy, key=lambda block: block.start)
    slots: list[datetime] = []
    today = now.astimezone(zone).date()
    for offset in range(availability.days_ahead + 1):
        day = today + timedelta(days=offset)
        hours = availability.hours[day.weekday()]
        if hours is None:
            continue
        opens, closes = _instant(day, hours[0], zone), _instant(day, hours[1], zone)
        start = opens
        while start + availability.meeting <= closes:
            if earliest <= start < latest and not _clashes(start, availability, busy_sorted):
                slots.append(start)
            start += step
    return slots


def slot_is_free(
    availability: Availability, *, start: datetime, busy: Sequence[Busy], now: datetime
) -> bool:
    """`start` is one of the free slots right now."""
    return start.astimezone(UTC) in free_slots(availability, busy=busy, now=now)


def _instant(day: date, wall: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, wall, tzinfo=zone).astimezone(UTC)


def _clashes(start: datetime, availability: Availability, busy: Sequence[Busy]) -> bool:
    # The buffer is kept on both sides: before the meeting and after it.
    begin = start - availability.buffer
    end = start + availability.meeting + availability.buffer
    return any(block.start < end and begin < block.end for block in busy)
