"""The lead page's win probability card, the pipeline's forecast strip, the Forecast report."""

from __future__ import annotations

from decimal import Decimal
from html import escape

import pytest
from django.urls import reverse

from leads.models import Stage
from tests.factories import LeadFactory
from tests.forecast.deals import deal

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}
THROUGH = (Stage.NEW, Stage.CONTACTED, Stage.QUALIFIED, Stage.PROPOSAL)


@pytest.fixture
def history(salesperson):
    for _ in range(7):
        deal(salesperson, outcome=Stage.WON, through=THROUGH)
    for _ in range(3):
        deal(salesperson, outcome=Stage.LOST, through=THROUGH)


def test_the_lead_card_shows_the_probability_its_range_and_basis(sam_client, salesperson, history):
    lead = LeadFactory(owner=salesperson, stage=Stage.PROPOSAL, expected_value=Decimal(10_000))
    response = sam_client.get(reverse("lead-forecast", args=[lead.pk]), headers=HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<section class="card forecast-card" id="lead-forecast"')
    assert "data-win-probability>" in body
    assert "(80% range)" in body
    assert "Based on 10 of your deals that reached Proposal (7 won, 3 lost)" in body
    assert "estimated from the stage" in body


def test_the_lead_page_loads_the_card_and_without_javascript_links_to_it(sam_client, salesperson):
    lead = LeadFactory(owner=salesperson, stage=Stage.QUALIFIED)
    url = reverse("lead-forecast", args=[lead.pk])
    body = sam_client.get(reverse("lead-detail", args=[lead.pk])).content.decode()
    assert f'hx-get="{url}" hx-trigger="load"' in body
    assert f'<a href="{url}">See the win probability</a>' in body
    page = sam_client.get(url).content.decode()  # the link's page, whole
    assert "<h1>" in page
    assert 'id="lead-forecast"' in page


def test_a_closed_lead_gets_no_card(sam_client, salesperson):
    lead = deal(salesperson, outcome=Stage.WON)
    body = sam_client.get(reverse("lead-detail", args=[lead.pk])).content.decode()
    assert "lead-forecast" not in body


def test_another_reps_lead_is_not_found(sam_client, other_salesperson):
    lead = LeadFactory(owner=other_salesperson, stage=Stage.QUALIFIED)
    assert sam_client.get(reverse("lead-forecast", args=[lead.pk])).status_code == 404


def test_the_pipeline_strip_shows_months_and_ranges(sam_client, salesperson, history):
    LeadFactory(owner=salesperson, stage=Stage.PROPOSAL, expected_value=Decimal(10_000))
    board = sam_client.get(reverse("pipeline")).content.decode()
    assert f'hx-get="{reverse("pipeline-forecast")}"' in board
    response = sam_client.get(reverse("pipeline-forecast"), headers=HTMX)
    body = response.content.decode()
    assert body.lstrip().startswith('<section class="card forecast-strip" id="pipeline-forecast"')
    assert "expected from 1 open deal" in body
    assert "rest on 10 closed deals" in body
    assert "80% range" in body


def test_an_empty_pipeline_says_what_to_do(sam_client):
    body = sam_client.get(reverse("pipeline-forecast"), headers=HTMX).content.decode()
    assert "No open deals to forecast" in body


def test_the_strip_is_three_queries_with_the_session(
    client_of, manager, salesperson, other_salesperson, history, django_assert_num_queries
):
    client = client_of(manager)
    for owner in (salesperson, other_salesperson):
        for stage in (Stage.NEW, Stage.PROPOSAL):
            LeadFactory(owner=owner, stage=stage, expected_value=Decimal(5_000))
    client.get(reverse("pipeline-forecast"), headers=HTMX)  # warm: the session and user
    # session, user (with the manager flag); then the forecast's two.
    with django_assert_num_queries(4):
        response = client.get(reverse("pipeline-forecast"), headers=HTMX)
    assert "from 4 open deals" in response.content.decode()


def test_the_forecast_report_has_months_and_a_csv(sam_client, salesperson, history):
    LeadFactory(owner=salesperson, stage=Stage.PROPOSAL, expected_value=Decimal(10_000))
    body = sam_client.get(reverse("report-detail", args=["forecast"])).content.decode()
    assert "Weighted pipeline" in body
    assert '<svg class="chart"' in body
    assert "Closed deals it rests on" in body
    csv = sam_client.get(reverse("report-csv", args=["forecast"])).content.decode()
    assert csv.splitlines()[0].startswith("Month of expected close,Open deals,Pipeline value")
    assert len(csv.splitlines()) == 2


def test_an_expected_close_date_typed_on_the_deal_card_replaces_the_estimate(
    sam_client, salesperson
):
    lead = LeadFactory(owner=salesperson, stage=Stage.QUALIFIED, source="event")
    response = sam_client.post(
        reverse("lead-edit", args=[lead.pk, "deal"]),
        {"source": "event", "currency": "EUR", "expected_close_date": "2027-03-15"},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert "15 Mar 2027" in response.content.decode()  # the Deal card shows it
    lead.refresh_from_db()
    assert lead.expected_close_date.isoformat() == "2027-03-15"
    card = sam_client.get(reverse("lead-forecast", args=[lead.pk]), headers=HTMX)
    body = card.content.decode()
    assert "15 Mar 2027" in body
    assert "estimated from the stage" not in body


def test_a_manager_reads_whose_deals_the_probability_rests_on(
    client_of, manager, salesperson, history
):
    lead = LeadFactory(owner=salesperson, stage=Stage.PROPOSAL)
    body = (
        client_of(manager)
        .get(reverse("lead-forecast", args=[lead.pk]), headers=HTMX)
        .content.decode()
    )
    assert escape(f"Based on 10 of {salesperson}'s deals that reached Proposal") in body


def test_the_forecast_report_offers_a_manager_the_rep_not_a_period(
    client_of, sam_client, manager, salesperson, history
):
    LeadFactory(owner=salesperson, stage=Stage.PROPOSAL, expected_value=Decimal(10_000))
    url = reverse("report-detail", args=["forecast"])
    mine = sam_client.get(url).content.decode()
    assert 'id="report-filters"' not in mine  # nothing to filter
    team = client_of(manager).get(url).content.decode()
    assert 'name="rep"' in team
    assert '<input type="hidden" name="start"' in team
