"""PostgreSQL-only accelerators of the bulk rescoring, behind a plain interface.

Each function gives what the portable Django call gives (`list(queryset)`,
`connection.cursor()`, the datetime text Django would send) and takes a faster road on
PostgreSQL: psycopg's C loaders instead of Django's Python ones, parameters bound on the
server instead of escaped into the statement. `portable()` turns the fast roads off for a
block, so tests run both paths on PostgreSQL and compare them; on SQLite only the portable
path exists.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.backends.utils import CursorWrapper
from django.db.models import QuerySet

_portable: ContextVar[bool] = ContextVar("pg_fast_portable", default=False)


def enabled() -> bool:
    """True when the fast roads are taken: on PostgreSQL, outside `portable()`."""
    return connection.vendor == "postgresql" and not _portable.get()


@contextmanager
def portable() -> Iterator[None]:
    """Take the portable road in this block, whatever the database (for tests)."""
    token = _portable.set(True)
    try:
        yield
    finally:
        _portable.reset(token)


def values_list_rows(rows: QuerySet) -> list[tuple]:
    """The rows of a `values_list()` query, as iterating it gives them.

    Fast road: psycopg's C timestamptz loader. Django registers a Python subclass of it (to
    pin the time zone) that cost ~1 s per 150,000 signals of a 100k-lead run; psycopg's own
    gives the same instants in the connection's time zone, which Django has set to UTC: same
    ages, same isoformat(). Only for columns without a Django converter (no JSON, no
    decimals): the rows come straight from the cursor.
    """
    if not enabled():
        return list(rows)
    from psycopg.types.datetime import TimestamptzLoader

    try:
        sql, params = rows.query.sql_with_params()
    except EmptyResultSet:  # e.g. no lead ids: Django would not query either
        return []
    with connection.cursor() as cursor:
        # Registered on this cursor only; the map swaps in psycopg's C implementation.
        cursor.cursor.adapters.register_loader("timestamptz", TimestamptzLoader)
        cursor.execute(sql, params)
        return cursor.fetchall()


def values_dicts(rows: QuerySet, *, json_fields: Sequence[str] = ()) -> list[dict]:
    """The rows of a `values()` query, as `list(rows)` gives them.

    Fast road: rows come through `values_list_rows`, and each distinct text of the
    `json_fields` is decoded once (Django decodes every value: two tag lists a lead were
    ~200,000 `json.loads` in a 100k-lead run, of a few dozen distinct texts). The other
    columns must need no Django converter (no decimals, no other JSON).
    """
    if not enabled():
        return list(rows)
    query = rows.query
    names = [*query.extra_select, *query.values_select, *query.annotation_select]
    decode = [name for name in json_fields if name in names]
    decoded: dict[str, object] = {}
    dicts = []
    for values in values_list_rows(rows):
        row = dict(zip(names, values, strict=True))
        for name in decode:
            text = row[name]
            if text is not None:
                if (value := decoded.get(text)) is None:
                    value = decoded[text] = json.loads(text)
                row[name] = value
        dicts.append(row)
    return dicts


def json_param_cursor() -> CursorWrapper:
    """A cursor for a statement with one large JSON text parameter.

    Fast road: the parameters travel apart from the statement. Django's psycopg cursor binds
    on the client: it escaped the ~1.4 MB JSON of a batch into the statement text (~0.5 s of
    CPU a 100k-lead first scoring). Wrapped as Django wraps its own cursors, so execute
    wrappers and query logging still see the statement.
    """
    if not enabled():
        return connection.cursor()
    import psycopg

    connection.ensure_connection()
    cursor = psycopg.Cursor(connection.connection)
    if connection.queries_logged:
        return connection.make_debug_cursor(cursor)
    return connection.make_cursor(cursor)


def datetime_json(value: datetime | None) -> str:
    """A datetime as a JSON value that the database compares equal to the stored one: the
    text Django would send for it (fast road: ISO 8601, which timestamptz reads the same)."""
    if value is None:
        return "null"
    if enabled():
        return f'"{value.isoformat()}"'
    return f'"{connection.ops.adapt_datetimefield_value(value)}"'
