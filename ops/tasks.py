"""Celery tasks of the operations side."""

from __future__ import annotations

from celery import shared_task

from ops.services import scheduled_run_record

BEAT_HEARTBEAT = "ops.tasks.beat_heartbeat"


@shared_task(name=BEAT_HEARTBEAT, soft_time_limit=30, time_limit=60)
def beat_heartbeat() -> None:
    """Beat, every minute: a fresh row says beat is sending tasks (and a worker runs them)."""
    scheduled_run_record(task=BEAT_HEARTBEAT)
