"""Issue 19, in a real browser: ICP suggestions from wins and losses, and the win probability
and forecast. Screenshots (desktop and a 390 px phone) go to /tmp/shots/i19-forecast/."""

from __future__ import annotations

import re
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from icp.models import ICP, Criterion
from leads.models import Stage
from tests.factories import CompanyFactory, LeadFactory
from tests.forecast.deals import deal

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# /tmp/shots/i19-forecast on Linux: where the lead looks at the pages.
SHOTS = Path(tempfile.gettempdir()) / "shots" / "i19-forecast"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
THROUGH = (Stage.NEW, Stage.CONTACTED, Stage.QUALIFIED, Stage.PROPOSAL)


def shoot(page, name: str) -> None:
    """The page at desktop width, then at a phone's, then back."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}-desktop.png", full_page=True, caret="initial")
    page.set_viewport_size(PHONE)
    page.screenshot(path=SHOTS / f"{name}-phone.png", full_page=True, caret="initial")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    page.set_viewport_size(DESKTOP)
    assert overflow <= 0, f"{name} scrolls sideways on a phone by {overflow}px"


@pytest.fixture
def logistics_wins(salesperson):
    """9 wins (7 Logistics) and 11 losses (2 Logistics): Logistics stands out."""
    for industry in ["Logistics"] * 7 + ["Retail"] * 2:
        deal(salesperson, outcome=Stage.WON, industry=industry, through=THROUGH)
    for industry in ["Logistics"] * 2 + ["Retail"] * 9:
        deal(salesperson, outcome=Stage.LOST, industry=industry, through=THROUGH)


def test_a_salesperson_accepts_an_icp_suggestion_and_their_leads_are_rescored(
    logged_in_page, live_server, salesperson, logistics_wins, console_errors, celery_worker
):
    icp = ICP.objects.create(owner=salesperson, name="Mid-market")
    Criterion.objects.create(icp=icp, field="country", operator="equals", value="DE", weight=10)
    prospect = LeadFactory(
        owner=salesperson,
        first_name="Lena",
        last_name="Shipper",
        stage=Stage.CONTACTED,
        company=CompanyFactory(owner=salesperson, name="Harbor Freight", industry="Logistics"),
    )
    LeadFactory(
        owner=salesperson,
        stage=Stage.CONTACTED,
        company=CompanyFactory(owner=salesperson, industry="Retail"),
    )
    page = logged_in_page(salesperson)

    page.goto(f"{live_server.url}/icp/")
    page.get_by_role("link", name="Suggestions from your wins").click()
    card = page.locator("[data-suggestion='Industry equals Logistics']")
    expect(card).to_contain_text("7 of 9 wins vs 2 of 11 losses are Logistics")
    expect(card.locator("[data-confidence]")).to_have_text("Strong signal")
    shoot(page, "icp-suggestions")

    card.get_by_role("button", name="Preview").click()
    expect(card.locator("[data-effect-summary]")).to_contain_text(
        "1 of your 2 open leads would gain points"
    )
    expect(card).to_contain_text("Lena Shipper")
    shoot(page, "icp-suggestion-preview")

    card.get_by_role("button", name="Add to ICP").click()
    page.wait_for_url(f"{live_server.url}/icp/{icp.pk}/")
    expect(page.get_by_role("status").first).to_contain_text(
        "Added “Industry equals Logistics” to Mid-market"
    )
    expect(page.locator("#icp-criteria")).to_contain_text("Industry equals Logistics")

    # The worker rescored the ICP's leads: Lena's company is in Logistics, so she matches now.
    page.goto(f"{live_server.url}/leads/{prospect.pk}/")
    score = page.locator("#lead-score")
    for _ in range(30):
        if "Industry equals Logistics" in score.inner_text():
            break
        page.wait_for_timeout(500)
        page.reload()
    expect(score.locator(".explain-good")).to_contain_text("Industry equals Logistics")
    assert console_errors == []


def test_with_too_few_closed_deals_the_suggestions_page_says_so(
    logged_in_page, live_server, salesperson, console_errors
):
    for _ in range(3):
        deal(salesperson, outcome=Stage.WON)
    deal(salesperson, outcome=Stage.LOST)
    page = logged_in_page(salesperson)
    page.goto(f"{live_server.url}/icp/suggestions/")
    empty = page.locator("[data-too-few]")
    expect(empty.get_by_role("heading")).to_have_text("Close 6 more deals first")
    expect(empty).to_contain_text("You have closed 4 (3 won, 1 lost)")
    expect(page.locator("[data-suggestion]")).to_have_count(0)
    shoot(page, "icp-suggestions-too-few")
    assert console_errors == []


def test_a_lead_shows_its_win_probability_and_the_pipeline_and_reports_the_forecast(
    logged_in_page, live_server, salesperson, logistics_wins, console_errors
):
    lead = LeadFactory(
        owner=salesperson,
        first_name="Omar",
        last_name="Quote",
        stage=Stage.PROPOSAL,
        expected_value=Decimal(40_000),
    )
    LeadFactory(owner=salesperson, stage=Stage.NEW, expected_value=Decimal(10_000))
    page = logged_in_page(salesperson)

    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    card = page.locator("#lead-forecast")
    expect(card.locator("[data-win-probability]")).to_have_text(re.compile(r"^\d{1,3}%$"))
    expect(card).to_contain_text("(80% range)")
    expect(card.locator("[data-forecast-basis]")).to_contain_text(
        "Based on 20 of your deals that reached Proposal (9 won, 11 lost)"
    )
    expect(card).to_contain_text("estimated from the stage")
    shoot(page, "lead-win-probability")

    page.get_by_role("link", name="Pipeline").first.click()
    strip = page.locator("#pipeline-forecast")
    expect(strip.locator("[data-forecast-total]")).to_contain_text("expected from 2 open deals")
    expect(strip.locator("tbody tr")).to_have_count(2)  # Proposal's month and New's
    expect(strip.locator("thead")).to_contain_text("80% range")
    shoot(page, "pipeline-forecast")

    page.goto(f"{live_server.url}/reports/")
    page.get_by_role("link", name="Forecast").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Forecast")
    expect(page.locator("#report-body")).to_contain_text("Closed deals it rests on")
    expect(page.locator("#report-body svg.chart").first).to_be_visible()
    shoot(page, "report-forecast")
    assert console_errors == []
