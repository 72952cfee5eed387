"""The lead list's table region as htmx swaps it: what shows with and without results."""

from __future__ import annotations

import re

import pytest
from django.core.cache import caches
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from leads.forms import LeadFilterForm, QuickAddLeadForm
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


@pytest.mark.django_db
def test_the_blank_quick_add_form_is_drawn_once_per_process(sam_client, monkeypatch):
    """Its HTML is the same for everyone, so the lead list draws it from the fragment cache."""
    caches["fragments"].clear()
    drawn = []
    iterate = QuickAddLeadForm.__iter__

    def counting_iter(form):
        drawn.append(form.is_bound)
        return iterate(form)

    monkeypatch.setattr(QuickAddLeadForm, "__iter__", counting_iter)

    first = sam_client.get(reverse("lead-list")).content.decode()
    second = sam_client.get(reverse("lead-list")).content.decode()

    assert drawn == [False]
    quick_add = re.compile(r'<div class="quick-add-fields">.*?</form>', re.DOTALL)
    assert quick_add.search(first).group() == quick_add.search(second).group()
    assert 'id="quick_first_name"' in second


@pytest.mark.django_db
def test_a_quick_add_with_errors_is_drawn_with_them_after_a_blank_one(sam_client):
    caches["fragments"].clear()
    sam_client.get(reverse("lead-list"))

    response = sam_client.post(
        reverse("lead-create"), {"company_name": "Acme", "source": "referral"}, headers=HTMX
    )

    assert response.status_code == 422
    assert "Give the lead a name or an email address." in response.content.decode()
    assert 'value="Acme"' in response.content.decode()


@pytest.mark.django_db
def test_the_filters_show_what_each_request_asked_for_when_drawn_from_the_cache(sam_client):
    caches["fragments"].clear()

    def page(**filters):
        return sam_client.get(reverse("lead-list"), filters).content.decode()

    first, other, again = (
        page(stage="won", q="acme"),
        page(stage="lost"),
        page(stage="won", q="acme"),
    )

    assert '<option value="won" selected>' in first
    assert '<option value="lost" selected>' in other
    assert '<option value="won" selected>' not in other
    assert 'value="acme"' not in other
    assert again == first.replace(_csrf(first), _csrf(again))
    assert 'aria-invalid="true"' in page(stage="no-such-stage")
    assert 'aria-invalid="true"' not in page(stage="won")


def _csrf(page: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def test_the_filters_cache_key_tells_apart_values_that_run_together():
    def key(query: str) -> str:
        return LeadFilterForm(QueryDict(query), owners=None).fields_key

    assert key("q=a%26stage%3Dwon") != key("q=a&stage=won")
    assert key("q=a&stage=won") == key("stage=won&q=a&sort=name")
    assert LeadFilterForm(owners=None).fields_key == "blank"


@pytest.mark.django_db
@pytest.mark.parametrize("viewer", ["salesperson", "manager"])
def test_only_a_managers_page_of_leads_reads_the_owners_and_in_the_same_query(
    client_of, salesperson, manager, viewer
):
    client = client_of(manager if viewer == "manager" else salesperson)
    LeadFactory.create_batch(3, owner=salesperson)

    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("lead-list"), {"sort": "score"}).status_code == 200

    pages = [q["sql"] for q in queries.captured_queries if '"leads_lead"."first_name"' in q["sql"]]
    assert len(pages) == 1
    assert ('"accounts_user"' in pages[0]) is (viewer == "manager")


@pytest.mark.django_db
def test_a_manager_reads_whose_lead_each_row_is_and_a_salesperson_reads_no_owner_column(
    client_of, salesperson, other_salesperson, manager
):
    salesperson.first_name, salesperson.last_name = "Sam", "Okafor"
    salesperson.save()
    LeadFactory(owner=salesperson, first_name="Mine")
    LeadFactory(owner=other_salesperson, first_name="Theirs")

    managers_rows = client_of(manager).get(reverse("lead-list")).content.decode()
    own_rows = client_of(salesperson).get(reverse("lead-list")).content.decode()

    owners = re.findall(r'<td class="cell-owner" data-label="Owner">([^<]*)</td>', managers_rows)
    assert sorted(owners) == sorted(["Sam Okafor", str(other_salesperson)])
    assert "cell-owner" not in own_rows
    assert "Mine" in own_rows
