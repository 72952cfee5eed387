"""Failures end: transient ones are retried with backoff and jitter, permanent ones are marked
failed where a manager sees them, and poison work stops instead of looping."""

from __future__ import annotations

import smtplib
import statistics
from datetime import timedelta

import pytest
from django.db import OperationalError
from django.urls import reverse

from icp import tasks as icp_tasks
from leadhunter.celery import MAX_DELIVERIES
from reminders import services
from reminders.models import Reminder, ReminderKind, ReminderStatus
from reminders.services import MAX_ATTEMPTS, STALE_CLAIM_AFTER, backoff, reminders_dispatch
from tests.factories import LeadFactory, ReferralSourceFactory
from tests.reminders.conftest import MONDAY_9_LONDON
from tests.waiting import wait_for


@pytest.fixture
def reminder(clock, salesperson) -> Reminder:
    """Sam's weekly email alone: the digest (on by default) would be a second row."""
    salesperson.daily_digest_email = False
    salesperson.save(update_fields=["daily_digest_email"])
    clock(MONDAY_9_LONDON)
    ReferralSourceFactory(owner=salesperson, next_ask_at=MONDAY_9_LONDON)
    services.reminders_plan()
    return Reminder.objects.get(user=salesperson, kind=ReminderKind.WEEKLY_REFERRALS)


# --- transient: backoff with jitter ----------------------------------------------------------


def test_backoff_grows_fourfold_up_to_a_cap_and_is_jittered():
    for attempts, minutes in [(1, 2), (2, 8), (3, 32), (4, 128), (5, 180), (9, 180)]:
        waits = [backoff(attempts) / timedelta(minutes=1) for _ in range(300)]
        assert min(waits) >= 0.8 * minutes
        assert max(waits) <= 1.2 * minutes
        # Jitter: spread over the ±20 % band, so retries of many reminders do not line up.
        assert len(set(waits)) > 250
        assert max(waits) - min(waits) > 0.3 * minutes
        assert abs(statistics.mean(waits) - minutes) < 0.05 * minutes


@pytest.mark.django_db
def test_a_transient_smtp_error_is_retried_later_not_at_once(
    reminder, smtp_failures, clock, mailoutbox
):
    smtp_failures.extend([smtplib.SMTPServerDisconnected("gone"), TimeoutError("slow")])

    assert reminders_dispatch().retrying == 1
    first_wait = Reminder.objects.get(pk=reminder.pk).next_attempt_at - MONDAY_9_LONDON
    clock(MONDAY_9_LONDON + first_wait + timedelta(seconds=1))
    assert reminders_dispatch().retrying == 1
    reminder.refresh_from_db()
    second_wait = reminder.next_attempt_at - (MONDAY_9_LONDON + first_wait + timedelta(seconds=1))
    assert second_wait > 2 * first_wait  # 8 minutes ±20 % after 2 minutes ±20 %
    clock(reminder.next_attempt_at)
    assert reminders_dispatch().sent == 1
    assert len(mailoutbox) == 1


# --- permanent: failed, and visible to a manager ---------------------------------------------


@pytest.mark.django_db
def test_a_permanent_error_fails_the_reminder_and_the_manager_can_filter_for_it(
    reminder, smtp_failures, clock, client_of, manager, other_salesperson
):
    smtp_failures.append(smtplib.SMTPRecipientsRefused({"sam@example.com": (550, b"No user")}))
    ReferralSourceFactory(owner=other_salesperson, next_ask_at=MONDAY_9_LONDON)
    services.reminders_plan()

    summary = reminders_dispatch()

    assert (summary.failed, summary.sent) == (1, 1)
    client = client_of(manager)
    changelist = reverse("admin:reminders_reminder_changelist")
    page = client.get(changelist)
    assert "?status__exact=failed" in page.text  # the status filter offers "Failed"
    failed = client.get(changelist, {"status__exact": "failed"})
    assert failed.status_code == 200
    assert list(failed.context["cl"].result_list) == [reminder]
    assert "SMTPRecipientsRefused" in failed.text
    sent = client.get(changelist, {"status__exact": "sent"})
    assert [r.user for r in sent.context["cl"].result_list] == [other_salesperson]


