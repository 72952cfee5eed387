"""Queries whose SQL Django builds once per process and runs again with each call's values.

Building and compiling a queryset is Python work that does not depend on the values in it:
Today's ranking (a dozen conditions, subqueries and CASEs) took 20 ms of CPU to build and
compile against 1.3 ms to run. `PreparedQuery` builds it once with the first call's values,
finds which of the compiled SQL's parameters each value became, and later fills those in.

The contract of `build(**values)`: every value it is given goes into the SQL as parameters only
(as itself, or moved by a fixed amount: `now - timedelta(days=7)`), never into the SQL text or
into a choice of what to build. The preparation checks what it can (a value that changes the
SQL text, or a parameter that follows no value by a fixed amount, is refused with
`PreparationError`); `shape` names values that do change the SQL (a LIMIT): each of their
combinations is prepared apart. The tests hold a prepared query's rows to the ORM's.

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
from django.db.models.sql.compiler import SQLCompiler


class PreparationError(ValueError):
    """The builder broke the contract: its SQL cannot be reused with other values."""


@dataclass(frozen=True)
class _Prepared:
    sql: str
    params: tuple[Any, ...]
    # Per parameter: (the value's name, its offset), or None for a parameter that never moves.
    sources: tuple[tuple[str, Any] | None, ...]
    compiler: SQLCompiler

    def params_for(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(
            param if source is None else values[source[0]] + source[1]
            for param, source in zip(self.params, self.sources, strict=True)
        )


class PreparedQuery:
    """`rows(**values)` is `list(build(**values))` for a `values_list()` queryset, with the
    SQL built once per process and per combination of the `shape` values."""

    def __init__(
        self, build: Callable[..., QuerySet[Any, tuple[Any, ...]]], *, shape: tuple[str, ...] = ()
    ) -> None:
        self.build = build
        self.shape = shape
        self._prepared: dict[tuple[Hashable, ...], _Prepared] = {}  # by the shape's values

    def rows(self, **values: Any) -> list[tuple[Any, ...]]:
        # The builders read through the default database (no router in this project).
        connection = connections[DEFAULT_DB_ALIAS]
        if connection.vendor != "postgresql":
            return list(self.build(**values))
        key = tuple(values[name] for name in self.shape)
        prepared = self._prepared.get(key)
        if prepared is None:
            prepared = self._prepared[key] = self._prepare(values)
        with connection.cursor() as cursor:
            cursor.execute(prepared.sql, prepared.params_for(values))
            fetched = cursor.fetchall()
        return list(prepared.compiler.results_iter(results=[fetched], tuple_expected=True))

    def _compile(self, values: Mapping[str, Any]) -> tuple[str, tuple[Any, ...], SQLCompiler]:
        queryset = self.build(**values)
        query = queryset.query
        # values_list() gives its columns in the order asked for; the compiled SELECT lists
        # fields, then extras, then annotations. Rows are taken as compiled, so the two must
        # agree (ValuesListIterable would reorder them otherwise).
        compiled_order = [*query.extra_select, *query.values_select, *query.annotation_select]
        if not queryset._fields or list(queryset._fields) != compiled_order:
            raise PreparationError(
                f"values_list({', '.join(queryset._fields)}) must name its columns in the "
                f"compiled order ({', '.join(compiled_order)})."
            )
        compiler = query.get_compiler(using=queryset.db)
        sql, params = compiler.as_sql()
        return sql, tuple(params), compiler

    def _prepare(self, values: Mapping[str, Any]) -> _Prepared:
        sql, params, compiler = self._compile(values)
        sources: list[tuple[str, Any] | None] = [None] * len(params)
        for name, value in values.items():
            if name in self.shape:
                continue
            moved_value = _moved(name, value)
            moved_sql, moved_params, _compiler = self._compile({**values, name: moved_value})
            if moved_sql != sql or len(moved_params) != len(params):
                raise PreparationError(f"{name!r} changes the SQL: name it in `shape`.")
            for position, (param, moved_param) in enumerate(zip(params, moved_params, strict=True)):
                if param == moved_param:
                    continue
                if sources[position] is not None:
                    raise PreparationError(f"Parameter {position} follows two values.")
                offset = _offset(param, value)
                if offset is None or _offset(moved_param, moved_value) != offset:
                    raise PreparationError(
                        f"Parameter {position} ({param!r}) is not {name!r} moved by a fixed amount."
                    )
                sources[position] = (name, offset)
        return _Prepared(sql, params, tuple(sources), compiler)


def _moved(name: str, value: Any) -> Any:
    if isinstance(value, datetime):
        return value + timedelta(days=1, microseconds=1)
    if isinstance(value, int) and not isinstance(value, bool):
        return value + 1
    raise PreparationError(f"{name!r}: only datetimes and whole numbers can be prepared.")


def _offset(param: Any, value: Any) -> Any:
    """`param - value` where that makes sense (a datetime minus a datetime, an int minus an
    int), else None."""
    if isinstance(value, datetime) and isinstance(param, datetime):
        return param - value
    if isinstance(value, int) and isinstance(param, int) and not isinstance(param, bool):
        return param - value
    return None
