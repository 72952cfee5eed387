"""The merge compare page shows values the way the rest of the app does (money as money)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from leads.merging import lead_merge_preview
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def test_expected_values_read_as_money_in_each_leads_currency(salesperson):
    survivor = LeadFactory(owner=salesperson, expected_value=Decimal("60000.00"), currency="EUR")
    duplicate = LeadFactory(owner=salesperson, expected_value=Decimal("1234.40"), currency="USD")

    preview = lead_merge_preview(survivor=survivor, duplicate=duplicate)

    [row] = [row for row in preview.rows if row.name == "expected_value"]
    assert (row.survivor, row.duplicate, row.outcome) == ("€60,000", "$1,234", "choose")


def test_a_missing_expected_value_is_blank_not_none(salesperson):
    survivor = LeadFactory(owner=salesperson, expected_value=None)
    duplicate = LeadFactory(owner=salesperson, expected_value=Decimal("500"), currency="GBP")

    preview = lead_merge_preview(survivor=survivor, duplicate=duplicate)

    [row] = [row for row in preview.rows if row.name == "expected_value"]
    assert (row.survivor, row.duplicate, row.outcome) == ("", "£500", "filled")


def test_the_compare_page_shows_formatted_money(client_of, salesperson):
    survivor = LeadFactory(owner=salesperson, expected_value=Decimal("60000.00"), currency="EUR")
    duplicate = LeadFactory(owner=salesperson, expected_value=Decimal("45000.00"), currency="EUR")

    response = client_of(salesperson).get(
        reverse("lead-merge-compare", args=[survivor.pk, duplicate.pk])
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert '<span class="merge-value">€60,000</span>' in page
    assert '<span class="merge-value">€45,000</span>' in page
    assert "60000.00" not in page
