from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from leads.cadence import (
    ActivityFacts,
    CadenceState,
    add_business_days,
    after_activity,
    due_follow_up,
    next_after_activity,
    nurture_after_no_reply,
)

LONDON = ZoneInfo("Europe/London")
TOKYO = ZoneInfo("Asia/Tokyo")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
UTC = ZoneInfo("UTC")


def at(text: str, zone: ZoneInfo = UTC) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone)


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        ("2026-11-23 15:00", 1, "2026-11-24 09:00"),  # Monday → Tuesday
        ("2026-11-27 15:00", 1, "2026-11-30 09:00"),  # Friday → Monday
        ("2026-11-28 10:00", 1, "2026-11-30 09:00"),  # Saturday → Monday
        ("2026-11-27 15:00", 2, "2026-12-01 09:00"),  # Friday + 2 → Tuesday
        ("2026-11-23 08:00", 10, "2026-12-07 09:00"),  # two full weeks
    ],
)
def test_business_days_skip_weekends(start, days, expected):
    assert add_business_days(at(start, LONDON), days, LONDON) == at(expected, LONDON)


def test_business_days_count_in_the_owners_time_zone():
    # Friday 23:30 in Los Angeles is already Saturday in UTC; the rep's next business day is Monday.
    friday_night_la = at("2026-11-28 07:30")  # = Fri 27 Nov 23:30 in LA

    due = add_business_days(friday_night_la, 1, LOS_ANGELES)

    assert due == at("2026-11-30 09:00", LOS_ANGELES)
    # Friday 20:00 UTC is Saturday 05:00 in Tokyo: the next business day there is Monday too.
    assert add_business_days(at("2026-11-27 20:00"), 1, TOKYO) == at("2026-11-30 09:00", TOKYO)
    # …while in London it is still Friday evening: Monday as well, but at London's 09:00.
    assert add_business_days(at("2026-11-27 20:00"), 1, LONDON) == at("2026-11-30 09:00", LONDON)


def state(**overrides) -> CadenceState:
    defaults = {
        "stage": "new",
        "created_at": at("2026-11-23 10:00"),
        "stage_changed_at": at("2026-11-23 10:00"),
    }
    return CadenceState(**(defaults | overrides))


def test_new_lead_gets_a_first_touch_the_next_business_day():
    due = due_follow_up(state(), LONDON)

    assert (due.kind, due.rule, due.due_at) == (
        "first_touch",
        "first_touch",
        at("2026-11-24 09:00", LONDON),
    )


@pytest.mark.parametrize(
    ("touches", "days", "expected"),
    [(1, 2, "2026-11-25"), (2, 5, "2026-11-30"), (3, 10, "2026-12-07")],
)
def test_unanswered_touches_follow_up_after_2_5_and_10_business_days(touches, days, expected):
    due = due_follow_up(
        state(
            stage="contacted",
            last_contacted_at=at("2026-11-23 10:00"),
            unanswered_touches=touches,
            first_unanswered_at=at("2026-11-23 10:00"),
        ),
        LONDON,
    )

    assert due.kind == "follow_up"
    assert due.rule == f"no_reply_{touches}"
    assert due.due_at == at(f"{expected} 09:00", LONDON)


def test_nurture_after_the_last_no_reply_follow_up():
    assert not nurture_after_no_reply(3)
    assert nurture_after_no_reply(4)


def test_hand_raise_is_answered_the_next_business_day():
    due = due_follow_up(
        state(
            stage="engaged",
            last_inbound_at=at("2026-11-27 16:00"),
            last_contacted_at=at("2026-11-20 10:00"),
        ),
        LONDON,
    )

    assert (due.kind, due.due_at) == ("respond", at("2026-11-30 09:00", LONDON))


def test_won_customer_is_asked_for_a_referral_after_30_days_then_checked_in_after_90():
    won = at("2026-10-01 12:00")

    ask = due_follow_up(state(stage="won", won_at=won, stage_changed_at=won), LONDON)
    check_in = due_follow_up(
        state(stage="won", won_at=won, stage_changed_at=won, referral_ask_done=True), LONDON
    )
    nothing = due_follow_up(
        state(
            stage="won",
            won_at=won,
            stage_changed_at=won,
            referral_ask_done=True,
            check_in_done=True,
        ),
        LONDON,
    )

    # 31 October is a Saturday: the ask moves to Monday 2 November.
    assert (ask.kind, ask.due_at) == ("referral_ask", at("2026-11-02 09:00", LONDON))
    assert (check_in.kind, check_in.due_at) == ("check_in", at("2026-12-30 09:00", LONDON))
    assert nothing is None


