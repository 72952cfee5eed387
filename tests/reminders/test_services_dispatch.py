from __future__ import annotations

import smtplib
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection

from reminders import services
from reminders.models import Reminder, ReminderKind, ReminderStatus
from reminders.services import (
    MAX_ATTEMPTS,
    SendOutcome,
    reminder_send,
    reminders_dispatch,
    reminders_plan,
)
from tests.factories import FollowUpFactory, LeadFactory, ReferralSourceFactory, UserFactory
from tests.reminders.conftest import MONDAY_9_LONDON

pytestmark = pytest.mark.django_db


@pytest.fixture
def reminder(clock, salesperson) -> Reminder:
    """Sam's weekly referral reminder, due since 08:00 London, with someone to ask."""
    clock(MONDAY_9_LONDON)
    ReferralSourceFactory(owner=salesperson, name="Dana Smith", next_ask_at=MONDAY_9_LONDON)
    assert reminders_plan() == 1
    return Reminder.objects.get(user=salesperson)


def test_dispatching_sends_the_reminder_and_records_it(reminder, mailoutbox):
    summary = reminders_dispatch()

    assert summary.sent == 1
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.SENT
    assert reminder.sent_at == MONDAY_9_LONDON
    assert reminder.attempts == 1
    assert reminder.subject == "Who to ask for a referral this week (1)"
    [email] = mailoutbox
    assert email.to == ["sam@example.com"]
    assert email.subject == reminder.subject


def test_dispatching_twice_sends_one_email(reminder, mailoutbox, clock):
    reminders_dispatch()
    clock(MONDAY_9_LONDON + timedelta(minutes=10))
    reminders_plan()
    second = reminders_dispatch()

    assert second.sent == 0
    assert len(mailoutbox) == 1
    assert Reminder.objects.count() == 1


def test_a_second_claim_of_the_same_reminder_does_nothing(reminder, mailoutbox):
    assert reminder_send(reminder_id=reminder.pk) == SendOutcome.SENT
    assert reminder_send(reminder_id=reminder.pk) == SendOutcome.ALREADY_CLAIMED
    assert len(mailoutbox) == 1


def test_a_reminder_claimed_by_a_live_worker_is_left_to_it(reminder, mailoutbox, clock):
    Reminder.objects.filter(pk=reminder.pk).update(
        status=ReminderStatus.SENDING, claimed_at=MONDAY_9_LONDON, attempts=1
    )
    clock(MONDAY_9_LONDON + timedelta(minutes=14))

    assert reminder_send(reminder_id=reminder.pk) == SendOutcome.ALREADY_CLAIMED
    assert reminders_dispatch().sent == 0
    assert mailoutbox == []


def test_a_reminder_left_sending_by_a_dead_worker_is_sent_later(reminder, mailoutbox, clock):
    Reminder.objects.filter(pk=reminder.pk).update(
        status=ReminderStatus.SENDING, claimed_at=MONDAY_9_LONDON, attempts=1
    )
    clock(MONDAY_9_LONDON + timedelta(minutes=16))

    assert reminders_dispatch().sent == 1
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.SENT
    assert reminder.attempts == 2
    assert len(mailoutbox) == 1


def test_a_transient_failure_is_retried_with_backoff(reminder, mailoutbox, smtp_failures, clock):
    smtp_failures.append(smtplib.SMTPServerDisconnected("Connection unexpectedly closed"))

    assert reminders_dispatch().retrying == 1
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.PENDING
    assert reminder.attempts == 1
    assert "SMTPServerDisconnected" in reminder.last_error
    # 2 minutes ±20 % jitter.
    wait = reminder.next_attempt_at - MONDAY_9_LONDON
    assert timedelta(seconds=96) <= wait <= timedelta(seconds=144)
    assert mailoutbox == []

    assert reminders_dispatch().sent == 0  # not due again yet
    clock(MONDAY_9_LONDON + timedelta(minutes=3))
    assert reminders_dispatch().sent == 1

    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.SENT
    assert reminder.attempts == 2
    assert reminder.last_error == ""
    assert len(mailoutbox) == 1


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(111, "Connection refused"),
        TimeoutError("timed out"),
        smtplib.SMTPDataError(451, b"Try again later"),
        smtplib.SMTPAuthenticationError(535, b"Bad credentials"),
    ],
    ids=["refused", "timeout", "4xx", "auth"],
)
def test_network_and_temporary_smtp_errors_are_transient(reminder, smtp_failures, error):
    smtp_failures.append(error)

    assert reminder_send(reminder_id=reminder.pk) == SendOutcome.RETRY


