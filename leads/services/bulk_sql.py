"""The hand-written SQL behind the bulk writes, kept apart so the services read as plain Django.

Multi-row inserts with their change-history rows, and the reconnect plan's updates, which on
PostgreSQL pass their rows as one JSON parameter (two statements instead of a CASE per row).
Each function says why the ORM's own bulk methods were not enough.
"""

from __future__ import annotations

import functools
import json
import operator
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TypeVar

from django.conf import settings
from django.db import connection, models
from django.db.backends.base.base import BaseDatabaseWrapper

from accounts.models import User
from leads.models import FollowUpKind, Lead

_Model = TypeVar("_Model", bound=models.Model)

MOVE_RECONNECTS_SQL = """
    UPDATE leads_followup AS f SET due_at = v.due_at
    FROM jsonb_to_recordset(%s::jsonb) AS v(id bigint, due_at timestamptz)
    WHERE f.id = v.id AND f.done_at IS NULL AND f.kind = %s AND f.rule = %s
      AND f.created_by_id IS NULL
    RETURNING f.lead_id
"""


SET_NEXT_FOLLOW_UP_SQL = """
    UPDATE leads_lead AS l SET next_follow_up_at = v.due_at
    FROM jsonb_to_recordset(%s::jsonb) AS v(id bigint, due_at timestamptz)
    WHERE l.id = v.id
"""


# Rows per INSERT/UPDATE statement: well under PostgreSQL's 65,535 parameters per statement.
BULK_BATCH_SIZE = 1000


# Ids per statement of the INSERT … SELECTs below: within SQLite's oldest limit of 999
# parameters.
HISTORY_IDS_PER_STATEMENT = 900


def history_rows_insert(
    leads: Sequence[Lead], *, history_type: str, user: User | None, when: datetime
) -> None:
    """The history rows django-simple-history writes for saved leads ("+" created, "~"
    changed), copied from the leads' rows by an INSERT … SELECT per 900 leads: what its bulk
    helpers do, without building a history object per lead in Python. The user is `user`, or
    else each lead's owner (as `lead_create` names them)."""
    if not leads or not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        return
    quote = connection.ops.quote_name
    history = Lead.history.model
    columns = ", ".join(quote(field.column) for field in history.tracked_fields)
    ids = [lead.pk for lead in leads]
    for start in range(0, len(ids), HISTORY_IDS_PER_STATEMENT):
        chunk = ids[start : start + HISTORY_IDS_PER_STATEMENT]
        # Names from the models (quoted), values as parameters.
        sql = " ".join(
            [
                f"INSERT INTO {quote(history._meta.db_table)}",
                f"({columns}, {quote('history_date')}, {quote('history_type')},",
                f"{quote('history_user_id')})",
                f"SELECT {columns}, %s, %s, COALESCE(%s, {quote('owner_id')})",
                f"FROM {quote(Lead._meta.db_table)}",
                f"WHERE {quote('id')} IN ({', '.join(['%s'] * len(chunk))})",
            ]
        )
        params = [
            connection.ops.adapt_datetimefield_value(when),
            history_type,
            user.pk if user else None,
            *chunk,
        ]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


# Field types whose Python values PostgreSQL's COPY takes as they are (see `bulk_insert`).
_COPIED_AS_IS = {
    "AutoField",
    "BigAutoField",
    "BigIntegerField",
    "BooleanField",
    "CharField",
    "DateTimeField",
    "EmailField",
    "IntegerField",
    "PositiveBigIntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "SmallIntegerField",
    "TextField",
    "URLField",
}


def bulk_insert(model: type[_Model], objs: list[_Model]) -> list[_Model]:
    """`bulk_create`, or on PostgreSQL the same rows by COPY: the ids are drawn from the
    table's sequence first, and the values go as they are rather than through the ORM's
    per-value preparation, which is most of the cost of inserting 100,000 leads. Constraints
    hold the same; a violation raises IntegrityError. No signals, as with bulk_create."""
    if connection.vendor != "postgresql":
        return model._default_manager.bulk_create(objs, batch_size=BULK_BATCH_SIZE)
    table = model._meta.db_table
    fields = list(model._meta.concrete_fields)
    auto = [f for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
    # The values of a row in one call; the few that need it (JSON, decimals) are then adapted.
    values_of = operator.attrgetter(*(f.attname for f in fields))
    quote = connection.ops.quote_name
    columns = ", ".join(quote(model_field.column) for model_field in fields)
    with connection.cursor() as cursor:
        adapted = [
            (index, _copy_value(f, cursor.db))
            for index, f in enumerate(fields)
            if not (f.is_relation or f.get_internal_type() in _COPIED_AS_IS)
        ]
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, model._meta.pk.column, len(objs)],
        )
        ids = [row[0] for row in cursor.fetchall()]
        copy_sql = f"COPY {quote(table)} ({columns}) FROM STDIN"
        # Each row is sent as it is made: the server writes the rows sent so far (heap,
        # indexes) while this process makes the next ones.
        with connection.wrap_database_errors, cursor.cursor.copy(copy_sql) as copy:
            for obj, pk in zip(objs, ids, strict=True):
                # What bulk_create does first; a private Django method, not in django-stubs.
                obj._prepare_related_fields_for_save(operation_name="bulk_create")  # type: ignore[attr-defined]
                obj.pk = pk
                for model_field in auto:
                    model_field.pre_save(obj, add=True)
                row = list(values_of(obj))
                for index, copy_value in adapted:
                    if row[index] is not None:  # None is NULL whatever the field
                        row[index] = copy_value(row[index])
                copy.write_row(row)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias
    return objs


