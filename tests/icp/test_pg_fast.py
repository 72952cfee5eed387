from __future__ import annotations

from contextlib import nullcontext
from datetime import timedelta

import psycopg
import pytest
from django.db import connection

from icp import pg_fast, rescoring
from leads.models import ActivityKind, Lead
from tests.factories import ActivityFactory, CompanyFactory, LeadFactory
from tests.icp.conftest import NOW

pytestmark = pytest.mark.django_db

ROADS = ["fast", "portable"]


def road(name: str):
    """The block in which a test takes the named road; the fast one exists on PostgreSQL only."""
    if name == "portable":
        return pg_fast.portable()
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only (CI runs it on PostgreSQL): SQLite has the portable road")
    return nullcontext()


@pytest.fixture
def leads_with_facts(salesperson):
    company = CompanyFactory(owner=salesperson, industry="SaaS", tags=["b2b", "Série A"])
    leads = [
        LeadFactory(owner=salesperson, company=company, tags=["hot"]),
        LeadFactory(owner=salesperson, company=company, tags=[]),
        LeadFactory(owner=salesperson, company=None, tags=["hot"]),
    ]
    for days in (1, 3):
        ActivityFactory(
            lead=leads[0],
            kind=ActivityKind.ASKED_FOR_DEMO,
            occurred_at=NOW - timedelta(days=days, microseconds=123),
        )
    Lead.objects.filter(pk=leads[1].pk).update(scored_at=NOW - timedelta(microseconds=456789))
    return leads


def test_the_fast_road_is_taken_on_postgresql_only_and_never_inside_portable(db):
    assert pg_fast.enabled() == (connection.vendor == "postgresql")
    with pg_fast.portable():
        assert not pg_fast.enabled()
    assert pg_fast.enabled() == (connection.vendor == "postgresql")


@pytest.mark.parametrize("name", ROADS)
def test_values_dicts_gives_what_django_gives(leads_with_facts, name):
    rows = (
        Lead.objects.order_by("pk")
        .values(*rescoring.FACT_FIELDS, *rescoring.SCORE_FIELDS, "scored_at")
        .filter(pk__in=[lead.pk for lead in leads_with_facts])
    )
    expected = list(rows)

    with road(name):
        got = pg_fast.values_dicts(rows, json_fields=rescoring.JSON_FACT_FIELDS)

    assert got == expected
    assert [row["company__tags"] for row in got] == [["b2b", "Série A"], ["b2b", "Série A"], None]
    assert got[1]["scored_at"] == NOW - timedelta(microseconds=456789)


@pytest.mark.parametrize("name", ROADS)
def test_values_list_rows_gives_what_django_gives(leads_with_facts, name):
    rows = leads_with_facts[0].activities.order_by("occurred_at").values_list("kind", "occurred_at")
    none = rows.filter(lead_id__in=[])

    with road(name):
        got, got_none = pg_fast.values_list_rows(rows), pg_fast.values_list_rows(none)

    assert [tuple(row) for row in got] == list(rows)
    assert [at.utcoffset() for _, at in got] == [timedelta(0), timedelta(0)]
    assert list(got_none) == []


@pytest.mark.parametrize("name", ROADS)
def test_the_json_parameter_cursor_sends_the_text_as_is_and_is_seen_by_execute_wrappers(db, name):
    text = '{"a": "it\'s 100% \\"quoted\\" ; DROP TABLE x"}'
    sql = {
        "postgresql": "SELECT %s::jsonb ->> 'a'",
        "sqlite": "SELECT json_extract(%s, '$.a')",
    }[connection.vendor]
    seen = []

    def record(execute, statement, params, many, context):
        seen.append(statement)
        return execute(statement, params, many, context)

    with road(name), connection.execute_wrapper(record), pg_fast.json_param_cursor() as cursor:
        cursor.execute(sql, [text])
        value = cursor.fetchone()[0]
        client_binding = isinstance(cursor.cursor, psycopg.ClientCursor)

    assert value == 'it\'s 100% "quoted" ; DROP TABLE x'
    assert seen == [sql]
    # Apart from the statement on the fast road; Django's own (client-side) binding otherwise.
    assert client_binding == (name == "portable" and connection.vendor == "postgresql")


@pytest.mark.parametrize("name", ROADS)
def test_a_datetime_as_json_compares_equal_to_the_stored_one(leads_with_facts, name):
    lead = leads_with_facts[1]
    stored = Lead.objects.get(pk=lead.pk).scored_at
    sql = {
        "postgresql": "SELECT id FROM leads_lead WHERE scored_at = (%s::jsonb ->> 0)::timestamptz",
        "sqlite": "SELECT id FROM leads_lead WHERE scored_at IS json_extract(%s, '$[0]')",
    }[connection.vendor]

    with road(name):
        text = f"[{pg_fast.datetime_json(stored)}, {pg_fast.datetime_json(None)}]"
        with connection.cursor() as cursor:
            cursor.execute(sql, [text])
            found = [row[0] for row in cursor.fetchall()]

    assert found == [lead.pk]
    assert text.endswith(", null]")
