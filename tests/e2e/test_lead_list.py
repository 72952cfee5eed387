"""The lead list in a real browser: filters and pagination must not race each other."""

from __future__ import annotations

import contextlib
import re
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from tests.factories import LeadFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_next_page_right_after_typing_a_search_shows_the_page_its_url_names(
    logged_in_page, live_server, salesperson, console_errors
):
    # 60 matches: two pages of 50. One that does not match, to see the search applied.
    for number in range(60):
        LeadFactory(owner=salesperson, first_name="Acme", last_name=f"Buyer{number:02}")
    LeadFactory(owner=salesperson, first_name="Zed", last_name="Elsewhere")
    page = logged_in_page(salesperson)
    page.goto(f"{live_server.url}/leads/")

    page.get_by_label("Search").fill("acme")
    expect(page).to_have_url(re.compile(r"[?&]q=acme"))
    expect(page.locator("#lead-table")).not_to_contain_text("Zed Elsewhere")

    # Leaving the search box fires `change`, which submits the filters (page 1) while the
    # click asks for page 2. Hold the page-1 request until page 2 has arrived, as a busy
    # server might.
    held: list = []
    page.route(
        "**/leads/?*",
        lambda route, request: (
            held.append(route) if "after=" not in request.url else route.continue_()
        ),
    )
    page.locator("#lead-table").get_by_role("link", name="Next page »").click()
    expect(page.locator("#lead-table")).to_contain_text("« First page")
    for route in held:
        with contextlib.suppress(PlaywrightError):  # the browser may have cancelled it
            route.continue_()
    page.wait_for_load_state("networkidle")

    # The user's last action was "Next page": page 2 shows, and the address says so.
    expect(page.locator("#lead-table")).to_contain_text("« First page")
    # htmx writes the address after it swaps the table in: wait for it, then read it.
    expect(page).to_have_url(re.compile(r"[?&]after="))
    query = parse_qs(urlparse(page.url).query)
    assert query.get("q") == ["acme"]
    assert "after" in query
    assert console_errors == []


def test_a_filter_change_in_flight_wins_over_a_click_on_the_old_pages_link(
    logged_in_page, live_server, salesperson, console_errors
):
    for number in range(60):
        LeadFactory(owner=salesperson, last_name=f"New{number:02}", stage="new")
    LeadFactory(owner=salesperson, first_name="Quinn", last_name="Qualified", stage="qualified")
    page = logged_in_page(salesperson)
    page.goto(f"{live_server.url}/leads/")

    # The stage filter's request is slow; "Next page" (rendered for all stages) is clicked
    # before it answers.
    held: list = []
    page.route("**/leads/?*", lambda route, request: held.append(route))
    page.locator("#lead-filters").get_by_label("Stage").select_option("qualified")
    page.wait_for_timeout(100)
    page.locator("#lead-table").get_by_role("link", name="Next page »").click()
    page.wait_for_timeout(300)
    page.unroute("**/leads/?*")
    for route in held:
        with contextlib.suppress(PlaywrightError):
            route.continue_()
    page.wait_for_load_state("networkidle")

    # The table, the address and the filter form agree: page 1 of the qualified leads.
    expect(page.locator("#lead-table")).to_contain_text("Quinn Qualified")
    expect(page.locator("#lead-table")).not_to_contain_text("First page")
    # htmx writes the address after it swaps the table in (a loaded CI run read it before).
    expect(page).to_have_url(re.compile(r"[?&]stage=qualified"))
    query = parse_qs(urlparse(page.url).query)
    assert query.get("stage") == ["qualified"]
    assert "after" not in query
    assert console_errors == []