@pytest.mark.parametrize(
    "error",
    [
        smtplib.SMTPRecipientsRefused({"sam@example.com": (550, b"No such user")}),
        smtplib.SMTPSenderRefused(553, b"Sender not allowed", "leadhunter@localhost"),
        smtplib.SMTPDataError(554, b"Message rejected"),
    ],
    ids=["recipient", "sender", "5xx"],
)
def test_a_permanent_failure_fails_the_reminder_at_once(
    reminder, mailoutbox, smtp_failures, clock, error
):
    smtp_failures.append(error)

    assert reminders_dispatch().failed == 1
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.FAILED
    assert reminder.attempts == 1
    assert type(error).__name__ in reminder.last_error

    clock(MONDAY_9_LONDON + timedelta(hours=1))
    assert reminders_dispatch() == services.DispatchSummary()
    assert mailoutbox == []


def test_a_user_without_an_email_address_fails_for_good(reminder, salesperson, mailoutbox):
    salesperson.email = ""
    salesperson.save()

    assert reminder_send(reminder_id=reminder.pk) == SendOutcome.FAILED
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.FAILED
    assert "no email address" in reminder.last_error


def test_the_dispatcher_gives_up_after_five_attempts(reminder, mailoutbox, smtp_failures, clock):
    moment = MONDAY_9_LONDON
    for attempt in range(1, MAX_ATTEMPTS + 1):
        smtp_failures.append(ConnectionRefusedError(111, "Connection refused"))
        summary = reminders_dispatch()
        assert summary.retrying + summary.failed == 1, attempt
        reminder.refresh_from_db()
        moment = reminder.next_attempt_at + timedelta(seconds=1)
        clock(moment)

    assert reminder.status == ReminderStatus.FAILED
    assert reminder.attempts == MAX_ATTEMPTS
    assert reminder.last_error.startswith("Gave up after 5 attempts.")
    assert reminders_dispatch().sent == 0
    assert mailoutbox == []
    # Four waits of 2, 8, 32 and 128 minutes (±20 %) still fit inside the day.
    assert moment - MONDAY_9_LONDON < timedelta(hours=4)


def test_a_failing_reminder_does_not_stop_the_others(clock, mailoutbox, smtp_failures):
    clock(MONDAY_9_LONDON)
    for name in ("ann", "bob", "cy"):
        user = UserFactory(username=name, time_zone="UTC")
        ReferralSourceFactory(owner=user, next_ask_at=MONDAY_9_LONDON)
    reminders_plan()
    smtp_failures.append(smtplib.SMTPRecipientsRefused({"ann@example.com": (550, b"No")}))

    summary = reminders_dispatch()

    assert (summary.failed, summary.sent) == (1, 2)
    assert len(mailoutbox) == 2


