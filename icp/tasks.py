"""Celery tasks for scores: thin, by id, idempotent (a rerun computes and stores the same).

`acks_late` comes from settings; a lost worker's task simply runs again. Only database
hiccups (a dropped connection, a PostgreSQL deadlock, SQLite "database is locked") are retried.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.core.cache import cache
from django.db import OperationalError

from icp.models import ICP
from icp.rescoring import (
    RescoreSummary,
    icp_rescore_key,
    lead_rescore,
    lead_rescore_key,
    leads_rescore,
    owner_rescore_key,
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


@shared_task(name="icp.tasks.rescore_lead", **_RETRY)
def rescore_lead(lead_id: int) -> None:
    """Rescore one lead; nothing to do when it has been deleted."""
    # Deleted before scoring, so an edit made while this runs enqueues another rescore.
    cache.delete(lead_rescore_key(lead_id))
    lead_rescore(lead_id=lead_id)


@shared_task(name="icp.tasks.rescore_icp_leads", **_RETRY, **_BULK_LIMITS)
def rescore_icp_leads(icp_id: int) -> None:
    """Rescore the leads an ICP scores (its owner's) after the ICP or its criteria changed."""
    cache.delete(icp_rescore_key(icp_id))
    owner_id = ICP.objects.filter(pk=icp_id).values_list("owner_id", flat=True).first()
    if owner_id is None:
        return
    _log_summary(f"ICP {icp_id}", leads_rescore(owner_id=owner_id))


@shared_task(name="icp.tasks.rescore_owner_leads", **_RETRY, **_BULK_LIMITS)
def rescore_owner_leads(owner_id: int) -> None:
    """Rescore all of one owner's leads (after an ICP was deleted or moved to another owner)."""
    cache.delete(owner_rescore_key(owner_id))
    _log_summary(f"owner {owner_id}", leads_rescore(owner_id=owner_id))


@shared_task(name="icp.tasks.rescore_all_leads", **_RETRY, **_BULK_LIMITS)
def rescore_all_leads() -> None:
    """Nightly: rescore every lead so intent decays; unchanged rows are not written."""
    _log_summary("all leads", leads_rescore())


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