def test_back_to_a_filtered_list_shows_its_filters_as_its_address_names_them(
    logged_in_page, live_server, salesperson, console_errors
):
    """Found in a trial: after Back, the list was filtered but the selects said "Any stage" —
    htmx puts back the page's HTML, in which a select's choice is not kept."""
    LeadFactory(owner=salesperson, first_name="Quinn", last_name="Qualified", stage="qualified")
    LeadFactory(
        owner=salesperson,
        first_name="Rae",
        last_name="Referred",
        stage="qualified",
        source="referral",
    )
    LeadFactory(owner=salesperson, first_name="Nell", last_name="New", stage="new")
    page = logged_in_page(salesperson)
    page.goto(f"{live_server.url}/leads/")
    filters = page.locator("#lead-filters")
    table = page.locator("#lead-table")

    filters.get_by_label("Stage").select_option("qualified")
    expect(page).to_have_url(re.compile(r"[?&]stage=qualified"))
    filters.get_by_label("Source").select_option("referral")
    expect(page).to_have_url(re.compile(r"[?&]source=referral"))
    expect(table).not_to_contain_text("Quinn Qualified")
    filters.get_by_label("Going cold").check()
    expect(page).to_have_url(re.compile(r"[?&]cold=on"))

    # To a lead's page and back: the filters read as the list is.
    filters.get_by_label("Going cold").uncheck()
    expect(page).not_to_have_url(re.compile(r"cold=on"))
    table.get_by_role("link", name="Rae Referred").click()
    expect(page.get_by_role("heading", name="Rae Referred")).to_be_visible()
    page.go_back()
    expect(table).to_contain_text("Rae Referred")
    expect(table).not_to_contain_text("Quinn Qualified")
    expect(filters.get_by_label("Stage")).to_have_value("qualified")
    expect(filters.get_by_label("Source")).to_have_value("referral")
    expect(filters.get_by_label("Going cold")).not_to_be_checked()

    # Back through the list's own steps: the source filter goes, then the cold one comes back.
    page.go_back()
    expect(filters.get_by_label("Going cold")).to_be_checked()
    page.go_back()
    page.go_back()
    expect(page).to_have_url(re.compile(r"[?&]stage=qualified"))
    expect(table).to_contain_text("Quinn Qualified")
    expect(filters.get_by_label("Stage")).to_have_value("qualified")
    expect(filters.get_by_label("Source")).to_have_value("")
    expect(filters.get_by_label("Going cold")).not_to_be_checked()

    # An address with a stage no option has: the list and its select as the server drew them.
    page.goto(f"{live_server.url}/leads/?stage=archived&source=referral")
    expect(filters.get_by_label("Stage")).to_have_value("")
    expect(filters.get_by_label("Stage").locator("option:checked")).to_have_text("Any stage")
    assert console_errors == []


def test_add_a_lead_puts_the_cursor_in_the_quick_add_form(
    logged_in_page, live_server, salesperson, console_errors
):
    """Found in trials: "+ Add a lead" scrolled to the form and left the cursor where it was,
    and an empty form's error stood above all the fields instead of next to one."""
    LeadFactory(owner=salesperson)
    page = logged_in_page(salesperson)
    page.goto(f"{live_server.url}/leads/")

    page.get_by_role("link", name="+ Add a lead").click()

    quick_add = page.locator("#quick-add")
    expect(quick_add.get_by_label("First name")).to_be_focused()
    # Enter on the empty form: the error stands next to the first field, which keeps the cursor.
    page.keyboard.press("Enter")
    first_name = page.locator("#quick-add .field", has=page.get_by_label("First name"))
    expect(first_name).to_contain_text("Give the lead a name or an email address.")
    expect(quick_add.get_by_label("First name")).to_be_focused()
    page.keyboard.type("Ada")
    quick_add.get_by_label("Email").fill("ada@example.org")
    quick_add.get_by_role("button", name="Add lead").click()
    expect(quick_add).to_contain_text("Added Ada")
    # The form that comes back can be used the same way again.
    page.get_by_role("link", name="+ Add a lead").click()
    expect(page.locator("#quick-add").get_by_label("First name")).to_be_focused()
    # The refused form's 422 answer is reported by the browser; nothing else failed.
    assert [error for error in console_errors if "status of 422" not in error] == []
