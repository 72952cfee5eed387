"""leadhunter.postgresql: Django's backend with psycopg's own timestamp loader."""

from __future__ import annotations

import copy
import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, connections
from django.db.backends.postgresql.psycopg_any import BaseTzLoader, register_tzloader
from hypothesis import given, settings
from hypothesis import strategies as st
from psycopg.pq import Format

TIMESTAMPTZ = 1184


@pytest.fixture
def on_postgresql(db):
    if connection.vendor != "postgresql":
        pytest.skip("the backend is PostgreSQL's")


def _read(sql: str, params: list, *, djangos_loader: bool) -> list[tuple]:
    with connection.cursor() as cursor:
        if djangos_loader:
            register_tzloader(connection.timezone, cursor.cursor)
        cursor.execute(sql, params)
        return cursor.fetchall()


@pytest.mark.django_db
@settings(max_examples=200, deadline=None)
@given(
    moment=st.datetimes(
        min_value=datetime.datetime(1, 1, 2),
        max_value=datetime.datetime(9999, 12, 30),
        timezones=st.sampled_from(
            [datetime.UTC, ZoneInfo("Europe/Dublin"), ZoneInfo("Asia/Kolkata"), None]
        ),
    )
)
def test_a_timestamp_reads_as_djangos_own_loader_reads_it(moment):
    if connection.vendor != "postgresql":
        pytest.skip("the backend is PostgreSQL's")
    sql = "SELECT %s::timestamptz, %s::timestamptz + interval '1 microsecond', NULL::timestamptz"
    ours = _read(sql, [moment, moment], djangos_loader=False)
    djangos = _read(sql, [moment, moment], djangos_loader=True)

    assert ours == djangos
    assert [value.tzinfo for value in ours[0][:2]] == [datetime.UTC, datetime.UTC]
    assert [value.isoformat() for value in ours[0][:2]] == [
        value.isoformat() for value in djangos[0][:2]
    ]


def test_the_connection_reads_timestamps_with_psycopgs_loader_and_no_cursor_replaces_it(
    on_postgresql,
):
    from leadhunter.postgresql.base import _psycopg_timestamptz_loader

    with connection.cursor() as cursor:
        cursor.execute("SELECT now()")
        cursor.fetchall()
        loader = cursor.cursor._tx.get_loader(TIMESTAMPTZ, Format.TEXT)

    assert type(loader) is _psycopg_timestamptz_loader()
    assert not isinstance(loader, BaseTzLoader)


def test_a_database_time_zone_other_than_utc_keeps_djangos_loader(on_postgresql):
    settings_dict = copy.deepcopy(connection.settings_dict)
    settings_dict["TIME_ZONE"] = "Europe/Paris"
    paris = type(connections["default"])(settings_dict)  # a wrapper of its own, never opened

    loader = paris.get_connection_params()["context"].get_loader(TIMESTAMPTZ, Format.TEXT)

    assert issubclass(loader, BaseTzLoader)
    assert loader.timezone == ZoneInfo("Europe/Paris")
