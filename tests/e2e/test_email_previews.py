"""A salesperson previews the reminder emails in Settings and sends one to themselves."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import FollowUpFactory, LeadFactory, ReferralSourceFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


@pytest.fixture
def sam(db):
    """Sam with two people to ask for a referral this week and nothing due today."""
    sam = UserFactory(username="sam")
    customer = LeadFactory(
        owner=sam,
        first_name="Cara",
        last_name="Customer",
        phone="+44 20 7946 0001",
        email="cara@customer.example",
    )
    ReferralSourceFactory(
        owner=sam, name="Cara Customer", email="", lead=customer, next_ask_at=timezone.now()
    )
    ReferralSourceFactory(
        owner=sam, name="Pat Partner", email="pat@partner.example", next_ask_at=timezone.now()
    )
    return sam


def test_a_salesperson_previews_the_weekly_email_and_sends_it_to_themselves(
    logged_in_page, live_server, sam, mailoutbox, console_errors
):
    page = logged_in_page(sam)
    page.get_by_role("link", name="Settings").click()
    section = page.locator("#reminder-emails")
    expect(section).to_contain_text("Weekly referral email")
    expect(section).to_contain_text("Sent on Mondays at 08:00 your time.")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    section.screenshot(path=str(SCREENSHOTS / "settings-reminder-emails.png"))

    section.get_by_role("link", name="Preview the weekly referral email").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Preview: Weekly referral email")
    expect(page.locator("#email-subject")).to_have_text("Who to ask for a referral this week (2)")
    email = page.frame_locator("iframe.email-frame")
    expect(email.get_by_role("heading", level=1)).to_have_text(
        "Who to ask for a referral this week"
    )
    for shown in ("Cara Customer", "+44 20 7946 0001", "cara@customer.example"):
        expect(email.locator("body")).to_contain_text(shown)
    expect(email.get_by_role("link", name="pat@partner.example")).to_be_visible()
    page.get_by_text("Plain-text version").click()
    expect(page.locator("#email-text")).to_contain_text("Phone: +44 20 7946 0001")
    expect(page.locator("#email-text")).to_contain_text("Email: pat@partner.example")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "email-preview.png"), full_page=True)

    page.get_by_role("button", name="Send it to me now").click()

    expect(page.get_by_role("status")).to_contain_text(
        "Sent “Who to ask for a referral this week (2)” to sam@example.com."
    )
    expect(page.get_by_role("heading", level=1)).to_have_text("Preview: Weekly referral email")
    [sent] = mailoutbox
    assert sent.to == ["sam@example.com"]
    assert sent.subject == "Who to ask for a referral this week (2)"
    assert "Phone: +44 20 7946 0001" in sent.body
    assert settings.SITE_URL + "/e/" in sent.body  # its one-click links
    assert console_errors == []


def test_an_empty_digest_previews_as_skipped_and_a_due_one_lists_the_follow_up(
    logged_in_page, live_server, sam, console_errors, page
):
    logged_in_page(sam)
    page.goto(f"{live_server.url}/settings/")
    page.get_by_role("link", name="Preview the daily digest").click()

    expect(page.locator("#nothing-to-send")).to_have_text(
        "Nothing to send today — the digest is skipped on days with nothing due."
    )

    lead = LeadFactory(owner=sam, first_name="Fay", last_name="Follow", email="fay@f.example")
    FollowUpFactory(lead=lead, due_at=timezone.now() - timedelta(minutes=5))
    page.reload()

    expect(page.locator("#email-subject")).to_contain_text("Your follow-ups for")
    frame = page.frame_locator("iframe.email-frame")
    expect(frame.locator("body")).to_contain_text("Fay Follow")
    expect(frame.get_by_role("link", name="fay@f.example")).to_be_visible()
    assert console_errors == []


def test_the_preview_fits_a_phone(logged_in_page, live_server, sam, page, console_errors):
    page.set_viewport_size({"width": 375, "height": 800})
    logged_in_page(sam)
    page.goto(f"{live_server.url}/settings/")
    section = page.locator("#reminder-emails")
    expect(section.get_by_role("button", name="Send the daily digest to me now")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    section.screenshot(path=str(SCREENSHOTS / "settings-reminder-emails-phone.png"))
    page.goto(f"{live_server.url}/settings/emails/weekly/")

    expect(page.locator("#email-subject")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375
    page.screenshot(path=str(SCREENSHOTS / "email-preview-phone.png"), full_page=True)
    assert console_errors == []
