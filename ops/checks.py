"""What a self-hoster needs to know, as a list of checks: `manage.py doctor` prints them and
the managers' Status page shows them, both from `system_checks()`.

Each check is ok, a warning (works, but look at it soon) or a problem (something is not
working), with one line of what it found and, unless ok, one line of what to do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder
from django.db.models import Max
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from emails.capture_selectors import mailboxes_health
from leads.models import Lead
from ops import health, selectors
from ops.backups import backup_folder, backup_newest
from ops.models import ScheduledRun
from ops.signals import NIGHTLY_RESCORE
from ops.tasks import BEAT_HEARTBEAT
from reminders.selectors import OutboxCounts, reminder_outbox_counts

# Beat stamps its heartbeat every minute; this long without one and beat (or the worker that
# runs the stamp) has stopped.
BEAT_STALE_AFTER = timedelta(minutes=5)
# The nightly rescore runs at 02:30; a run older than this missed a night.
RESCORE_STALE_AFTER = timedelta(hours=26)
# Reminders are sent every 10 minutes; one waiting this long past its time is stuck.
EMAIL_STUCK_AFTER = timedelta(minutes=30)
FAILED_EMAILS_WITHIN = timedelta(hours=24)
BACKUP_STALE_AFTER = timedelta(hours=36)


class State(StrEnum):
    OK = "ok"
    WARNING = "warning"
    PROBLEM = "problem"


@dataclass(frozen=True)
class Check:
    name: str
    state: State
    found: str
    todo: str = ""


def system_checks(*, now: datetime | None = None) -> list[Check]:
    """Every check, in the order a person would look: can it run, is it working, is it safe."""
    now = now or timezone.now()
    checks = [_database(), _broker()]
    if checks[0].state != State.OK:
        return [*checks, Check("everything else", State.PROBLEM, "not checked: no database")]
    try:
        worker = _worker(now)
        outbox = reminder_outbox_counts(since=now - FAILED_EMAILS_WITHIN)
    except DatabaseError as error:  # e.g. a database that was never migrated
        return [*checks, _not_checked("everything else", error), _migrations()]
    steps: list[tuple[str, Callable[[], Check]]] = [
        ("beat", lambda: _beat(now, worker_ok=worker.state == State.OK)),
        ("nightly rescore", lambda: _nightly_rescore(now)),
        ("last rescore", lambda: _last_rescore(now)),
        ("pending emails", lambda: _pending_emails(outbox, now)),
        ("failed emails", lambda: _failed_emails(outbox)),
        ("email capture", lambda: _email_capture(now)),
        ("migrations", _migrations),
        ("backup", lambda: _backup(now)),
    ]
    results = [_guarded(name, step) for name, step in steps]
    # No capture mailbox and no connected mailbox: nothing to say about email capture.
    results = [check for check in results if check.name != "email capture" or check.found]
    return [*checks, worker, *results]


def _guarded(name: str, step: Callable[[], Check]) -> Check:
    try:
        return step()
    except DatabaseError as error:
        return _not_checked(name, error)


def _not_checked(name: str, error: Exception) -> Check:
    return Check(
        name,
        State.PROBLEM,
        f"could not be checked ({type(error).__name__}: {str(error).strip()[:120]})",
        "Run `.venv/bin/python manage.py migrate`; if that does not help, check the database.",
    )


def overall(checks: list[Check]) -> State:
    """The worst state among the checks."""
    states = {check.state for check in checks}
    for state in (State.PROBLEM, State.WARNING):
        if state in states:
            return state
    return State.OK


def ago(moment: datetime, now: datetime) -> str:
    """ "12 s ago", "5 min ago", "3 h ago", "2 days ago"."""
    seconds = max(0, round((now - moment).total_seconds()))
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 2 * 3600:
        return f"{seconds // 60} min ago"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} days ago"


# --- Can it run ----------------------------------------------------------------------------


def _database() -> Check:
    name = f"{connection.vendor} {connection.settings_dict['NAME']}"
    if health.database_ok():
        return Check("database", State.OK, f"reachable ({name})")
    return Check(
        "database",
        State.PROBLEM,
        f"not reachable ({name})",
        "Start the database server, or fix DATABASE_URL.",
    )


def _broker() -> Check:
    where = "Redis" if str(settings.CELERY_BROKER_URL).startswith("redis") else "filesystem"
    if health.broker_ok():
        return Check("broker", State.OK, f"reachable ({where})")
    todo = (
        "Start Redis, or fix REDIS_URL."
        if where == "Redis"
        else "Make DATA_DIR/broker writable by the web server and the worker."
    )
    return Check("broker", State.PROBLEM, f"not reachable ({where})", todo)


def _worker(now: datetime) -> Check:
    status = selectors.worker_status(now=now)
    seen = f"last heartbeat {ago(status.last_seen, now)}" if status.last_seen else ""
    if status.state == "ok":
        return Check("worker", State.OK, f"taking tasks ({seen})")
    if status.state == "disconnected":
        return Check(
            "worker",
            State.PROBLEM,
            f"running but cut off from the broker ({seen})",
            "Check the broker; the worker reconnects by itself once it is back.",
        )
    return Check(
        "worker",
        State.PROBLEM,
        f"not running ({seen or 'no worker has ever written a heartbeat'})",
        "Start it: `celery -A leadhunter worker` (`make run` and compose start one).",
    )


# --- Is it working -------------------------------------------------------------------------


def _last_finished(task: str) -> datetime | None:
    return ScheduledRun.objects.filter(task=task).values_list("finished_at", flat=True).first()


def _beat(now: datetime, *, worker_ok: bool) -> Check:
    last = _last_finished(BEAT_HEARTBEAT)
    if last is not None and now - last <= BEAT_STALE_AFTER:
        return Check("beat", State.OK, f"sending tasks (last heartbeat {ago(last, now)})")
    found = f"last heartbeat {ago(last, now)}" if last else "no heartbeat yet"
    if not worker_ok:
        # The stamp is written by a worker: with none running, beat's silence proves nothing.
        return Check(
            "beat",
            State.WARNING,
            f"unknown: its heartbeat is run by the worker, which is not running ({found})",
            "Start the worker first; if this stays, start beat too.",
        )
    if last is None:
        # Beat sends its first heartbeat a minute after it starts: a new install is not down.
        return Check(
            "beat",
            State.WARNING,
            "no heartbeat yet (beat sends the first one a minute after it starts)",
            "If this stays, start exactly one: `celery -A leadhunter beat` "
            "(`make run` and compose start it).",
        )
    return Check(
        "beat",
        State.PROBLEM,
        f"not sending tasks ({found})",
        "Start exactly one: `celery -A leadhunter beat` (`make run` and compose start it).",
    )


def _installed_at() -> datetime | None:
    return (
        MigrationRecorder.Migration.objects.order_by("applied")
        .values_list("applied", flat=True)
        .first()
    )


def _nightly_rescore(now: datetime) -> Check:
    schedule = PeriodicTask.objects.filter(task=NIGHTLY_RESCORE).first()
    if schedule is None or not schedule.enabled:
        return Check(
            "nightly rescore",
            State.WARNING,
            "not scheduled: intent scores stop fading with time",
            "Turn “Nightly rescoring” back on in Admin → Periodic tasks.",
        )
    last = _last_finished(NIGHTLY_RESCORE)
    if last is not None and now - last <= RESCORE_STALE_AFTER:
        return Check("nightly rescore", State.OK, f"last finished {ago(last, now)}")
    installed = _installed_at()
    if last is None and installed is not None and now - installed <= RESCORE_STALE_AFTER:
        return Check("nightly rescore", State.OK, "not run yet: the first run is tonight")
    found = f"last finished {ago(last, now)}" if last else "has never finished"
    return Check(
        "nightly rescore",
        State.WARNING,
        found,
        "Check that the worker and beat run at night (02:30); "
        "`.venv/bin/python manage.py rescore_leads` rescores now.",
    )


def _last_rescore(now: datetime) -> Check:
    last = Lead.objects.aggregate(last=Max("scored_at"))["last"]
    if last is None:
        return Check("last rescore", State.OK, "no lead has been scored yet")
    return Check("last rescore", State.OK, f"a lead was last scored {ago(last, now)}")


def _pending_emails(outbox: OutboxCounts, now: datetime) -> Check:
    if not outbox.pending:
        return Check("pending emails", State.OK, "none waiting")
    waiting = f"{outbox.pending} waiting"
    oldest = outbox.oldest_pending_at
    if oldest is not None and now - oldest > EMAIL_STUCK_AFTER:
        return Check(
            "pending emails",
            State.WARNING,
            f"{waiting}, the oldest due {ago(oldest, now)}",
            "Check that the worker and beat run and that the mail server (EMAIL_URL) answers; "
            "waiting emails are retried.",
        )
    return Check("pending emails", State.OK, f"{waiting}, none overdue")


def _failed_emails(outbox: OutboxCounts) -> Check:
    if not outbox.failed:
        return Check("failed emails", State.OK, "none in the last 24 h")
    return Check(
        "failed emails",
        State.WARNING,
        f"{outbox.failed} failed in the last 24 h (last: {outbox.last_failed_error[:160]})",
        "Fix the address or the mail server (EMAIL_URL); Admin → Reminders lists each one.",
    )


def _email_capture(now: datetime) -> Check:
    capture, connected, failing = mailboxes_health()
    if not settings.CAPTURE_IMAP_URL and not connected:
        return Check("email capture", State.OK, "")
    connected_part = f"{connected} connected mailbox(es), {failing} failing" if connected else ""
    if capture is not None and capture.last_error:
        since = (
            f" (last read {ago(capture.last_success_at, now)})" if capture.last_success_at else ""
        )
        found = f"the capture mailbox cannot be read{since}: {capture.last_error[:200]}"
        return Check(
            "email capture",
            State.PROBLEM,
            f"{found}; {connected_part}" if connected_part else found,
            "It is tried again by itself (nothing is lost: the messages are read once it works). "
            "If the server is up, check CAPTURE_IMAP_URL (host, user, app password) and restart "
            "the worker after changing it.",
        )
    parts = []
    if settings.CAPTURE_IMAP_URL:
        read = capture.last_success_at if capture is not None else None
        parts.append(
            f"capture mailbox read {ago(read, now)}" if read else "capture mailbox not read yet"
        )
    if connected_part:
        parts.append(connected_part)
    if failing:
        return Check(
            "email capture",
            State.WARNING,
            ", ".join(parts),
            "Their owners see the error on Settings and can connect again (a changed password).",
        )
    return Check("email capture", State.OK, ", ".join(parts))


# --- Is it safe ----------------------------------------------------------------------------


def _migrations() -> Check:
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if not plan:
        return Check("migrations", State.OK, "all applied")
    names = ", ".join(f"{migration.app_label}.{migration.name}" for migration, _ in plan[:3])
    more = f" and {len(plan) - 3} more" if len(plan) > 3 else ""
    return Check(
        "migrations",
        State.PROBLEM,
        f"{len(plan)} not applied: {names}{more}",
        "Run `.venv/bin/python manage.py migrate`, then restart the web server and the worker.",
    )


def _backup(now: datetime) -> Check:
    newest = backup_newest()
    if newest is None:
        return Check(
            "backup",
            State.WARNING,
            f"none in {backup_folder()}",
            "Run `.venv/bin/python manage.py backup` daily (e.g. from cron) and copy the file "
            "elsewhere.",
        )
    path, written_at = newest
    if now - written_at > BACKUP_STALE_AFTER:
        return Check(
            "backup",
            State.WARNING,
            f"the newest is from {ago(written_at, now)} ({path.name})",
            "Run `.venv/bin/python manage.py backup` daily (e.g. from cron) and copy the file "
            "elsewhere.",
        )
    return Check("backup", State.OK, f"the newest is from {ago(written_at, now)} ({path})")
