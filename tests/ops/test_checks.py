"""The checks behind `manage.py doctor` and the Status page (ops/checks.py)."""

from __future__ import annotations

import os
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from icp.tasks import rescore_all_leads
from leadhunter.celery import app as celery_app
from ops.checks import State, ago, overall, system_checks
from ops.models import ScheduledRun, WorkerHeartbeat
from ops.tasks import BEAT_HEARTBEAT, beat_heartbeat
from reminders.models import Reminder, ReminderKind, ReminderStatus
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def backups(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    folder = tmp_path / "backups"
    folder.mkdir()
    return folder


def write_backup(folder, *, age: timedelta, name: str = "leadhunter-20261201-020000.sqlite3"):
    path = folder / name
    path.write_bytes(b"SQLite format 3\x00")
    stamp = (timezone.now() - age).timestamp()
    os.utime(path, (stamp, stamp))
    return path


@pytest.fixture
def healthy(backups):
    """Everything a running install has: a worker and beat beating, a fresh backup."""
    now = timezone.now()
    WorkerHeartbeat.objects.create(
        hostname="celery@box", pid=7, started_at=now, seen_at=now, consuming=True
    )
    beat_heartbeat.apply()
    write_backup(backups, age=timedelta(hours=3))


@pytest.fixture
def stopped_clock(clock):
    """The clock stands still from here: a heartbeat written now is "0 s" old in the report
    however long a busy machine (a parallel run) takes to produce it."""
    return clock(timezone.now())


def by_name() -> dict[str, object]:
    return {check.name: check for check in system_checks()}


def doctor(command: str = "doctor") -> tuple[list[str], int]:
    out = StringIO()
    try:
        call_command(command, stdout=out)
    except CommandError as error:
        return [*out.getvalue().splitlines(), str(error)], error.returncode
    return out.getvalue().splitlines(), 0


def test_a_healthy_install_is_all_ok(stopped_clock, healthy):
    checks = system_checks()

    assert [check.name for check in checks] == [
        "database",
        "broker",
        "worker",
        "beat",
        "nightly rescore",
        "last rescore",
        "pending emails",
        "failed emails",
        "migrations",
        "backup",
    ]
    assert {check.name: check.state for check in checks if check.state != State.OK} == {}
    assert all(check.todo == "" for check in checks)
    assert overall(checks) == State.OK
    lines, code = doctor()
    assert code == 0
    assert lines[-1].startswith("All ok (")
    assert lines[2].split() == [
        "ok",
        "worker",
        "taking",
        "tasks",
        "(last",
        "heartbeat",
        "0",
        "s",
        "ago)",
    ]


def test_a_dead_worker_is_a_problem_with_what_to_do(healthy):
    WorkerHeartbeat.objects.update(seen_at=timezone.now() - timedelta(minutes=10))

    worker = by_name()["worker"]

    assert worker.state == State.PROBLEM
    assert worker.found == "not running (last heartbeat 10 min ago)"
    assert "celery -A leadhunter worker" in worker.todo
    lines, code = doctor()
    assert code == 2
    assert "PROBLEM  worker           not running (last heartbeat 10 min ago)" in lines
    assert lines[-1].startswith("Needs attention: 1 problem")


def test_a_worker_cut_off_from_the_broker_is_a_problem(healthy):
    WorkerHeartbeat.objects.update(consuming=False)

    assert by_name()["worker"].found.startswith("running but cut off from the broker")


def test_an_unreachable_broker_is_a_problem(healthy, monkeypatch):
    monkeypatch.setitem(celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")

    assert by_name()["broker"].state == State.PROBLEM


def test_beat_is_a_problem_when_its_heartbeat_stops_while_the_worker_runs(healthy):
    ScheduledRun.objects.filter(task=BEAT_HEARTBEAT).update(
        finished_at=timezone.now() - timedelta(minutes=7)
    )

    beat = by_name()["beat"]

    assert beat.state == State.PROBLEM
    assert beat.found == "not sending tasks (last heartbeat 7 min ago)"
    assert "celery -A leadhunter beat" in beat.todo


def test_beat_is_unknown_while_the_worker_that_stamps_it_is_down(backups):
    beat = by_name()["beat"]

    assert beat.state == State.WARNING
    assert beat.found.startswith("unknown: its heartbeat is run by the worker")


def test_the_beat_heartbeat_is_scheduled_every_minute():
    schedule = PeriodicTask.objects.get(task=BEAT_HEARTBEAT)

    assert (schedule.interval.every, schedule.interval.period) == (1, "minutes")
    assert schedule.enabled


def test_the_nightly_rescore_is_recorded_when_it_finishes_and_goes_stale(healthy):
    assert by_name()["nightly rescore"].found == "not run yet: the first run is tonight"

    rescore_all_leads.apply()

    assert by_name()["nightly rescore"].found == "last finished 0 s ago"
    ScheduledRun.objects.filter(task="icp.tasks.rescore_all_leads").update(
        finished_at=timezone.now() - timedelta(hours=30)
    )
    stale = by_name()["nightly rescore"]
    assert (stale.state, stale.found) == (State.WARNING, "last finished 30 h ago")
    assert "rescore_leads" in stale.todo


def test_a_nightly_rescore_that_never_ran_on_an_old_install_is_a_warning(healthy):
    MigrationRecorder.Migration.objects.update(applied=timezone.now() - timedelta(days=3))

    check = by_name()["nightly rescore"]

    assert (check.state, check.found) == (State.WARNING, "has never finished")


def test_a_turned_off_nightly_rescore_is_a_warning(healthy):
    PeriodicTask.objects.filter(task="icp.tasks.rescore_all_leads").update(enabled=False)

    assert by_name()["nightly rescore"].state == State.WARNING


def test_the_last_rescore_of_any_lead_is_reported(healthy):
    LeadFactory(scored_at=timezone.now() - timedelta(minutes=5))

    assert by_name()["last rescore"].found == "a lead was last scored 5 min ago"


def reminder(user, *, status, due_ago: timedelta, period: str, error: str = "") -> Reminder:
    due_at = timezone.now() - due_ago
    return Reminder.objects.create(
        user=user,
        kind=ReminderKind.DAILY_DIGEST,
        period=period,
        due_at=due_at,
        next_attempt_at=due_at,
        status=status,
        last_error=error,
    )


def test_pending_emails_are_ok_until_one_is_stuck(healthy):
    user = UserFactory()
    reminder(user, status=ReminderStatus.PENDING, due_ago=timedelta(minutes=5), period="a")
    assert (by_name()["pending emails"].state, by_name()["pending emails"].found) == (
        State.OK,
        "1 waiting, none overdue",
    )

    reminder(user, status=ReminderStatus.PENDING, due_ago=timedelta(hours=2), period="b")

    stuck = by_name()["pending emails"]
    assert (stuck.state, stuck.found) == (State.WARNING, "2 waiting, the oldest due 2 h ago")


def test_a_failed_email_needs_attention_and_the_command_exits_non_zero(healthy):
    reminder(
        UserFactory(),
        status=ReminderStatus.FAILED,
        due_ago=timedelta(hours=1),
        period="c",
        error="SMTPRecipientsRefused: {'x@example.com': (550, b'No such user')}",
    )

    failed = by_name()["failed emails"]

    assert failed.state == State.WARNING
    assert failed.found.startswith("1 failed in the last 24 h (last: SMTPRecipientsRefused")
    lines, code = doctor()
    assert code == 1
    assert lines[-1].startswith("Needs attention: 1 warning (")


def test_unapplied_migrations_are_a_problem(healthy):
    MigrationRecorder.Migration.objects.filter(
        app="ops", name="0003_beat_heartbeat_schedule"
    ).delete()

    check = by_name()["migrations"]

    assert (check.state, check.found) == (
        State.PROBLEM,
        "1 not applied: ops.0003_beat_heartbeat_schedule",
    )
    assert check.todo.startswith("Run `.venv/bin/python manage.py migrate`")


def test_the_backup_check_finds_the_newest_backup_and_its_age(healthy, backups):
    write_backup(backups, age=timedelta(days=3), name="leadhunter-20261101-020000.sqlite3")
    (backups / "leadhunter-20261206-020000.sqlite3.partial").write_bytes(b"half")

    assert by_name()["backup"].found.startswith("the newest is from 3 h ago (")

    for path in backups.glob("*.sqlite3"):
        stamp = (timezone.now() - timedelta(days=2)).timestamp()
        os.utime(path, (stamp, stamp))
    stale = by_name()["backup"]
    assert (stale.state, stale.found) == (
        State.WARNING,
        "the newest is from 2 days ago (leadhunter-20261201-020000.sqlite3)",
    )


def test_no_backup_at_all_is_a_warning(healthy, backups):
    for path in backups.iterdir():
        path.unlink()

    check = by_name()["backup"]

    assert (check.state, check.found) == (State.WARNING, f"none in {backups}")


def test_status_is_the_same_command_as_doctor(healthy):
    WorkerHeartbeat.objects.update(seen_at=timezone.now() - timedelta(minutes=10))

    assert doctor("status")[1] == doctor("doctor")[1] == 2


@pytest.mark.parametrize(
    ("seconds", "said"),
    [(5, "5 s ago"), (300, "5 min ago"), (3 * 3600, "3 h ago"), (3 * 86400, "3 days ago")],
)
def test_ages_read_naturally(seconds, said):
    now = timezone.now()
    assert ago(now - timedelta(seconds=seconds), now) == said


def test_beat_without_any_heartbeat_yet_is_only_a_warning(healthy):
    ScheduledRun.objects.filter(task=BEAT_HEARTBEAT).delete()

    beat = by_name()["beat"]

    assert beat.state == State.WARNING
    assert beat.found == "no heartbeat yet (beat sends the first one a minute after it starts)"


def test_a_database_without_the_tables_says_to_migrate(healthy, monkeypatch):
    def no_table(**kwargs):
        raise OperationalError("no such table: ops_workerheartbeat")

    monkeypatch.setattr("ops.checks.selectors.worker_status", no_table)

    checks = by_name()

    assert checks["everything else"].state == State.PROBLEM
    assert "no such table" in checks["everything else"].found
    assert checks["everything else"].todo.startswith("Run `.venv/bin/python manage.py migrate`")
    assert checks["migrations"].state == State.OK
