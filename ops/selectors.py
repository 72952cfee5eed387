"""Reads of the operations side."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from ops.models import WorkerHeartbeat

# A worker writes every WORKER_HEARTBEAT_INTERVAL seconds; three missed beats make it down.
MISSED_BEATS = 3


@dataclass(frozen=True)
class WorkerStatus:
    """`ok`: some worker is taking tasks; `disconnected`: workers are alive but none has the
    broker; `down`: no worker has written for MISSED_BEATS intervals (or none ever ran)."""

    state: str
    last_seen: datetime | None

    @property
    def ok(self) -> bool:
        return self.state == "ok"


def stale_after() -> timedelta:
    return timedelta(seconds=settings.WORKER_HEARTBEAT_INTERVAL * MISSED_BEATS)


def worker_status(*, now: datetime | None = None) -> WorkerStatus:
    now = now or timezone.now()
    rows = list(
        WorkerHeartbeat.objects.filter(seen_at__gte=now - stale_after()).values_list(
            "consuming", "seen_at"
        )
    )
    if not rows:
        last_seen = WorkerHeartbeat.objects.values_list("seen_at", flat=True).first()
        return WorkerStatus("down", last_seen)
    last_seen = max(seen_at for _, seen_at in rows)
    if any(consuming for consuming, _ in rows):
        return WorkerStatus("ok", last_seen)
    return WorkerStatus("disconnected", last_seen)
