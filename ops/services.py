"""Writes of the operations side: the workers' heartbeats and the scheduled jobs' last runs."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from ops.models import ScheduledRun, WorkerHeartbeat

# Rows of workers that died long ago are of no use to anyone: the next heartbeat removes them.
FORGET_AFTER = timedelta(days=1)


@transaction.atomic
def worker_heartbeat_record(
    *, hostname: str, pid: int, started_at: datetime, consuming: bool, now: datetime | None = None
) -> WorkerHeartbeat:
    """Record that the worker `hostname` is alive now (and whether it is taking tasks)."""
    now = now or timezone.now()
    heartbeat, _ = WorkerHeartbeat.objects.update_or_create(
        hostname=hostname,
        defaults={"pid": pid, "started_at": started_at, "seen_at": now, "consuming": consuming},
    )
    WorkerHeartbeat.objects.filter(seen_at__lt=now - FORGET_AFTER).delete()
    return heartbeat


@transaction.atomic
def worker_heartbeat_forget(*, hostname: str, pid: int) -> None:
    """A worker that stops cleanly leaves no row behind (one that is killed leaves a stale one)."""
    WorkerHeartbeat.objects.filter(hostname=hostname, pid=pid).delete()


def scheduled_run_record(*, task: str, now: datetime | None = None) -> None:
    """Record that the scheduled `task` has just finished (one row per task)."""
    ScheduledRun.objects.update_or_create(
        task=task, defaults={"finished_at": now or timezone.now()}
    )