def test_an_unexpected_error_is_recorded_and_retried_not_raised(reminder, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("template bug")

    monkeypatch.setattr(services.emails, "compose", broken)

    assert reminders_dispatch().retrying == 1
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.PENDING
    assert reminder.last_error == "RuntimeError: template bug"


def test_nothing_to_say_skips_the_email(clock, salesperson, mailoutbox):
    clock(MONDAY_9_LONDON)
    reminders_plan()

    assert reminders_dispatch().skipped == 1
    assert Reminder.objects.get().status == ReminderStatus.SKIPPED
    assert mailoutbox == []


def test_turning_the_email_off_after_planning_stops_it(reminder, salesperson, mailoutbox):
    salesperson.weekly_referral_email = False
    salesperson.save()

    assert reminders_dispatch().skipped == 1
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.SKIPPED
    assert mailoutbox == []


def test_a_deactivated_user_gets_no_email(reminder, salesperson, mailoutbox):
    salesperson.is_active = False
    salesperson.save()

    assert reminder_send(reminder_id=reminder.pk) == SendOutcome.SKIPPED
    assert mailoutbox == []


@pytest.mark.parametrize(
    ("kind", "late", "expired"),
    [
        (ReminderKind.WEEKLY_REFERRALS, timedelta(hours=23, minutes=59), False),
        (ReminderKind.WEEKLY_REFERRALS, timedelta(hours=24, minutes=1), True),
        (ReminderKind.DAILY_DIGEST, timedelta(hours=11, minutes=59), False),
        (ReminderKind.DAILY_DIGEST, timedelta(hours=12, minutes=1), True),
    ],
)
def test_reminders_that_could_not_go_out_in_time_expire(
    clock, salesperson, mailoutbox, kind, late, expired
):
    clock(MONDAY_9_LONDON)
    ReferralSourceFactory(owner=salesperson, next_ask_at=MONDAY_9_LONDON)
    reminder = Reminder.objects.create(
        user=salesperson,
        kind=kind,
        period="2026-W49" if kind == ReminderKind.WEEKLY_REFERRALS else "2026-11-30",
        due_at=MONDAY_9_LONDON - late,
        next_attempt_at=MONDAY_9_LONDON - late,
    )
    salesperson.daily_digest_email = True
    salesperson.save()
    if kind == ReminderKind.DAILY_DIGEST:
        # Something for the digest to say.
        FollowUpFactory(lead=LeadFactory(owner=salesperson), due_at=MONDAY_9_LONDON)

    summary = reminders_dispatch()

    reminder.refresh_from_db()
    if expired:
        assert (summary.expired, summary.sent) == (1, 0)
        assert reminder.status == ReminderStatus.EXPIRED
        assert mailoutbox == []
    else:
        assert (summary.expired, summary.sent) == (0, 1)
        assert reminder.status == ReminderStatus.SENT


def test_a_retry_that_runs_past_the_cut_off_expires(reminder, smtp_failures, clock, mailoutbox):
    smtp_failures.append(ConnectionRefusedError(111, "Connection refused"))
    reminders_dispatch()
    clock(reminder.due_at + timedelta(hours=25))

    assert reminders_dispatch().expired == 1
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.EXPIRED
    assert mailoutbox == []


@pytest.mark.django_db(transaction=True)
def test_two_workers_claiming_at_once_send_one_email(salesperson, mailoutbox, monkeypatch):
    ReferralSourceFactory(owner=salesperson, next_ask_at=MONDAY_9_LONDON - timedelta(days=1))
    reminder = Reminder.objects.create(
        user=salesperson,
        kind=ReminderKind.WEEKLY_REFERRALS,
        period="2026-W49",
        due_at=MONDAY_9_LONDON,
        next_attempt_at=MONDAY_9_LONDON,
    )
    compose = services.emails.compose

    def slow_compose(*args, **kwargs):
        time.sleep(0.3)  # hold the claim while the other worker tries
        return compose(*args, **kwargs)

    monkeypatch.setattr(services.emails, "compose", slow_compose)
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def worker() -> None:
        try:
            start.wait()
            outcomes.append(reminder_send(reminder_id=reminder.pk, now=MONDAY_9_LONDON))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == [SendOutcome.ALREADY_CLAIMED, SendOutcome.SENT]
    assert len(mailoutbox) == 1
