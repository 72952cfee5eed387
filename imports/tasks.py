"""Celery task for large imports: thin, by id, idempotent (see `import_job_run`).

A database hiccup or the time limit hands the job back with its progress saved (committed with
each batch of rows), and the retry carries on after the last committed batch, writing no row
twice; so a 50,000-row file needs no hour-long time limit. A run
that finds another one on the job (a redelivered message) checks again once that one's
heartbeat could have gone stale.
"""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import OperationalError
from django.utils import timezone

from imports.models import ImportStatus
from imports.services import HEARTBEAT_TIMEOUT, ImportBusy, import_job_run

logger = logging.getLogger(__name__)


@shared_task(
    bind=True,
    name="imports.tasks.run_import",
    autoretry_for=(OperationalError, SoftTimeLimitExceeded),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=10,
    soft_time_limit=1500,
    time_limit=1800,
)
def run_import(self, job_id: str) -> None:
    """Import an uploaded file that is too large to import while the person waits."""
    started = timezone.now()
    try:
        job = import_job_run(job_id=job_id, release_on_transient=True)
    except ImportBusy as busy:
        raise self.retry(exc=busy, countdown=HEARTBEAT_TIMEOUT.total_seconds()) from None
    if job is not None and job.finished_at and job.finished_at >= started:  # finished by this run
        logger.log(
            logging.WARNING if job.status == ImportStatus.FAILED else logging.INFO,
            "Import %s %s: %d rows, %d new leads, %d updated, %d duplicates, %d errors",
            job.pk,
            job.status,
            job.processed_rows,
            job.created,
            job.updated,
            job.skipped_duplicates,
            job.errors,
        )
