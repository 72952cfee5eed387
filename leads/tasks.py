"""Celery tasks for leads: thin wrappers around services."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import OperationalError

from leads import services

logger = logging.getLogger(__name__)


# A dropped connection, a deadlock victim or "database is locked" is worth another try; the
# next beat run (every 15 minutes) would catch up anyway, so the retries stay few.
@shared_task(
    name="leads.tasks.schedule_follow_ups",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_backoff_max=120,
    max_retries=3,
)
def schedule_follow_ups() -> int:
    """Beat: every open lead keeps exactly one pending follow-up, and each network pool keeps
    its plan of a few reconnects a day as days pass and scores change (both idempotent).

    One beat job for both: the pool's plan is part of the follow-up cadence, and its day rolls
    over in each user's time zone, which a run every 15 minutes catches."""
    created = services.follow_ups_schedule_missing()
    services.reconnects_plan_all()
    if created:  # every 15 minutes: a line only when it did something
        logger.info("Follow-ups planned for %d open leads that had none", created)
    return created
