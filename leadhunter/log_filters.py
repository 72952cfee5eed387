"""Filters for the log settings (leadhunter.settings.LOGGING)."""

from __future__ import annotations

import logging


class WithoutTracebacksOfRefusals(logging.Filter):
    """Django logs each refused request (403, 404: a warning) with the exception's traceback,
    fifteen lines for a salesperson who opened a manager's page. The line stays; the traceback
    goes. Errors (a 500) keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.ERROR:
            record.exc_info = None
            record.exc_text = None
        return True
