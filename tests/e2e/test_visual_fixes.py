"""Small layout fixes, measured in a real browser: what a click-through noticed."""

from __future__ import annotations

import pytest
from django.conf import settings
from playwright.sync_api import expect

from tests.factories import LeadFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DANGER_RED = "rgb(180, 35, 24)"  # --danger in app.css


def test_the_erase_button_looks_destructive(
    logged_in_page, live_server, salesperson, console_errors
):
    lead = LeadFactory(owner=salesperson, first_name="Dana", last_name="Smith")
    page = logged_in_page(salesperson)
    page.goto(f"{live_server.url}/leads/{lead.pk}/erase/")

    button = page.get_by_role("button", name="Erase this person")
    expect(button).to_have_css("background-color", DANGER_RED)
    expect(button).to_have_css("color", "rgb(255, 255, 255)")
    assert console_errors == []


def test_the_move_to_card_is_as_tall_as_its_fields(
    logged_in_page, live_server, salesperson, console_errors
):
    lead = LeadFactory(owner=salesperson, title="Head of Logistics")
    page = logged_in_page(salesperson)
    page.goto(f"{live_server.url}/leads/{lead.pk}/")

    card = page.locator("form.stage-form").bounding_box()
    fields = page.locator("form.stage-form .field").first.bounding_box()
    header = page.locator(".lead-header > div").first.bounding_box()
    # The lead's name, title, stage and "Merge…" make the header taller than the card's one
    # row of fields; the card must not stretch to it and leave empty space above the fields.
    assert header["height"] > fields["height"] + 40
    assert card["height"] < fields["height"] + 40
    assert abs(card["y"] - header["y"]) < 2  # top-aligned with the header
    assert console_errors == []


def test_the_lockout_page_says_when_and_keeps_its_box_apart(page, live_server, salesperson):
    for _ in range(settings.LOGIN_FAILURES_PER_USERNAME):
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Username").fill("sam")
        page.get_by_label("Password").fill("not-the-password")
        page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("heading", name="Too many failed logins")).to_be_visible()
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    expect(page.get_by_text(f"You can log in again in {minutes} minutes.")).to_be_visible()
    box = page.locator(".auth-card .form-errors").bounding_box()
    below = page.locator(".auth-card .form-errors + p").bounding_box()
    assert below["y"] - (box["y"] + box["height"]) >= 12
