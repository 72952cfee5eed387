"""The network pool's reconnect plan: on which day each contact comes up. Pure: no database.

Imported contacts from the salesperson's own network join a pool: each gets one pending
"reconnect" follow-up instead of a first touch on the next business day, and the plan gives
those follow-ups their days: best fit first, at most `per_day` a day, business days only, at
the start of the owner's working day in their time zone.

The plan is made again and again (after an import, when the per-day number changes, and by the
beat job), and each time it is the same unless something changed, so it stays right as days
pass and as the person works:
- a day's reconnects are settled once that day has begun (they are on Today); only the days
  after today are planned, so nothing moves under the person's eyes;
- reconnects left from earlier days are planned again, so a missed day does not pile up;
- a reconnect the person snoozed keeps its date and counts towards its day's number.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from leads.cadence import DEFAULT_RULES


@dataclass(frozen=True)
class PoolEntry:
    """A pending reconnect as the plan sees it."""

    follow_up_id: int
    lead_id: int
    due_at: datetime
    fit_score: int
    total_score: int
    snoozed: bool = False


def first_planned_day(now: datetime, zone: ZoneInfo) -> date:
    """The first day the plan may fill: the next business day after today, in `zone`."""
    return next(business_days(now.astimezone(zone).date() + timedelta(days=1)))


def business_days(first: date) -> Iterator[date]:
    """`first` (or the Monday after, on a weekend) and every business day after it."""
    day = first
    while True:
        if day.weekday() < 5:
            yield day
        day += timedelta(days=1)


def due_at(
    day: date, zone: ZoneInfo, *, starts: time = DEFAULT_RULES.working_day_starts
) -> datetime:
    """A reconnect planned on `day` is due at the start of that working day."""
    return datetime.combine(day, starts, tzinfo=zone)


class Slots:
    """Free places in the plan, day by day from `first_day`: `per_day` a day less what
    `taken` (reconnects already planned, by day) holds."""

    def __init__(
        self, *, per_day: int, first_day: date, zone: ZoneInfo, taken: Mapping[date, int]
    ) -> None:
        self.per_day = max(1, per_day)
        self.zone = zone
        self.taken = dict(taken)
        self._days = business_days(first_day)
        self._day = next(self._days)
        self._used = self.taken.get(self._day, 0)

    def state(self) -> tuple[date, int]:
        """Where the places stand, for `restore`."""
        return self._day, self._used

    def restore(self, state: tuple[date, int]) -> None:
        """Give back the places taken since `state`."""
        self._day, self._used = state
        self._days = business_days(self._day + timedelta(days=1))

    def take(self, count: int) -> list[datetime]:
        """The due times of the next `count` free places, in order."""
        slots = []
        for _ in range(count):
            while self._used >= self.per_day:
                self._day = next(self._days)
                self._used = self.taken.get(self._day, 0)
            self._used += 1
            slots.append(due_at(self._day, self.zone))
        return slots


def plan(
    entries: list[PoolEntry], *, per_day: int, now: datetime, zone: ZoneInfo
) -> dict[int, datetime]:
    """The new due time of every pending reconnect whose time changes, by follow-up id.

    Settled (left alone, counted on their day): those snoozed by the person, and those due
    today. The others, overdue ones included, fill the days from the next business day on,
    best fit first (then best total score, then the lead added first).
    """
    today = now.astimezone(zone).date()
    taken: dict[date, int] = {}
    movable = []
    for entry in entries:
        day = entry.due_at.astimezone(zone).date()
        if entry.snoozed or day == today:
            taken[day] = taken.get(day, 0) + 1
        else:
            movable.append(entry)
    movable.sort(key=lambda entry: (-entry.fit_score, -entry.total_score, entry.lead_id))
    slots = Slots(
        per_day=per_day, first_day=first_planned_day(now, zone), zone=zone, taken=taken
    ).take(len(movable))
    return {
        entry.follow_up_id: slot
        for entry, slot in zip(movable, slots, strict=True)
        if entry.due_at != slot
    }
