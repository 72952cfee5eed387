"""Celery tasks for leads: thin wrappers around services."""

from __future__ import annotations

from celery import shared_task

from leads import services


@shared_task(name="leads.tasks.schedule_follow_ups")
def schedule_follow_ups() -> int:
    """Beat: every open lead keeps exactly one pending follow-up (idempotent)."""
    return services.follow_ups_schedule_missing()
