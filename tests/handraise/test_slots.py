"""The slot engine: facts in, free slot starts (UTC) out; no database, no clock."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from handraise.slots import Availability, Busy, free_slots, parse_hours, slot_is_free

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
NINE_TO_FIVE = (time(9), time(17))


def every_day(hours, **rules):
    values = {"meeting": timedelta(minutes=30), "days_ahead": 14}
    return Availability(hours=(hours,) * 7, **{**values, **rules})


def local(slots, zone):
    return [slot.astimezone(zone).strftime("%a %d %H:%M") for slot in slots]


def test_slots_step_by_meeting_plus_buffer_within_the_hours_in_the_owners_zone():
    availability = every_day((time(9), time(11)), zone=BERLIN, buffer=timedelta(minutes=10))
    # Tuesday 1 December 2026, 06:00 UTC = 07:00 in Berlin.
    now = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
    slots = free_slots(availability, busy=[], now=now)
    assert local(slots[:4], BERLIN) == [
        "Tue 01 09:00",
        "Tue 01 09:40",
        "Tue 01 10:20",
        "Wed 02 09:00",
    ]
    # 9:00 in Berlin is 08:00 UTC in winter.
    assert slots[0] == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    assert all(slot.tzinfo == UTC for slot in slots)


def test_days_off_minimum_notice_and_how_far_ahead():
    hours = (NINE_TO_FIVE,) * 5 + (None, None)
    availability = Availability(
        hours=hours,
        zone=BERLIN,
        meeting=timedelta(hours=1),
        days_ahead=7,
        notice=timedelta(hours=3),
    )
    now = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)  # Friday 10:30 in Berlin
    slots = free_slots(availability, busy=[], now=now)
    # Three hours' notice: Friday from 13:30 local, so 14:00 is the first whole step from 9:00.
    assert local(slots, BERLIN)[0] == "Fri 04 14:00"
    # No weekend.
    assert not any(slot.astimezone(BERLIN).weekday() >= 5 for slot in slots)
    # Nothing starts seven days or more from now.
    assert max(slots) < now + timedelta(days=7)
    assert local(slots, BERLIN)[-1] == "Fri 11 10:00"  # before Fri 10:30 a week on


def test_booked_times_and_meetings_are_not_offered_and_keep_the_buffer_clear():
    availability = every_day(
        (time(9), time(12)), zone=BERLIN, meeting=timedelta(minutes=30), buffer=timedelta(0)
    )
    now = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
    booked = Busy(
        start=datetime(2026, 12, 1, 8, 0, tzinfo=UTC), end=datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
    )
    meeting = Busy(
        start=datetime(2026, 12, 1, 9, 15, tzinfo=UTC),
        end=datetime(2026, 12, 1, 10, 15, tzinfo=UTC),
    )
    tuesday = [s for s in free_slots(availability, busy=[booked, meeting], now=now) if s.day == 1]
    assert local(tuesday, BERLIN) == ["Tue 01 09:30", "Tue 01 11:30"]

    with_buffer = every_day((time(9), time(12)), zone=BERLIN, buffer=timedelta(minutes=15))
    tuesday = [s for s in free_slots(with_buffer, busy=[booked], now=now) if s.day == 1]
    # 09:00 is booked; 09:45 keeps 15 minutes after it (09:30 would not).
    assert local(tuesday, BERLIN) == ["Tue 01 09:45", "Tue 01 10:30", "Tue 01 11:15"]
    assert not slot_is_free(with_buffer, start=booked.start, busy=[booked], now=now)
    assert slot_is_free(with_buffer, start=tuesday[0], busy=[booked], now=now)


def test_berlin_spring_forward_keeps_the_wall_clock_hours():
    # Europe/Berlin moves from UTC+1 to UTC+2 on Sunday 29 March 2026 at 02:00.
    availability = every_day(NINE_TO_FIVE, zone=BERLIN, meeting=timedelta(hours=1))
    now = datetime(2026, 3, 27, 12, 0, tzinfo=UTC)
    slots = free_slots(availability, busy=[], now=now)
    saturday = [s for s in slots if s.astimezone(BERLIN).day == 28]
    sunday = [s for s in slots if s.astimezone(BERLIN).day == 29]
    assert saturday[0] == datetime(2026, 3, 28, 8, 0, tzinfo=UTC)  # 09:00 CET
    assert sunday[0] == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)  # 09:00 CEST
    assert local(sunday, BERLIN) == [f"Sun 29 {hour:02}:00" for hour in range(9, 17)]


def test_a_wall_time_in_the_spring_gap_is_read_as_before_the_change():
    # 02:00-04:00 on the night of the change holds only one real hour (02:xx does not exist).
    availability = every_day((time(2), time(4)), zone=BERLIN, meeting=timedelta(minutes=30))
    now = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
    sunday = [
        s
        for s in free_slots(availability, busy=[], now=now)
        if s.date() == datetime(2026, 3, 29).date()
    ]
    # 02:00 (fold=0) is 01:00 UTC = 03:00 CEST; the day's hours end at 04:00 CEST = 02:00 UTC.
    assert sunday == [
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
        datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
    ]
    assert local(sunday, BERLIN) == ["Sun 29 03:00", "Sun 29 03:30"]


def test_new_york_fall_back_offers_the_repeated_hour_once_per_real_hour():
    # America/New_York goes from UTC-4 to UTC-5 on Sunday 1 November 2026 at 02:00.
    availability = every_day((time(0), time(3)), zone=NEW_YORK, meeting=timedelta(hours=1))
    now = datetime(2026, 10, 31, 12, 0, tzinfo=UTC)
    sunday = [
        s for s in free_slots(availability, busy=[], now=now) if s.astimezone(NEW_YORK).day == 1
    ]
    # 00:00 EDT (04:00 UTC) to 03:00 EST (08:00 UTC): four real hours, 01:00 twice on the wall.
    assert [s.hour for s in sunday] == [4, 5, 6, 7]
    assert local(sunday, NEW_YORK) == [
        "Sun 01 00:00",
        "Sun 01 01:00",
        "Sun 01 01:00",
        "Sun 01 02:00",
    ]


def test_new_york_spring_forward_nine_to_five_moves_an_hour_earlier_in_utc():
    availability = every_day(NINE_TO_FIVE, zone=NEW_YORK, meeting=timedelta(hours=1))
    now = datetime(2026, 3, 6, 12, 0, tzinfo=UTC)
    slots = free_slots(availability, busy=[], now=now)
    first_of = {s.astimezone(NEW_YORK).day: s for s in reversed(slots)}
    assert first_of[7] == datetime(2026, 3, 7, 14, 0, tzinfo=UTC)  # 09:00 EST
    assert first_of[8] == datetime(2026, 3, 8, 13, 0, tzinfo=UTC)  # 09:00 EDT


def test_stored_hours_are_parsed_and_checked():
    hours = parse_hours([["09:00", "17:00"], None, None, None, None, None, ["10:00", "12:30"]])
    assert hours[0] == NINE_TO_FIVE
    assert hours[6] == (time(10), time(12, 30))
    with pytest.raises(ValueError, match="seven"):
        parse_hours([["09:00", "17:00"]])
    with pytest.raises(ValueError, match="after the start"):
        parse_hours([["17:00", "09:00"]] + [None] * 6)
