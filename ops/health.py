"""Readiness checks of the services LeadHunter depends on."""

from __future__ import annotations

import logging

from django.db import connection

from leadhunter.celery import app as celery_app

logger = logging.getLogger(__name__)


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        logger.exception("Health check: database unavailable")
        return False


def broker_ok() -> bool:
    try:
        with celery_app.connection_for_write() as broker:
            broker.ensure_connection(max_retries=1, timeout=2)
            return True
    except Exception:
        logger.exception("Health check: broker unavailable")
        return False


def worker_status() -> str:
    """`ok`, `disconnected` (alive, no broker), `down` (no heartbeat) or `unknown` (no database)."""
    from ops.selectors import worker_status as read_status

    try:
        return read_status().state
    except Exception:
        logger.exception("Health check: cannot read the worker heartbeats")
        return "unknown"
