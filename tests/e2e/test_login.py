from __future__ import annotations

import re

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


def test_a_search_after_the_session_ended_opens_the_login_page_not_a_broken_table(
    logged_in_page, live_server, salesperson, console_errors
):
    """The htmx request of a logged-out browser gets django-htmx's client redirect (HX-Redirect
    on a 401): htmx loads the login page as a whole page, with `next` back to the list."""
    page = logged_in_page(salesperson)
    page.goto(f"{live_server.url}/leads/")
    page.context.clear_cookies()  # the session has ended (expired, or logged out elsewhere)

    page.get_by_label("Search").fill("acme")

    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/leads/"))
    expect(page.get_by_label("Username")).to_be_visible()
    # A whole page: no login form swapped into the table under the old page's menu and filters.
    expect(page.get_by_role("navigation", name="Main")).to_have_count(0)
    expect(page.get_by_label("Search")).to_have_count(0)
    # Chromium reports the 401 itself; htmx adds nothing (it follows HX-Redirect first).
    assert [error for error in console_errors if "401" not in error] == []
