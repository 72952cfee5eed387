"""Django's PostgreSQL backend, reading timestamps with psycopg's own loader.

Django registers a Python subclass of psycopg's timestamptz loader on every connection, to
give each datetime Django's time zone. A subclass is never swapped for psycopg's C loader, so
every timestamp was parsed in Python: ~4.7 µs a value, 4% of the lead list's CPU (its fifty
rows carry two dates each) and more on the lead page's activities and the reports.

Django sets the connection's time zone to its own (UTC, USE_TZ with no database TIME_ZONE),
and psycopg's loader gives datetimes in the connection's zone, so both give the same value
with the same tzinfo (`datetime.timezone.utc`). Only then is psycopg's loader registered;
with any other zone Django's stays (tests/leadhunter/test_postgresql.py).
"""

from __future__ import annotations

import datetime
import functools

from django.db.backends.postgresql import base
from psycopg import adapt, adapters
from psycopg.pq import Format
from psycopg.types.datetime import TimestamptzLoader


@functools.cache
def _psycopg_timestamptz_loader() -> type:
    """psycopg's timestamptz loader as a connection would use it: the C one where psycopg's
    C extension is installed (the map swaps it in), else the Python one."""
    template = adapt.AdaptersMap(adapters)
    template.register_loader("timestamptz", TimestamptzLoader)
    return template.get_loader(base.TIMESTAMPTZ_OID, Format.TEXT)


class UtcTimestamptzLoader:
    """Makes psycopg's own timestamptz loader (the C one cannot be subclassed).

    `timezone` is what Django's `create_cursor` compares with the connection's zone to decide
    whether a cursor needs a loader of its own; `format` is what psycopg registers it under.
    """

    format = Format.TEXT
    timezone = datetime.UTC

    def __new__(cls, oid: int, context: object = None):
        return _psycopg_timestamptz_loader()(oid, context)


class DatabaseWrapper(base.DatabaseWrapper):
    """Django's PostgreSQL connection, with psycopg's own timestamptz loader when Django's
    zone is UTC (the module's docstring says why)."""

    def get_connection_params(self) -> dict:
        params = super().get_connection_params()
        if self.timezone == datetime.UTC and "context" in params:
            context = adapt.AdaptersMap(params["context"])
            context.register_loader("timestamptz", UtcTimestamptzLoader)
            params["context"] = context
        return params
