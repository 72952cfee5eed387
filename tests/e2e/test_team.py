"""A new install without a shell: the first account, the Team page and removing the demo."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from playwright.sync_api import expect

from accounts.models import User
from leads.models import Lead
from tests.factories import LeadFactory, ManagerFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 812}
SHOTS = settings.DATA_DIR / "screenshots"


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_the_first_visit_to_a_fresh_database_creates_the_first_account(
    page, live_server, console_errors
):
    page.goto(f"{live_server.url}/leads/")

    expect(page.get_by_role("heading", name="Create the first account")).to_be_visible()
    shot(page, "first-account")
    page.get_by_label("First name").fill("Ada")
    page.get_by_label("Last name").fill("Owner")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Email").fill("ada@example.org")
    page.get_by_label("Time zone").select_option("Europe/Berlin")
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_label("Password again").fill("short")
    page.get_by_role("button", name="Create the first account").click()

    # Too short: said next to the field, and what was typed stays.
    expect(page.get_by_text("This password is too short")).to_be_visible()
    expect(page.get_by_label("Username")).to_have_value("ada")
    assert not User.objects.exists()
    page.get_by_label("Password", exact=True).fill("a long enough passphrase 7")
    page.get_by_label("Password again").fill("a long enough passphrase 7")
    page.get_by_role("button", name="Create the first account").click()

    page.wait_for_url(f"{live_server.url}/")
    expect(page.locator(".messages")).to_contain_text("you are a sales manager")
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Team")
    ).to_be_visible()
    ada = User.objects.get()
    assert ada.is_manager
    assert ada.time_zone == "Europe/Berlin"
    assert console_errors == []
    # The page is gone now.
    assert page.goto(f"{live_server.url}/accounts/first-account/").status == 404


def test_a_manager_adds_people_sets_a_goal_and_deactivates_a_salesperson(
    logged_in_page, manager, browser, live_server, console_errors
):
    sam = UserFactory(username="sam", first_name="Sam", last_name="Rivera")
    alex = UserFactory(username="alex", first_name="Alex", last_name="Stone")
    for name in ("Quinn", "Rowan", "Sasha"):
        LeadFactory(owner=sam, first_name=name, last_name="Moved")
    page = logged_in_page(manager)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Team").click()
    expect(page).to_have_title("Team · LeadHunter")
    sam_row = page.locator(f"#member-{sam.pk}")
    expect(sam_row).to_contain_text("Sam Rivera")
    expect(sam_row).to_contain_text("Salesperson")
    expect(sam_row.get_by_role("link", name="3")).to_be_visible()

    # A salesperson without an email: a starting password, shown once.
    form = page.get_by_role("form", name="Add a salesperson")
    form.get_by_label("First name").fill("Jo")
    form.get_by_label("Username").fill("jo")
    form.get_by_role("button", name="Add to the team").click()
    expect(page.get_by_text("Copy it now")).to_be_visible()
    password = page.get_by_label("Starting password").input_value()
    assert re.fullmatch(r"[a-z2-9]{4}(-[a-z2-9]{4}){3}", password)
    shot(page, "team-one-time-password")
    jo_page = browser.new_page()
    jo_page.goto(f"{live_server.url}/accounts/login/")
    jo_page.get_by_label("Username").fill("jo")
    jo_page.get_by_label("Password").fill(password)
    jo_page.get_by_role("button", name="Log in").click()
    jo_page.wait_for_url(f"{live_server.url}/")
    expect(jo_page.get_by_role("link", name="Team")).to_have_count(0)
    jo_page.close()

    # With an email: a link to choose their own password.
    page.goto(f"{live_server.url}/team/")
    form = page.get_by_role("form", name="Add a salesperson")
    form.get_by_label("First name").fill("Kim")
    form.get_by_label("Username").fill("kim")
    form.get_by_label("Email").fill("kim@example.org")
    form.get_by_role("button", name="Add to the team").click()
    expect(page.get_by_role("status")).to_contain_text("We emailed kim@example.org a link")

    # The touch goal, per person.
    goal = page.get_by_label("Daily touch goal of Sam Rivera")
    goal.fill("30")
    page.locator(f"#member-{sam.pk}").get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Sam Rivera's daily touch goal is now 30")
    expect(page.get_by_label("Daily touch goal of Sam Rivera")).to_have_value("30")
    shot(page, "team")

    # Deactivate Sam; Alex gets the leads.
    page.locator(f"#member-{sam.pk}").get_by_role("link", name="Deactivate…").click()
    expect(page.get_by_role("heading", name="Deactivate Sam Rivera")).to_be_visible()
    expect(page.get_by_text("3 leads (3 open)")).to_be_visible()
    page.get_by_label("Give their leads").select_option(label="Alex Stone")
    shot(page, "team-deactivate")
    page.get_by_role("button", name="Deactivate Sam Rivera").click()

    expect(page.get_by_role("status").first).to_contain_text(
        "Sam Rivera is deactivated and can no longer log in. Alex Stone now has their 3 leads"
    )
    expect(page.locator(f"#member-{sam.pk}")).to_contain_text("Deactivated")
    page.locator(f"#member-{alex.pk}").get_by_role("link", name="3").click()
    for name in ("Quinn", "Rowan", "Sasha"):
        expect(page.get_by_role("link", name=f"{name} Moved")).to_be_visible()
    assert Lead.objects.filter(owner=alex).count() == 3
    assert console_errors == []


def test_a_manager_removes_the_demo_data_and_keeps_their_own(
    logged_in_page, manager, console_errors
):
    demo_rep = UserFactory(username="sam", first_name="Sam", last_name="Demo", is_demo=True)
    ManagerFactory(username="demo-boss", first_name="Morgan", last_name="Demo", is_demo=True)
    LeadFactory(owner=demo_rep, first_name="Demo", last_name="Lead")
    LeadFactory(owner=manager, first_name="Real", last_name="Customer")
    page = logged_in_page(manager)

    page.get_by_role("link", name="Team").first.click()
    page.get_by_role("link", name="Remove the demo data…").click()
    expect(page.get_by_role("heading", name="This deletes, for good:")).to_be_visible()
    expect(page.locator(".demo-counts")).to_contain_text("Morgan Demo, Sam Demo")
    expect(page.locator(".demo-counts")).to_contain_text("1 lead")
    shot(page, "demo-remove")
    page.get_by_role("button", name="Yes, remove the demo data").click()

    expect(page.get_by_role("status")).to_contain_text("Removed the demo data")
    expect(page.locator(".team-table")).not_to_contain_text("Sam Demo")
    expect(page.locator(".team-table")).not_to_contain_text("Morgan Demo")
    expect(page.get_by_role("link", name="Remove the demo data…")).to_have_count(0)
    page.get_by_role("link", name="Leads").first.click()
    expect(page.get_by_role("link", name="Real Customer")).to_be_visible()
    expect(page.get_by_role("link", name="Demo Lead")).to_have_count(0)
    assert not User.objects.filter(is_demo=True).exists()
    assert console_errors == []


def test_the_team_page_fits_a_phone(logged_in_page, manager, console_errors):
    for number in range(3):
        LeadFactory(
            owner=UserFactory(
                username=f"rep{number}", email=f"a-long-address-{number}@example-company.org"
            )
        )
    page = logged_in_page(manager)
    page.set_viewport_size(PHONE)

    page.goto(page.url + "team/")

    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the Team page is {width} px wide"
    expect(page.get_by_role("button", name="Add to the team")).to_be_visible()
    goal = page.get_by_label(re.compile("Daily touch goal of")).first
    box = goal.bounding_box()
    assert box is not None
    assert box["x"] + box["width"] <= PHONE["width"]
    shot(page, "team-phone")
    assert console_errors == []
