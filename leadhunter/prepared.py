"""Queries whose SQL Django builds once per process and runs again with each call's values.

Building and compiling a queryset is Python work that does not depend on the values in it:
Today's ranking (a dozen conditions, subqueries and CASEs) took 20 ms of CPU to build and
compile against 1.3 ms to run. `PreparedQuery` compiles it with the first call's values, then
again with each value moved twice (so 1 + 2 × N builds, once per process), to find which of
the SQL's parameters each value became; later calls fill their values in.

The contract of `build(**values)`: every value it is given goes into the SQL as parameters only
(as itself, or moved by a fixed amount: `now - timedelta(days=7)`), never into the SQL text or
into a choice of what to build, and nothing else derived from it (`now.hour`, a clamp, another
time zone's midnight). The preparation checks this by the two moves, one of them irregular
(days, hours, minutes, seconds and microseconds at once): a value that changes the SQL text, or
a parameter that does not follow a value by one fixed amount in both moves, is refused with
`PreparationError`. That is a check by examples, not a proof; the tests hold each prepared
query's rows to the ORM's. `sql_keys` names values that do change the SQL text (a LIMIT):
each combination of them is prepared apart, so they must come from a small fixed set.

Only on PostgreSQL, the scale target: SQLite's backend turns datetimes into text on their way
into the parameters, so there the queryset is built and run as usual.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet
from django.db.models.query import ValuesListIterable
from django.db.models.sql.compiler import SQLCompiler
from django.utils import timezone


class PreparationError(ValueError):
    """The builder broke the contract: its SQL cannot be reused with other values."""


# The two moves of each value: a plain one, and one that no derived value (an hour, a date, a
# rounding) follows by the same amount as the value itself.
MOVES: dict[type, tuple[Any, Any]] = {
    datetime: (
        timedelta(days=1, microseconds=1),
        -timedelta(days=400, hours=5, minutes=7, seconds=11, microseconds=3),
    ),
    int: (1, -7919),
}


@dataclass(frozen=True)
class _Prepared:
    sql: str
    params: tuple[Any, ...]
    # Per parameter: (the value's name, its offset), or None for a parameter that never moves.
    sources: tuple[tuple[str, Any] | None, ...]
    # Kept for its converters, which read the backend's operations and the columns' types
    # only, never the connection's state: sharing it between requests and threads is safe.
    compiler: SQLCompiler

    def params_for(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(
            param if source is None else values[source[0]] + source[1]
            for param, source in zip(self.params, self.sources, strict=True)
        )


class PreparedQuery:
    """`rows(**values)` is `list(build(**values))` for a `values_list()` queryset (tuples),
    with the SQL built once per process and per combination of the `sql_keys` values."""

    def __init__(
        self,
        build: Callable[..., QuerySet[Any, tuple[Any, ...]]],
        *,
        sql_keys: tuple[str, ...] = (),
    ) -> None:
        self.build = build
        self.sql_keys = sql_keys
        self._prepared: dict[tuple[Hashable, ...], _Prepared] = {}  # by the sql_keys' values

    def rows(self, **values: Any) -> list[tuple[Any, ...]]:
        for name, value in values.items():
            if isinstance(value, datetime) and timezone.is_naive(value):
                # Filled in as it is, PostgreSQL would read it in UTC, the ORM in TIME_ZONE.
                raise ValueError(f"{name!r} is a naive datetime: give it a time zone.")
        # The builders read through the default database (no router in this project).
        connection = connections[DEFAULT_DB_ALIAS]
        if connection.vendor != "postgresql":
            return list(self.build(**values))
        key = tuple(values[name] for name in self.sql_keys)
        prepared = self._prepared.get(key)
        if prepared is None:
            prepared = self._prepared[key] = self._prepare(values)
        with connection.cursor() as cursor:
            cursor.execute(prepared.sql, prepared.params_for(values))
            fetched = cursor.fetchall()
        return list(prepared.compiler.results_iter(results=[fetched], tuple_expected=True))

    def _compile(self, values: Mapping[str, Any]) -> tuple[str, tuple[Any, ...], SQLCompiler]:
        queryset = self.build(**values)
        if queryset._iterable_class is not ValuesListIterable:
            raise PreparationError(
                "Only values_list() querysets of tuples can be prepared (not flat, named, "
                "values() or model instances)."
            )
        compiler = queryset.query.get_compiler(using=queryset.db)
        sql, params = compiler.as_sql()
        return sql, tuple(params), compiler

    def _prepare(self, values: Mapping[str, Any]) -> _Prepared:
        sql, params, compiler = self._compile(values)
        sources: list[tuple[str, Any] | None] = [None] * len(params)
        for name, value in values.items():
            if name in self.sql_keys:
                continue
            for move in _moves(name, value):
                moved_value = value + move
                moved_sql, moved_params, _compiler = self._compile({**values, name: moved_value})
                if moved_sql != sql or len(moved_params) != len(params):
                    raise PreparationError(f"{name!r} changes the SQL: name it in `sql_keys`.")
                for position, (param, moved) in enumerate(zip(params, moved_params, strict=True)):
                    if param == moved:
                        continue
                    offset = _offset(param, value)
                    if offset is None or _offset(moved, moved_value) != offset:
                        raise PreparationError(
                            f"Parameter {position} ({param!r}) is not {name!r} moved by a fixed "
                            "amount."
                        )
                    if sources[position] not in (None, (name, offset)):
                        raise PreparationError(f"Parameter {position} follows two values.")
                    sources[position] = (name, offset)
        return _Prepared(sql, params, tuple(sources), compiler)


def _moves(name: str, value: Any) -> tuple[Any, Any]:
    if isinstance(value, bool) or type(value) not in MOVES:
        raise PreparationError(f"{name!r}: only datetimes and whole numbers can be prepared.")
    return MOVES[type(value)]


def _offset(param: Any, value: Any) -> Any:
    """`param - value` where that makes sense (a datetime minus a datetime, an int minus an
    int), else None."""
    if isinstance(value, datetime) and isinstance(param, datetime):
        return param - value
    if isinstance(value, int) and isinstance(param, int) and not isinstance(param, bool):
        return param - value
    return None
