from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_changing_time_zone_and_daily_goal(logged_in_page, salesperson, console_errors):
    page = logged_in_page(salesperson)

    page.get_by_role("link", name="Settings").click()
    expect(page).to_have_title("Settings · LeadHunter")
    page.get_by_label("Time zone").select_option("America/New_York")
    page.get_by_label("Daily touch goal").fill("35")
    # On for a new salesperson; turning it off sticks.
    expect(page.get_by_label("Daily follow-up digest")).to_be_checked()
    page.get_by_label("Daily follow-up digest").uncheck()
    page.get_by_role("button", name="Save settings").click()

    expect(page.get_by_role("status")).to_contain_text("Settings saved.")
    expect(page.get_by_label("Time zone")).to_have_value("America/New_York")
    expect(page.get_by_label("Daily touch goal")).to_have_value("35")
    expect(page.get_by_label("Daily follow-up digest")).not_to_be_checked()
    salesperson.refresh_from_db()
    assert (salesperson.time_zone, salesperson.daily_touch_goal) == ("America/New_York", 35)
    assert not salesperson.daily_digest_email
    assert console_errors == []
