"""The lead list's table region as htmx swaps it: what shows with and without results."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import LeadFactory

HTMX = {"HX-Request": "true"}


@pytest.mark.django_db
def test_no_bulk_actions_when_no_lead_matches_the_filters(sam_client, salesperson):
    LeadFactory(owner=salesperson, first_name="Dana")

    response = sam_client.get(reverse("lead-list"), {"q": "nobody-by-this-name"}, headers=HTMX)

    table = response.content.decode()
    assert table.lstrip().startswith('<div id="lead-table"')
    assert "No leads match these filters" in table
    assert "bulk-bar" not in table
    assert "Apply to selected" not in table
    assert "data-select-all" not in table


@pytest.mark.django_db
def test_bulk_actions_show_above_matching_leads(sam_client, salesperson):
    LeadFactory(owner=salesperson, first_name="Dana")

    response = sam_client.get(reverse("lead-list"), {"q": "dana"}, headers=HTMX)

    table = response.content.decode()
    assert "Dana" in table
    assert "Apply to selected" in table
    assert "data-select-all" in table


@pytest.mark.django_db
def test_pager_links_and_filters_share_one_request_sync_group(sam_client, salesperson):
    LeadFactory.create_batch(51, owner=salesperson)

    page = sam_client.get(reverse("lead-list")).content.decode()

    assert 'id="lead-filters"' in page
    assert 'hx-sync="this:replace"' in page
    assert 'hx-sync="#lead-filters:drop">Next page' in page


@pytest.mark.django_db
def test_the_table_refreshes_the_page_it_shows_not_page_one(sam_client, salesperson):
    LeadFactory.create_batch(51, owner=salesperson)
    first = sam_client.get(reverse("lead-list"), {"q": "", "sort": "score"}).context["page"]

    response = sam_client.get(
        reverse("lead-list"), {"sort": "score", "after": first.next_cursor}, headers=HTMX
    )

    table = response.content.decode()
    assert table.lstrip().startswith('<div id="lead-table"')
    assert f'hx-get="/leads/?sort=score&amp;after={first.next_cursor}"' in table
