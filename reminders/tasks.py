"""Celery tasks for reminder emails: thin wrappers around the services."""

from __future__ import annotations

from dataclasses import asdict

from celery import shared_task

from reminders import services


@shared_task(name="reminders.tasks.run_reminders", soft_time_limit=300, time_limit=360)
def run_reminders() -> dict[str, int]:
    """Beat, every 10 minutes: plan the rows now due in each user's time zone, then send.

    Safe to run twice at once or to redeliver: the rows, not this message, decide what is sent.
    """
    services.reminders_plan()
    return asdict(services.reminders_dispatch())
