from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from reminders.models import Reminder, ReminderKind, ReminderStatus
from reminders.services import reminders_plan
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# Monday 30 November 2026, 08:00 in Tokyo (UTC+9) is Sunday 23:00 UTC;
# 08:00 in Los Angeles (UTC-8) is Monday 16:00 UTC.
TOKYO_MONDAY_8 = datetime(2026, 11, 29, 23, 0, tzinfo=UTC)
LOS_ANGELES_MONDAY_8 = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)


@pytest.fixture
def tokyo(db):
    return UserFactory(username="kenji", time_zone="Asia/Tokyo", daily_digest_email=False)


@pytest.fixture
def los_angeles(db):
    return UserFactory(username="lucia", time_zone="America/Los_Angeles", daily_digest_email=False)


def weekly(user) -> list[Reminder]:
    return list(Reminder.objects.filter(user=user, kind=ReminderKind.WEEKLY_REFERRALS))


def test_the_weekly_reminder_is_planned_at_8_on_monday_in_each_users_time_zone(tokyo, los_angeles):
    assert reminders_plan(now=TOKYO_MONDAY_8 - timedelta(minutes=1)) == 0

    assert reminders_plan(now=TOKYO_MONDAY_8) == 1
    [reminder] = weekly(tokyo)
    assert reminder.period == "2026-W49"
    assert reminder.due_at == TOKYO_MONDAY_8
    assert reminder.next_attempt_at == reminder.due_at
    assert reminder.status == ReminderStatus.PENDING
    assert weekly(los_angeles) == []  # still Sunday afternoon there

    assert reminders_plan(now=LOS_ANGELES_MONDAY_8 - timedelta(minutes=1)) == 0
    assert reminders_plan(now=LOS_ANGELES_MONDAY_8) == 1
    [reminder] = weekly(los_angeles)
    assert reminder.period == "2026-W49"
    assert reminder.due_at == LOS_ANGELES_MONDAY_8


def test_planning_again_in_the_same_period_changes_nothing(tokyo, los_angeles):
    assert reminders_plan(now=LOS_ANGELES_MONDAY_8) == 1
    # Tokyo is already on Tuesday: its Monday has passed without a plan run, so nothing late.
    assert weekly(tokyo) == []
    for later in (timedelta(0), timedelta(minutes=10), timedelta(hours=5)):
        assert reminders_plan(now=LOS_ANGELES_MONDAY_8 + later) == 0
    assert Reminder.objects.count() == 1


def test_each_week_gets_its_own_reminder(los_angeles):
    reminders_plan(now=LOS_ANGELES_MONDAY_8)
    reminders_plan(now=LOS_ANGELES_MONDAY_8 + timedelta(days=7))

    assert sorted(r.period for r in weekly(los_angeles)) == ["2026-W49", "2026-W50"]


def test_the_daily_digest_is_planned_at_7_30_on_weekdays_only(db):
    user = UserFactory(
        username="dee",
        time_zone="Europe/London",
        daily_digest_email=True,
        weekly_referral_email=False,
    )
    monday_7_30 = datetime(2026, 11, 30, 7, 30, tzinfo=UTC)  # London is on UTC in winter

    assert reminders_plan(now=monday_7_30 - timedelta(seconds=1)) == 0
    assert reminders_plan(now=monday_7_30) == 1
    assert reminders_plan(now=monday_7_30 + timedelta(hours=3)) == 0
    assert reminders_plan(now=monday_7_30 + timedelta(days=1)) == 1
    assert reminders_plan(now=monday_7_30 + timedelta(days=5)) == 0  # Saturday
    assert reminders_plan(now=monday_7_30 + timedelta(days=6)) == 0  # Sunday

    digests = Reminder.objects.filter(user=user, kind=ReminderKind.DAILY_DIGEST)
    assert sorted(digests.values_list("period", flat=True)) == ["2026-11-30", "2026-12-01"]


def test_users_who_opted_out_or_left_get_no_reminders(db):
    UserFactory(
        username="quiet", time_zone="UTC", weekly_referral_email=False, daily_digest_email=False
    )
    UserFactory(username="gone", time_zone="UTC", is_active=False, daily_digest_email=True)

    assert reminders_plan(now=datetime(2026, 11, 30, 12, 0, tzinfo=UTC)) == 0


def test_planning_costs_three_queries_for_any_number_of_users(db, django_assert_num_queries):
    for n in range(5):
        UserFactory(username=f"rep-{n}", time_zone="UTC", daily_digest_email=True)

    with django_assert_num_queries(3):
        assert reminders_plan(now=datetime(2026, 11, 30, 12, 0, tzinfo=UTC)) == 10
