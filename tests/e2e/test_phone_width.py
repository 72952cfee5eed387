"""LeadHunter on a phone (390 px wide): a menu for every section, lists as cards, and a lead page
that opens on the call / email / LinkedIn buttons and the next step."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from imports.models import ImportJob
from tests.factories import FollowUpFactory, ICPFactory, LeadFactory, ReferralSourceFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
SECTIONS = {
    "Today": "/",
    "Leads": "/leads/",
    "Pipeline": "/pipeline/",
    "Referrals": "/referrals/",
    "Prospect": "/prospecting/",
    "ICP": "/icp/",
    "Reports": "/reports/",
}


def assert_no_sideways_scroll(page) -> None:
    """Nothing on the page is wider than the screen (the board may scroll in its own box)."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide"


def top(locator) -> float:
    box = locator.bounding_box()
    assert box is not None
    return box["y"]


def open_menu(page):
    """Tap "Menu" and return the main navigation it shows."""
    nav = page.get_by_role("navigation", name="Main")
    expect(nav).to_be_hidden()
    page.locator("summary", has_text="Menu").click()
    expect(nav).to_be_visible()
    return nav


@pytest.fixture
def week_of_work(salesperson):
    """Dana, the warm lead with a call due, among a few others; a referrer, an ICP, an import."""
    soon = timezone.now() + timedelta(days=1)
    dana = LeadFactory(
        owner=salesperson,
        first_name="Dana",
        last_name="Reyes",
        title="Chief Operating Officer",
        company__name="Juniper Logistics International Holdings",
        phone="+44 (0)20 7946 0123",
        email="dana.reyes@juniper-logistics-international.example",
        linkedin_url="https://www.linkedin.com/in/dana-reyes",
        stage="engaged",
        expected_value=40000,
        total_score=91,
        next_follow_up_at=soon,
    )
    FollowUpFactory(lead=dana, kind="follow_up", due_at=soon, note="Send the pricing deck")
    for number in range(6):
        LeadFactory(
            owner=salesperson,
            first_name="Colleague",
            last_name=f"Number{number}",
            total_score=40 - number,
            next_follow_up_at=soon + timedelta(days=number),
        )
    source = ReferralSourceFactory(owner=salesperson, name="Aoife Eriksen-Montgomery")
    ICPFactory(owner=salesperson, name="Mid-market logistics and freight forwarders in Europe")
    ImportJob.objects.create(
        owner=salesperson,
        filename="hubspot-export-2026-11-30-contacts-all-properties.csv",
        format="csv",
        status="done",
        total_rows=512,
        processed_rows=512,
        created=480,
        updated=12,
        skipped_duplicates=20,
    )
    return dana, source


