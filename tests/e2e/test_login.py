from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_salesperson_logs_in_and_lands_on_today(logged_in_page, salesperson, console_errors):
    page = logged_in_page(salesperson)

    expect(page).to_have_title("Today · LeadHunter")
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Today")
    ).to_have_attribute("aria-current", "page")
    assert console_errors == []


def test_a_wrong_password_shows_a_clear_error(page, live_server, salesperson):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("sam")
    page.get_by_label("Password").fill("wrong-password-here")
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("alert")).to_contain_text("don't match")
