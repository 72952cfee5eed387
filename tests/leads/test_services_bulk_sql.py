"""The COPY behind `bulk_insert` on PostgreSQL writes what the ORM's own bulk_create writes."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from leads.models import Lead
from leads.services.bulk_sql import bulk_insert

NOW = datetime(2026, 12, 7, 9, 30, tzinfo=ZoneInfo("Europe/Dublin"))
# Every column but the ones each write makes anew.
COMPARED = [
    field.attname
    for field in Lead._meta.concrete_fields
    if field.attname not in ("id", "created_at", "updated_at")
]


@pytest.mark.django_db
def test_leads_copied_read_back_as_the_orm_writes_them(salesperson):
    if connection.vendor != "postgresql":
        pytest.skip("COPY is PostgreSQL's (elsewhere bulk_insert is bulk_create)")
    values = [
        {
            "tags": ["vip", "board"],
            "score_explanation": {"fit": [{"points": 3, "why": "Titel “CTO”"}]},
            "expected_value": Decimal("1200.50"),
            "expected_close_date": date(2027, 1, 31),
            "won_at": NOW,
        },
        {"tags": [], "expected_value": None, "notes": "A tab\there, a line\nand a \\ backslash"},
    ]

    def leads() -> list[Lead]:
        return [
            Lead(owner=salesperson, first_name="Ada", stage_changed_at=NOW, **each)
            for each in values
        ]

    copied = bulk_insert(Lead, leads())
    created = Lead.objects.bulk_create(leads())

    def read(written: list[Lead]) -> list[dict]:
        rows = Lead.objects.filter(pk__in=[lead.pk for lead in written]).order_by("pk")
        return list(rows.values(*COMPARED))

    assert read(copied) == read(created)
    assert read(copied)[0]["score_explanation"] == values[0]["score_explanation"]
    assert all(lead.pk and not lead._state.adding for lead in copied)
