"""Celery tasks for scores: thin, by id, idempotent (a rerun computes and stores the same).

A worker runs each task in autocommit mode, so the bulk rescores write from background
connections (`leads_rescore(background_writer=True)`). `acks_late` comes from settings; a lost
worker's task simply runs again. Only database hiccups (a dropped connection, a PostgreSQL
deadlock, SQLite "database is locked") are retried.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import OperationalError

from icp.models import ICP, RescoreKind
from icp.rescoring import (
    RescoreSummary,
    lead_rescore,
    leads_rescore,
    rescore_request_take,
    rescore_requests_sweep,
)

logger = logging.getLogger(__name__)

_RETRY = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "max_retries": 5,
}
# Whole-table runs get longer than the default limits but stay under the broker's
# visibility timeout (one hour), after which Redis would hand the task to another worker.
_BULK_LIMITS = {"soft_time_limit": 1500, "time_limit": 1800}


# Each rescore takes its request (row and coalescing key) before scoring, so an edit made
# while it runs records and enqueues another rescore.


@shared_task(name="icp.tasks.rescore_lead", **_RETRY)
def rescore_lead(lead_id: int) -> None:
    """Rescore one lead; nothing to do when it has been deleted."""
    rescore_request_take(kind=RescoreKind.LEAD, target_id=lead_id)
    lead_rescore(lead_id=lead_id)


@shared_task(name="icp.tasks.rescore_icp_leads", **_RETRY, **_BULK_LIMITS)
def rescore_icp_leads(icp_id: int) -> None:
    """Rescore the leads an ICP scores (its owner's) after the ICP or its criteria changed."""
    rescore_request_take(kind=RescoreKind.ICP, target_id=icp_id)
    owner_id = ICP.objects.filter(pk=icp_id).values_list("owner_id", flat=True).first()
    if owner_id is None:
        return
    _log_summary(f"ICP {icp_id}", leads_rescore(owner_id=owner_id, background_writer=True))


@shared_task(name="icp.tasks.rescore_owner_leads", **_RETRY, **_BULK_LIMITS)
def rescore_owner_leads(owner_id: int) -> None:
    """Rescore all of one owner's leads (after an ICP was deleted or moved to another owner)."""
    rescore_request_take(kind=RescoreKind.OWNER, target_id=owner_id)
    _log_summary(f"owner {owner_id}", leads_rescore(owner_id=owner_id, background_writer=True))


@shared_task(name="icp.tasks.rescore_all_leads", **_RETRY, **_BULK_LIMITS)
def rescore_all_leads() -> None:
    """Nightly: rescore every lead so intent decays; unchanged rows are not written."""
    _log_summary("all leads", leads_rescore(background_writer=True))


@shared_task(name="icp.tasks.sweep_rescore_requests", soft_time_limit=50, time_limit=60)
def sweep_rescore_requests() -> int:
    """Every minute: send again the rescores whose task never reached the broker."""
    return rescore_requests_sweep()


def _log_summary(scope: str, summary: RescoreSummary) -> None:
    # One line per bulk job (the worker logs no line per task: settings.LOGGING); a rerun that
    # changed nothing, as after a burst of edits that each asked for one, says nothing.
    logger.log(
        logging.INFO if summary.changed or scope == "all leads" else logging.DEBUG,
        "Rescored %s: %d leads, %d changed, in %.1f s",
        scope,
        summary.scored,
        summary.changed,
        summary.seconds,
    )
