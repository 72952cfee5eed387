"""Records when the scheduled jobs that `manage.py doctor` reports on last finished.

A Celery signal rather than a line in each task: the apps that own the jobs (icp, reminders,
leads) know nothing of operations, and a new job is watched by adding its name here.
"""

from __future__ import annotations

import logging

from ops.services import scheduled_run_record

logger = logging.getLogger(__name__)

NIGHTLY_RESCORE = "icp.tasks.rescore_all_leads"
WATCHED_TASKS = frozenset({NIGHTLY_RESCORE})


def record_scheduled_run(sender=None, **kwargs: object) -> None:
    """task_success: stamp the watched task's row; a failure here never fails the task."""
    name = getattr(sender, "name", "")
    if name not in WATCHED_TASKS:
        return
    try:
        scheduled_run_record(task=name)
    except Exception:
        logger.warning("Could not record that %s finished", name, exc_info=True)