def test_a_salesperson_works_their_leads_on_a_phone(
    page, logged_in_page, live_server, salesperson, week_of_work, console_errors
):
    dana, source = week_of_work
    page.set_viewport_size(PHONE)
    logged_in_page(salesperson)
    assert_no_sideways_scroll(page)

    # The sections hide behind one "Menu" button; tapping it lists them all, on screen.
    nav = open_menu(page)
    for name in SECTIONS:
        expect(nav.get_by_role("link", name=name, exact=True)).to_be_in_viewport()
    expect(page.get_by_role("link", name="Settings")).to_be_in_viewport()
    expect(page.get_by_role("button", name="Log out")).to_be_in_viewport()
    nav.get_by_role("link", name="Leads", exact=True).click()
    page.wait_for_url(f"{live_server.url}/leads/")
    assert_no_sideways_scroll(page)

    # The lead list is a stack of cards, each within the screen: no table to scroll sideways.
    table = page.locator("#lead-table .table-wrap")
    assert table.evaluate("wrap => wrap.scrollWidth <= wrap.clientWidth")
    card = page.locator("#lead-table tbody tr", has_text="Dana Reyes")
    box = card.bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= PHONE["width"]
    assert card.evaluate("row => getComputedStyle(row).display") == "grid"
    expect(card).to_contain_text("Chief Operating Officer")
    expect(card).to_contain_text("Juniper Logistics International Holdings")
    expect(card).to_contain_text("Engaged")
    expect(card).to_contain_text("€40,000")
    expect(card.locator(".cell-follow-up")).not_to_have_text("—")
    expect(card.get_by_role("checkbox", name="Select Dana Reyes")).to_be_visible()
    # The sort headings stay usable above the cards.
    expect(page.get_by_role("link", name="Next follow-up")).to_be_visible()

    # A tap anywhere on the card, not only on the name, opens the lead.
    # (The bottom of the card: its value and date added, away from the name.)
    card.click(position={"x": box["width"] / 2, "y": box["height"] - 12})
    page.wait_for_url(f"{live_server.url}/leads/{dana.pk}/")
    assert_no_sideways_scroll(page)

    # Right under the name: call, email, LinkedIn as big buttons, then the next step; on screen
    # without scrolling, above the stage form, logging, the timeline and the side cards.
    name = page.get_by_role("heading", name="Dana Reyes", level=1)
    call = page.get_by_role("link", name="Call")
    email = page.get_by_role("link", name=re.compile(r"^Email"))
    linkedin = page.get_by_role("link", name=re.compile(r"^LinkedIn"))
    expect(call).to_have_attribute("href", "tel:+442079460123")
    expect(email).to_have_attribute("href", f"/leads/{dana.pk}/email/")
    expect(email).to_contain_text("dana.reyes@juniper-logistics-international.example")
    expect(linkedin).to_have_attribute("href", "https://www.linkedin.com/in/dana-reyes")
    next_step = page.locator("#lead-follow-up")
    expect(next_step).to_contain_text("Send the pricing deck")
    for target in (call, email, linkedin, next_step.get_by_role("heading", name="Next step")):
        expect(target).to_be_in_viewport()
    for button in (call, email, linkedin):
        box = button.bounding_box()
        assert box is not None
        assert box["height"] >= 44  # thumb-sized
        assert box["width"] >= 88
    assert top(name) < top(call) == top(email) == top(linkedin) < top(next_step)
    assert top(next_step) - top(call) < 200  # only the stage badge between them, no gap
    for later in (
        page.get_by_label("Move to"),
        page.get_by_role("heading", name="Log an activity"),
        page.get_by_role("heading", name="Timeline"),
        page.locator("#lead-score"),
        page.get_by_role("heading", name="Contact", exact=True),
    ):
        assert top(next_step) < top(later)

    # Every section, the user's settings, a referral source, an import and a report: each fits.
    for section, path in SECTIONS.items():
        nav = open_menu(page)
        nav.get_by_role("link", name=section, exact=True).click()
        page.wait_for_url(f"{live_server.url}{path}")
        expect(page.locator('.mainnav a[aria-current="page"]')).to_have_text(section)
        assert_no_sideways_scroll(page)
    open_menu(page)
    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", name="Settings", level=1)).to_be_visible()
    assert_no_sideways_scroll(page)
    for path, heading in (
        (f"/referrals/{source.pk}/", "Aoife Eriksen-Montgomery"),
        ("/import/", "Import leads"),
        ("/reports/sources/", "Sources"),
        ("/reports/own-your-leads/", "Own your leads"),
    ):
        page.goto(f"{live_server.url}{path}")
        expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
        assert_no_sideways_scroll(page)
    # The imports list is cards too: the long file name wraps inside the screen.
    page.goto(f"{live_server.url}/import/")
    job = page.locator("tbody tr", has_text="hubspot-export")
    box = job.bounding_box()
    assert box is not None
    assert box["x"] + box["width"] <= PHONE["width"]
    expect(job).to_contain_text("480")
    assert console_errors == []


def test_the_phone_menu_works_from_the_keyboard(
    page, logged_in_page, live_server, salesperson, console_errors
):
    page.set_viewport_size(PHONE)
    logged_in_page(salesperson)
    menu = page.locator("summary", has_text="Menu")
    nav = page.get_by_role("navigation", name="Main")

    menu.focus()
    page.keyboard.press("Enter")
    expect(nav).to_be_visible()
    page.keyboard.press("Tab")
    expect(nav.get_by_role("link", name="Today")).to_be_focused()

    # Escape closes it and gives the focus back to the button; so does a tap elsewhere.
    page.keyboard.press("Escape")
    expect(nav).to_be_hidden()
    expect(menu).to_be_focused()
    menu.click()
    expect(nav).to_be_visible()
    page.mouse.click(PHONE["width"] / 2, PHONE["height"] - 20)  # below the open menu
    expect(nav).to_be_hidden()
    assert console_errors == []


def test_a_wide_screen_shows_every_section_in_the_top_bar_without_a_menu_button(
    page, logged_in_page, live_server, salesperson, console_errors
):
    page.set_viewport_size({"width": 1280, "height": 900})
    logged_in_page(salesperson)

    expect(page.locator("summary", has_text="Menu")).to_be_hidden()
    nav = page.get_by_role("navigation", name="Main")
    for name in SECTIONS:
        link = nav.get_by_role("link", name=name, exact=True)
        expect(link).to_be_visible()
        assert top(link) < 60  # one row, in the top bar
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    nav.get_by_role("link", name="Pipeline").click()
    page.wait_for_url(f"{live_server.url}/pipeline/")
    expect(nav.get_by_role("link", name="Pipeline")).to_have_attribute("aria-current", "page")
    assert console_errors == []