def test_salespeople_cannot_see_the_reminders_admin(client_of, salesperson):
    response = client_of(salesperson).get(reverse("admin:reminders_reminder_changelist"))
    assert response.status_code in (302, 403)


# --- poison work ends ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_reminder_that_raises_every_time_fails_after_max_attempts_and_stays_failed(
    reminder, monkeypatch, clock, mailoutbox
):
    calls = []

    def poison(*args, **kwargs):
        calls.append(1)
        raise KeyError("a template variable this row always lacks")

    monkeypatch.setattr(services.emails, "compose", poison)
    for _ in range(MAX_ATTEMPTS * 3):  # far more beat runs than attempts
        reminders_dispatch()
        reminder.refresh_from_db()
        clock(max(reminder.next_attempt_at, MONDAY_9_LONDON) + timedelta(minutes=1))

    assert len(calls) == MAX_ATTEMPTS
    assert reminder.status == ReminderStatus.FAILED
    assert reminder.last_error.startswith(f"Gave up after {MAX_ATTEMPTS} attempts.")
    assert mailoutbox == []


class WorkerDied(BaseException):
    """What the dispatcher sees of a worker killed mid-send: nothing; the row stays claimed."""


@pytest.mark.django_db
def test_a_reminder_whose_worker_dies_on_every_attempt_is_given_up(reminder, monkeypatch, clock):
    def kill_worker(*args, **kwargs):
        raise WorkerDied

    monkeypatch.setattr(services.emails, "compose", kill_worker)
    moment = MONDAY_9_LONDON
    crashes = 0
    for _ in range(MAX_ATTEMPTS * 2):
        try:
            reminders_dispatch()
        except WorkerDied:
            crashes += 1
        moment += STALE_CLAIM_AFTER + timedelta(minutes=1)
        clock(moment)

    reminder.refresh_from_db()
    assert crashes == MAX_ATTEMPTS  # the row's attempts counter stops the loop
    assert reminder.status == ReminderStatus.FAILED
    assert reminder.last_error.startswith("Gave up: the worker stopped while sending")


@pytest.mark.django_db
def test_a_rescore_that_fails_every_time_stops_after_its_retries(salesperson, monkeypatch):
    lead = LeadFactory(owner=salesperson)
    runs = []

    def always_locked(*, lead_id):
        runs.append(lead_id)
        raise OperationalError("database is locked")

    monkeypatch.setattr(icp_tasks, "lead_rescore", always_locked)

    result = icp_tasks.rescore_lead.apply(args=(lead.pk,))

    assert result.failed()
    assert isinstance(result.result, OperationalError)
    assert runs == [lead.pk] * (1 + icp_tasks.rescore_lead.max_retries)
    assert icp_tasks.rescore_lead.max_retries == 5


@pytest.mark.worker
def test_a_task_that_kills_its_worker_is_dropped_after_three_deliveries(worker_process, tmp_path):
    from tests.trust.worker_hooks import kill_own_process, touch

    runs = tmp_path / "runs.txt"
    runs.touch()
    marks = tmp_path / "marks.txt"
    worker = worker_process(pool="prefork", LH_TEST_RUNS_FILE=str(runs))

    kill_own_process.delay()

    def started() -> int:
        return len(runs.read_text().splitlines())

    assert wait_for(lambda: started() == MAX_DELIVERIES, timeout=90), worker.output()
    # The worker replaced its lost pool process each time and carries on with other work...
    touch.delay(str(marks))
    assert wait_for(marks.exists, timeout=60), worker.output()
    # ...and the fourth delivery of the poison message was dropped, not run.
    assert wait_for(lambda: "Dropped task tests.trust.kill_own_process" in worker.output())
    assert started() == MAX_DELIVERIES
    assert worker.alive
