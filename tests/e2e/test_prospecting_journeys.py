"""Issue 19 in a real browser: find who you know at a company and ask them for an intro; add a
contact who looks like your best customers to your reconnect plan."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import TeamSettings
from leads.models import FollowUp, FollowUpKind, Stage
from referrals.models import ReferralAsk
from tests.factories import CompanyFactory, LeadFactory, ReferralSourceFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots-i19-find"
PHONE = {"width": 390, "height": 844}


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}.png", caret="initial", full_page=True)


def assert_no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide"


@pytest.fixture
def acme(salesperson):
    """Sam's ways into Acme: a customer, an imported connection, a referral source who works
    there, and (shared by the team) a teammate's CTO there."""
    acme_inc = CompanyFactory(owner=salesperson, name="Acme Inc", domain="acme.com")
    LeadFactory(
        owner=salesperson,
        first_name="Carla",
        last_name="Customer",
        title="COO",
        company=acme_inc,
        stage=Stage.WON,
        won_at=timezone.now(),
    )
    LeadFactory(
        owner=salesperson,
        first_name="Nina",
        last_name="Network",
        title="Engineer",
        company=CompanyFactory(owner=salesperson, name="ACME Ltd.", domain=""),
    )
    rita = ReferralSourceFactory(
        owner=salesperson, name="Rita Works", email="rita@acme.com", strength=4
    )
    jordan = UserFactory(first_name="Jordan", last_name="Lee", username="jordan")
    LeadFactory(
        owner=jordan,
        first_name="Tom",
        last_name="Tate",
        title="CTO",
        email="tom@acme.com",
        notes="Private: budget 40k",
        company=CompanyFactory(owner=jordan, name="ACME", domain="acme.com"),
    )
    TeamSettings.objects.create(pk=1, share_contacts=True)
    return rita


def test_warm_path_search_then_ask_a_referral_source_for_an_intro(
    logged_in_page, live_server, salesperson, acme, console_errors
):
    page = logged_in_page(salesperson)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Prospect").click()
    page.get_by_role("link", name="Who do I know at …?").click()
    search = page.get_by_label("Company name, domain or email")
    expect(search).to_be_focused()
    search.fill("ACME, Inc.")
    page.get_by_role("button", name="Find paths").click()

    expect(page.get_by_role("heading", name="Who do I know at Acme Inc?")).to_be_visible()
    rows = page.locator(".warm-row")
    expect(rows.first).to_contain_text("Carla Customer")
    expect(rows.first).to_contain_text("Your customer at Acme Inc")
    expect(rows.first).to_contain_text("Very strong")
    expect(page.locator("#warm-paths")).to_contain_text(
        "Your connection at ACME Ltd. (imported from your network)"
    )
    tom = rows.filter(has_text="Tom Tate")
    expect(tom).to_contain_text("CTO")
    expect(tom.get_by_role("button", name="Ask Jordan for an intro")).to_be_visible()
    expect(page.locator("#warm-paths")).not_to_contain_text("tom@acme.com")
    expect(page.locator("#warm-paths")).not_to_contain_text("budget")

    rita = rows.filter(has_text="Rita Works")
    expect(rita).to_contain_text("Referral source with an email at acme.com")
    shoot(page, "warm-paths-desktop")
    rita.get_by_label("How you ask Rita Works").select_option("call")
    rita.get_by_role("button", name="Ask for an intro").click()
    expect(rita.get_by_role("status")).to_contain_text("Intro ask recorded with Rita Works (Call)")

    ask = ReferralAsk.objects.get(source=acme)
    assert (ask.channel, ask.note) == ("call", "Intro at Acme Inc")
    rita.get_by_role("link", name="Rita Works").last.click()
    expect(page.locator("#asks-history")).to_contain_text("Intro at Acme Inc")

    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/prospecting/who/?q=acme")
    expect(page.locator(".warm-row").first).to_contain_text("Carla Customer")
    assert_no_sideways_scroll(page)
    shoot(page, "warm-paths-phone")
    assert console_errors == []


@pytest.fixture
def best_customers(salesperson):
    for value in (Decimal(80_000), Decimal(20_000)):
        LeadFactory(
            owner=salesperson,
            stage=Stage.WON,
            won_at=timezone.now(),
            expected_value=value,
            title="VP Sales",
            company=CompanyFactory(
                owner=salesperson, industry="Software", employee_count=120, country="GB"
            ),
        )
    LeadFactory(
        owner=salesperson,
        first_name="Omar",
        last_name="Other",
        title="Intern",
        company=CompanyFactory(owner=salesperson, name="Far Off", industry="Mining"),
    )
    return LeadFactory(
        owner=salesperson,
        first_name="Lola",
        last_name="Alike",
        title="VP Marketing",
        company=CompanyFactory(
            owner=salesperson,
            name="Alike Ltd",
            industry="Software",
            employee_count=90,
            country="GB",
        ),
    )


def test_a_lookalike_is_added_to_the_reconnect_plan(
    logged_in_page, live_server, salesperson, best_customers, console_errors
):
    lola = best_customers
    page = logged_in_page(salesperson)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Prospect").click()
    expect(page.get_by_role("heading", name="Prospects like your best customers")).to_be_visible()
    row = page.locator(f"#lookalike-{lola.pk}")
    expect(page.locator(".lookalike-row").first).to_contain_text("Lola Alike")
    expect(row).to_contain_text(
        "Same industry, size band and country as 2 of your 2 won customers; title seniority matches"
    )
    row.get_by_text("Why").click()
    expect(row).to_contain_text("Industry Software: 2 of your 2 won customers")
    shoot(page, "lookalikes-desktop")

    row.get_by_role("button", name="Add to reconnects").click()
    expect(row.get_by_role("status")).to_contain_text("Added to your reconnect plan: due")
    follow_up = FollowUp.objects.get(lead=lola, done_at__isnull=True)
    assert follow_up.kind == FollowUpKind.RECONNECT

    row.get_by_role("link", name="See your reconnect plan").click()
    expect(page.locator("main")).to_contain_text("Lola Alike")
    expect(page.locator("main")).not_to_contain_text("Omar Other")

    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/prospecting/")
    expect(page.locator(f"#lookalike-{lola.pk}")).to_contain_text("In your reconnect plan · due")
    assert_no_sideways_scroll(page)
    shoot(page, "lookalikes-phone")
    assert console_errors == []


def test_with_no_won_customers_the_lookalikes_page_says_what_to_do(
    logged_in_page, live_server, salesperson, console_errors
):
    page = logged_in_page(salesperson)
    page.goto(f"{live_server.url}/prospecting/")
    expect(page.locator("#lookalikes-empty")).to_contain_text("No won customers yet")
    page.locator("#lookalikes-empty").get_by_role(
        "link", name="find who you know at a company"
    ).click()
    expect(page.get_by_role("heading", name="Who do I know at …?")).to_be_visible()
    shoot(page, "warm-paths-empty-desktop")
    assert console_errors == []