def _copy_value(model_field: models.Field, db: BaseDatabaseWrapper) -> Callable[[object], object]:
    """How `bulk_insert` writes a value of a field whose Python value COPY doesn't take as is."""
    if type(model_field) is models.JSONField:  # not a subclass, which may prepare its values
        # A jsonb column's text in COPY is the JSON text: what the ORM's adapter (psycopg's
        # Jsonb with the field's encoder) writes, without building an adapter per value.
        return functools.partial(json.dumps, cls=model_field.encoder)
    return functools.partial(model_field.get_db_prep_save, connection=db)


NOT_GIVEN = object()


class LeadColumn(str):
    """A column of the lead's own row, for `insert_per_lead` to copy."""


def insert_per_lead(
    model: type[models.Model],
    leads: Sequence[Lead],
    values: Mapping[str, object],
    *,
    now: datetime,
) -> None:
    """A row of `model` for each saved lead, by INSERT … SELECT from the leads' rows (900 per
    statement): `values` by field name, each a constant or a `LeadColumn`; the other fields
    take their defaults, and auto_now(_add) fields `now`."""
    quote = connection.ops.quote_name
    columns, selected, constants = [], [], []
    for model_field in model._meta.concrete_fields:
        if model_field.primary_key:
            continue
        value = values.get(model_field.name, NOT_GIVEN)
        if isinstance(value, LeadColumn):
            columns.append(quote(model_field.column))
            selected.append(quote(value))
            continue
        if value is NOT_GIVEN:
            auto = getattr(model_field, "auto_now", False) or getattr(
                model_field, "auto_now_add", False
            )
            value = now if auto else model_field.get_default()
        columns.append(quote(model_field.column))
        selected.append("%s")
        constants.append(model_field.get_db_prep_save(value, connection))
    ids = [lead.pk for lead in leads]
    for start in range(0, len(ids), HISTORY_IDS_PER_STATEMENT):
        chunk = ids[start : start + HISTORY_IDS_PER_STATEMENT]
        sql = " ".join(
            [
                f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(columns)})",
                f"SELECT {', '.join(selected)} FROM {quote(Lead._meta.db_table)}",  # noqa: S608
                f"WHERE {quote('id')} IN ({', '.join(['%s'] * len(chunk))})",
            ]
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*constants, *chunk])


def reconnects_move(moves: Sequence[tuple[int, int, datetime]], *, rule: str) -> int:
    """Give pending plan reconnects (follow-up id, lead id, due time) their new due times and
    their leads the same next_follow_up_at; returns how many moved.

    Django's bulk_update (a CASE with a branch per row) took most of the time of a first
    plan. On PostgreSQL the rows travel as one JSON parameter, two statements (as
    `icp.rescoring` writes scores); SQLite runs in-process, where a prepared UPDATE per row
    (executemany) costs microseconds, while a join on a JSON table scanned it once per row.
    """
    if not moves:
        return 0
    pending = [FollowUpKind.RECONNECT, rule]
    with connection.cursor() as cursor:
        if connection.vendor != "sqlite":
            rows = json.dumps([{"id": pk, "due_at": due_at.isoformat()} for pk, _, due_at in moves])
            cursor.execute(MOVE_RECONNECTS_SQL, [rows, *pending])
            moved = {lead_id for (lead_id,) in cursor.fetchall()}
            leads = json.dumps(
                [
                    {"id": lead_id, "due_at": due_at.isoformat()}
                    for _, lead_id, due_at in moves
                    if lead_id in moved
                ]
            )
            cursor.execute(SET_NEXT_FOLLOW_UP_SQL, [leads])
            return len(moved)
        cursor.executemany(
            "UPDATE leads_followup SET due_at = %s WHERE id = %s AND done_at IS NULL"
            " AND kind = %s AND rule = %s AND created_by_id IS NULL",
            [
                [connection.ops.adapt_datetimefield_value(due_at), pk, *pending]
                for pk, _, due_at in moves
            ],
        )
        moved_count = cursor.rowcount
        cursor.executemany(
            "UPDATE leads_lead SET next_follow_up_at = (SELECT due_at FROM leads_followup"
            " WHERE lead_id = leads_lead.id AND done_at IS NULL) WHERE id = %s",
            [[lead_id] for _, lead_id, _ in moves],
        )
        return moved_count
