"""Reminders are rows in the database, claimed atomically: concurrent dispatchers, an outage of
the worker and beat, and a broker that lost its messages all end with each email sent once."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.db import connection
from django.utils import timezone

from leadhunter.celery import app as celery_app
from reminders import services
from reminders.models import Reminder, ReminderKind, ReminderStatus
from reminders.tasks import run_reminders
from tests.factories import FollowUpFactory, LeadFactory, ReferralSourceFactory, UserFactory
from tests.trust.conftest import (
    broker_lose_everything,
    broker_queue_size,
    broker_reset,
    wait_for,
)

MONDAY_6_UTC = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)


def reminder_id(message) -> int:
    return int(message.extra_headers["Message-ID"].split(".")[0].removeprefix("<reminder-"))


def weekly_reminders_due(count: int, now: datetime) -> list[Reminder]:
    year, week, _ = now.date().isocalendar()
    reminders = []
    for number in range(count):
        user = UserFactory(time_zone="UTC", daily_digest_email=False)
        ReferralSourceFactory(owner=user, next_ask_at=now - timedelta(days=1))
        reminders.append(
            Reminder.objects.create(
                user=user,
                kind=ReminderKind.WEEKLY_REFERRALS,
                period=f"{year}-W{week:02d}",
                due_at=now - timedelta(seconds=number),
                next_attempt_at=now - timedelta(seconds=number),
            )
        )
    return reminders


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_running_at_once_send_each_email_once(monkeypatch):
    now = timezone.now()
    reminders = weekly_reminders_due(24, now)
    compose = services.emails.compose

    def slow_compose(*args, **kwargs):
        time.sleep(0.05)  # an SMTP round trip: the two dispatchers overlap on every row
        return compose(*args, **kwargs)

    monkeypatch.setattr(services.emails, "compose", slow_compose)
    start = threading.Barrier(2)
    summaries: list[services.DispatchSummary] = []

    def dispatcher() -> None:
        try:
            start.wait()
            summaries.append(services.reminders_dispatch())
        finally:
            connection.close()

    threads = [threading.Thread(target=dispatcher) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(summaries) == 2
    assert sum(summary.sent for summary in summaries) == len(reminders)
    # Both really ran at once: each found rows the other had already claimed.
    assert all(summary.already_claimed > 0 for summary in summaries)
    assert all(summary.crashed == 0 for summary in summaries)
    sent = Counter(reminder_id(message) for message in mail.outbox)
    assert sent == {reminder.pk: 1 for reminder in reminders}
    assert set(Reminder.objects.values_list("status", flat=True)) == {ReminderStatus.SENT}


@pytest.mark.django_db
def test_reminders_are_not_broker_messages_with_a_countdown():
    """Nothing in the reminders app schedules work through the broker; the beat job runs every
    ten minutes and reads the rows."""
    from django_celery_beat.models import PeriodicTask

    app_folder = Path(services.__file__).parent
    modules = [path for path in app_folder.glob("*.py") if path.name != "__init__.py"]
    assert {"services.py", "tasks.py", "emails.py"} <= {path.name for path in modules}
    for path in modules:
        code = path.read_text()
        for scheduling in ("countdown", "eta=", ".delay(", "apply_async(", "send_task("):
            assert scheduling not in code, f"{path.name} uses {scheduling}"
    beat = PeriodicTask.objects.get(task="reminders.tasks.run_reminders")
    assert (beat.interval.every, beat.interval.period) == (10, "minutes")


@pytest.mark.django_db
def test_after_two_hours_without_worker_or_beat_each_due_email_goes_once_oldest_first(
    time_machine, mailoutbox
):
    time_machine.move_to(MONDAY_6_UTC, tick=False)
    people = {
        "paris": UserFactory(username="paris", time_zone="Europe/Paris", daily_digest_email=True),
        "london": UserFactory(username="london", time_zone="UTC", daily_digest_email=True),
        "sao_paulo": UserFactory(
            username="sao_paulo", time_zone="America/Sao_Paulo", daily_digest_email=True
        ),
    }
    for user in people.values():
        ReferralSourceFactory(owner=user, next_ask_at=MONDAY_6_UTC - timedelta(days=1))
        FollowUpFactory(lead=LeadFactory(owner=user), due_at=MONDAY_6_UTC + timedelta(hours=3))
    # Rows planned before the outage and never sent: last week's and Friday's.
    stale = [
        Reminder.objects.create(
            user=people["london"],
            kind=ReminderKind.WEEKLY_REFERRALS,
            period="2026-W48",
            due_at=datetime(2026, 11, 23, 8, 0, tzinfo=UTC),
            next_attempt_at=datetime(2026, 11, 23, 8, 0, tzinfo=UTC),
        ),
        Reminder.objects.create(
            user=people["paris"],
            kind=ReminderKind.DAILY_DIGEST,
            period="2026-11-27",
            due_at=datetime(2026, 11, 27, 6, 30, tzinfo=UTC),
            next_attempt_at=datetime(2026, 11, 27, 6, 30, tzinfo=UTC),
        ),
    ]
    assert run_reminders.apply().get()["sent"] == 0  # 06:00 UTC: nothing due yet

    # Worker and beat are down from 06:00 to 08:10 UTC; beat then catches up (a burst of runs).
    time_machine.move_to(MONDAY_6_UTC + timedelta(hours=2, minutes=10), tick=False)
    for _ in range(3):
        run_reminders.apply().get()

    sent = [Reminder.objects.get(pk=reminder_id(message)) for message in mailoutbox]
    assert [(r.user.username, r.kind) for r in sent] == [
        ("paris", ReminderKind.DAILY_DIGEST),  # 07:30 Paris = 06:30 UTC
        ("paris", ReminderKind.WEEKLY_REFERRALS),  # 08:00 Paris = 07:00 UTC
        ("london", ReminderKind.DAILY_DIGEST),  # 07:30 UTC
        ("london", ReminderKind.WEEKLY_REFERRALS),  # 08:00 UTC
    ]
    assert [r.due_at for r in sent] == sorted(r.due_at for r in sent)
    for reminder in stale:
        reminder.refresh_from_db()
        assert reminder.status == ReminderStatus.EXPIRED
    # São Paulo's emails are not due until 10:30 and 11:00 UTC; they go then, once.
    assert not Reminder.objects.filter(user=people["sao_paulo"]).exists()
    time_machine.move_to(MONDAY_6_UTC + timedelta(hours=5, minutes=10), tick=False)
    run_reminders.apply().get()
    run_reminders.apply().get()
    assert Counter(reminder_id(m) for m in mailoutbox).most_common(1)[0][1] == 1
    assert [m.to for m in mailoutbox[4:]] == [["sao_paulo@example.com"]] * 2


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_broker_that_lost_its_messages_loses_no_reminder(settings):
    """Redis restarted without persistence (here: FLUSHDB of this run's own Redis database), or
    the filesystem broker's queue files deleted: the rows are still pending, and the next beat
    run sends them, once."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    broker_reset()
    reminders = weekly_reminders_due(3, timezone.now())

    run_reminders.delay()  # the beat run whose message the broker will lose
    assert broker_queue_size() == 1
    broker_lose_everything()
    assert broker_queue_size() == 0

    with start_worker(
        celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=30
    ) as _worker:
        time.sleep(2)  # the worker polls an empty queue
        assert Reminder.objects.filter(status=ReminderStatus.PENDING).count() == 3

        run_reminders.delay()  # the next beat run, ten minutes later

        assert wait_for(
            lambda: not Reminder.objects.exclude(status=ReminderStatus.SENT).exists()
        ), "pending reminders were not sent"
    sent = Counter(reminder_id(message) for message in mail.outbox)
    assert sent == {reminder.pk: 1 for reminder in reminders}
