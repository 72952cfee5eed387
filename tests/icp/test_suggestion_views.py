"""The ICP suggestions page: too few deals, the suggestions, the preview, adding one."""

from __future__ import annotations

import pytest
from django.urls import reverse

from icp.models import ICP, Criterion, RescoreRequest
from icp.suggestions import MIN_CLOSED_DEALS
from leads.models import Stage
from tests.factories import CompanyFactory, LeadFactory
from tests.forecast.deals import deal

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


@pytest.fixture
def wins_and_losses(salesperson):
    for industry in ["Logistics"] * 7 + ["Retail"] * 2:
        deal(salesperson, outcome=Stage.WON, industry=industry)
    for industry in ["Logistics"] * 2 + ["Retail"] * 9:
        deal(salesperson, outcome=Stage.LOST, industry=industry)


@pytest.fixture
def icp(salesperson):
    icp = ICP.objects.create(owner=salesperson, name="Mid-market")
    Criterion.objects.create(icp=icp, field="country", operator="equals", value="GB", weight=10)
    return icp


def logistics_form(prefix: str, icp_choice: str, weight: int = 20) -> dict[str, str]:
    return {
        "prefix": prefix,
        f"{prefix}-field": "industry",
        f"{prefix}-operator": "equals",
        f"{prefix}-value": "Logistics",
        f"{prefix}-icp": icp_choice,
        f"{prefix}-weight": str(weight),
    }


def test_with_too_few_deals_it_says_how_many_more(sam_client, salesperson):
    for _ in range(3):
        deal(salesperson, outcome=Stage.WON)
    deal(salesperson, outcome=Stage.LOST)
    body = sam_client.get(reverse("icp-suggestions")).content.decode()
    assert f"Close {MIN_CLOSED_DEALS - 4} more deals first" in body
    assert "You have closed 4 (3 won, 1 lost)" in body
    assert "data-suggestion" not in body


def test_it_shows_what_wins_have_that_losses_lack(sam_client, wins_and_losses, icp):
    body = sam_client.get(reverse("icp-suggestions")).content.decode()
    assert "7 of 9 wins vs 2 of 11 losses are Logistics" in body
    assert 'data-suggestion="Industry equals Logistics"' in body
    assert "Strong signal" in body
    assert "From 9 won and 11 lost deals" in body


def test_a_salesperson_learns_from_their_own_deals_only(
    client_of, other_salesperson, wins_and_losses
):
    body = client_of(other_salesperson).get(reverse("icp-suggestions")).content.decode()
    assert "Close 10 more deals first" in body


def test_a_manager_learns_from_the_teams_deals(client_of, manager, wins_and_losses):
    body = client_of(manager).get(reverse("icp-suggestions")).content.decode()
    assert "7 of 9 wins vs 2 of 11 losses are Logistics" in body


def test_the_page_is_a_fixed_number_of_queries(
    sam_client, salesperson, wins_and_losses, icp, django_assert_num_queries
):
    sam_client.get(reverse("icp-suggestions"))
    # session, user with the manager flag, wins, losses, ICPs, criteria, the form's ICP choices.
    with django_assert_num_queries(7) as first:
        sam_client.get(reverse("icp-suggestions"))
    for industry in ["Logistics"] * 5 + ["Shipping"] * 5:
        deal(salesperson, outcome=Stage.LOST, industry=industry)
    with django_assert_num_queries(len(first.captured_queries)):
        sam_client.get(reverse("icp-suggestions"))


def test_the_preview_counts_the_open_leads_that_would_gain(
    sam_client, salesperson, wins_and_losses, icp
):
    for industry in ("Logistics", "Logistics", "Retail"):
        LeadFactory(
            owner=salesperson,
            stage=Stage.CONTACTED,
            company=CompanyFactory(owner=salesperson, industry=industry, country="DE"),
        )
    response = sam_client.get(
        reverse("icp-suggestion-preview"), logistics_form("s0", str(icp.pk)), headers=HTMX
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<div class="suggestion-effect" id="s0-effect"')
    assert "<strong>2</strong> of your 3 open leads would gain points" in body
    assert not Criterion.objects.filter(icp=icp, field="industry").exists()  # nothing saved


def test_adding_it_saves_the_criterion_and_asks_for_a_rescore(sam_client, wins_and_losses, icp):
    response = sam_client.post(reverse("icp-suggestion-add"), logistics_form("s0", str(icp.pk)))
    assert response.status_code == 302
    assert response["Location"] == reverse("icp-detail", args=[icp.pk])
    criterion = Criterion.objects.get(icp=icp, field="industry")
    assert (criterion.operator, criterion.value, criterion.weight) == ("equals", "Logistics", 20)
    assert RescoreRequest.objects.filter(kind="icp", target_id=icp.pk).exists()


def test_without_an_icp_it_starts_one(sam_client, salesperson, wins_and_losses):
    sam_client.post(reverse("icp-suggestion-add"), logistics_form("s1", "new", 15))
    icp = ICP.objects.get(owner=salesperson)
    assert icp.name == "Learned from my wins"
    assert icp.is_active
    assert icp.criteria.get().label == "Industry equals Logistics"


def test_another_reps_icp_cannot_be_picked(sam_client, other_salesperson, wins_and_losses):
    theirs = ICP.objects.create(owner=other_salesperson, name="Theirs")
    response = sam_client.post(reverse("icp-suggestion-add"), logistics_form("s0", str(theirs.pk)))
    assert response.status_code == 302
    assert not theirs.criteria.exists()
