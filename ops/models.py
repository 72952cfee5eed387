"""What the operations side keeps in the database."""

from __future__ import annotations

from django.db import models


class WorkerHeartbeat(models.Model):
    """A Celery worker's last sign of life, written by the worker itself every few seconds.

    /healthz and `manage.py status` read it: a worker that was killed stops writing (its row
    goes stale), and one that lost the broker writes `consuming=False` until it reconnects.
    A worker that shuts down cleanly deletes its row.
    """

    hostname = models.CharField(max_length=255, unique=True)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)
    consuming = models.BooleanField(
        default=False, help_text="Connected to the broker and taking tasks."
    )

    class Meta:
        ordering = ["-seen_at"]

    def __str__(self) -> str:
        return f"{self.hostname} (pid {self.pid})"


class ScheduledRun(models.Model):
    """When a scheduled job last finished: the beat heartbeat (which proves beat sends tasks and
    a worker runs them) and the jobs whose age `manage.py doctor` reports, e.g. the nightly
    rescore. One row per task, overwritten by each successful run."""

    task = models.CharField(max_length=200, unique=True)
    finished_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.task} finished {self.finished_at:%Y-%m-%d %H:%M}"
