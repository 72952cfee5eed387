from __future__ import annotations

import pytest
from playwright.sync_api import expect

from referrals.models import ReferralAsk
from tests.factories import ReferralSourceFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_asking_for_a_referral_and_recording_the_outcome(
    logged_in_page, salesperson, console_errors
):
    ana = ReferralSourceFactory(owner=salesperson, name="Ana Ortiz", strength=5)
    ReferralSourceFactory(owner=salesperson, name="Ben Brook", strength=2)
    page = logged_in_page(salesperson)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Referrals").click()
    expect(page).to_have_title("Referrals · LeadHunter")
    # A full page load would drop this marker; an htmx swap keeps it.
    page.evaluate("window.stillTheSamePage = true")
    row = page.locator(f"#who-to-ask-row-{ana.pk}")
    expect(row).to_contain_text("Last asked never")

    row.get_by_role("button", name="Asked").click()

    expect(row).to_contain_text("Asked today")
    expect(page.locator("#sources-table")).to_contain_text("today")  # refreshed by HX-Trigger
    row.get_by_label("Referrals given").fill("2")
    row.get_by_role("button", name="Save").click()

    expect(row).to_contain_text("Gave 2 referrals")
    assert page.evaluate("window.stillTheSamePage") is True
    ask = ReferralAsk.objects.get(source=ana)
    assert (ask.asked_by_id, ask.channel, ask.outcome, ask.referrals_given) == (
        salesperson.pk,
        "email",
        "gave",
        2,
    )
    assert console_errors == []


def test_adding_a_source_puts_them_on_the_list(
    logged_in_page, live_server, salesperson, console_errors
):
    page = logged_in_page(salesperson)
    page.goto(f"{live_server.url}/referrals/")
    expect(page.get_by_text("Mark a lead Won and they become a referral source")).to_be_visible()
    form = page.locator("#source-create-form")

    form.get_by_label("Name").fill("Priya Natarajan")
    form.get_by_label("Kind").select_option("partner")
    form.get_by_label("Relationship strength").select_option("4")
    form.get_by_role("button", name="Add referral source").click()

    expect(form).to_contain_text("Added Priya Natarajan")
    expect(page.locator("#who-to-ask")).to_contain_text("Priya Natarajan")
    expect(page.locator("#sources-table")).to_contain_text("Priya Natarajan")
    expect(form.get_by_label("Name")).to_have_value("")
    assert console_errors == []