@pytest.mark.parametrize("stage", ["lost", "nurture"])
def test_lost_and_nurture_are_re_engaged_after_90_days_once(stage):
    changed = at("2026-09-01 12:00")

    due = due_follow_up(state(stage=stage, stage_changed_at=changed), LONDON)
    done = due_follow_up(state(stage=stage, stage_changed_at=changed, re_engage_done=True), LONDON)

    assert (due.kind, due.due_at) == ("re_engage", at("2026-11-30 09:00", LONDON))
    assert done is None


def test_a_conversation_we_started_is_followed_up_not_answered_as_a_hand_raise():
    # An outbound call that connected sets both "last contacted" and "last answered" to the
    # same moment: that is a conversation, not the lead reaching out.
    called = at("2026-11-23 10:00")

    due = due_follow_up(
        state(stage="contacted", last_contacted_at=called, last_inbound_at=called), LONDON
    )

    assert (due.kind, due.rule, due.due_at) == (
        "follow_up",
        "after_conversation",
        at("2026-11-26 09:00", LONDON),
    )


# --- after an activity -----------------------------------------------------------------------

MONDAY_10 = at("2026-11-23 10:00")


def test_a_connected_call_resets_the_no_reply_streak_and_plans_a_follow_up_after_3_days():
    before = state(
        stage="contacted",
        last_contacted_at=at("2026-11-20 10:00"),
        unanswered_touches=2,
        first_unanswered_at=at("2026-11-18 10:00"),
    )
    call = ActivityFacts("call", "outbound", MONDAY_10, outcome="connected")

    change = after_activity(before, call, now=MONDAY_10)
    due = next_after_activity(change, LONDON, now=MONDAY_10)

    assert change.to_stage == ""
    assert (change.state.unanswered_touches, change.state.first_unanswered_at) == (0, None)
    assert change.state.last_contacted_at == change.state.last_inbound_at == MONDAY_10
    assert (due.kind, due.rule, due.due_at) == (
        "follow_up",
        "after_conversation",
        at("2026-11-26 09:00", LONDON),
    )


def test_a_first_unanswered_call_moves_a_new_lead_to_contacted():
    change = after_activity(
        state(), ActivityFacts("call", "outbound", MONDAY_10, outcome="no_answer"), now=MONDAY_10
    )

    assert (change.to_stage, change.state.stage) == ("contacted", "contacted")
    assert (change.state.unanswered_touches, change.state.first_unanswered_at) == (1, MONDAY_10)
    assert change.keeps_a_persons_follow_up


def test_a_hand_raise_engages_and_asks_for_a_response():
    asked = at("2026-11-23 11:00")
    change = after_activity(
        state(stage="contacted", last_contacted_at=MONDAY_10),
        ActivityFacts("asked_for_demo", "inbound", asked),
        now=asked,
    )

    assert (change.to_stage, change.reason) == ("engaged", "Asked for a demo")
    due = next_after_activity(change, LONDON, now=asked)
    assert (due.kind, due.due_at) == ("respond", at("2026-11-24 09:00", LONDON))


def test_the_fourth_unanswered_touch_parks_the_lead_in_nurture():
    change = after_activity(
        state(
            stage="contacted",
            last_contacted_at=at("2026-11-20 10:00"),
            unanswered_touches=3,
            first_unanswered_at=at("2026-11-06 10:00"),
        ),
        ActivityFacts("email", "outbound", MONDAY_10),
        now=MONDAY_10,
    )

    assert (change.to_stage, change.reason) == ("nurture", "No reply after 4 touches")
    assert not change.keeps_a_persons_follow_up
    due = next_after_activity(change, LONDON, now=MONDAY_10)
    assert due.kind == "re_engage"


def test_without_a_stage_move_the_next_step_is_tomorrow_at_the_earliest():
    # An engaged lead's hand-raise answered a week late: the rule's day is long past.
    change = after_activity(
        state(stage="engaged", last_contacted_at=at("2026-11-10 10:00")),
        ActivityFacts("replied", "inbound", at("2026-11-12 10:00")),
        now=MONDAY_10,
    )

    due = next_after_activity(change, LONDON, now=MONDAY_10)

    assert (change.to_stage, due.kind, due.due_at) == (
        "",
        "respond",
        at("2026-11-24 09:00", LONDON),
    )


@pytest.mark.parametrize("kind", ["note", "referral_ask"])
def test_notes_and_referral_asks_leave_the_plan_alone(kind):
    before = state(stage="contacted")

    change = after_activity(before, ActivityFacts(kind, "outbound", MONDAY_10), now=MONDAY_10)

    assert (change.moves_plan, change.state) == (False, before)
