"""Booking a meeting in real browsers (issue 17, point 2 and the GDPR half of 5): the
salesperson in Berlin opens their hours, a visitor in New York sees them in New York time,
books one, and later uses the cancel link to see what was kept and to cancel."""

from __future__ import annotations

import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from handraise import booking_emails, selectors
from handraise.models import Booking, PublicPage

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots-i17-booking"
NEW_YORK = ZoneInfo("America/New_York")


def screenshot(target, name: str, **options) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target.screenshot(path=SCREENSHOTS / f"{name}.png", caret="initial", **options)


@pytest.fixture(autouse=True)
def public_form_settings(settings, fresh_cache):
    """A browser fills the form in milliseconds: the minimum fill time is the view tests'."""
    settings.HAND_RAISE_MIN_FILL_SECONDS = 0


def test_a_visitor_in_another_zone_books_a_meeting_and_cancels_it(
    browser, logged_in_page, live_server, salesperson, console_errors
):
    salesperson.time_zone = "Europe/Berlin"
    salesperson.save()

    # The salesperson turns booking on and opens every day 09:00 to 17:00 (Berlin).
    page = logged_in_page(salesperson)
    page.goto(f"{live_server.url}/settings/public-page/")
    page.get_by_label("Let visitors book a meeting on my page").check()
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"):
        page.get_by_label(f"{day} from").fill("09:00")
        page.get_by_label(f"{day} to").fill("17:00")
    page.get_by_label("Meeting length (minutes)").fill("30")
    page.get_by_label("Buffer between meetings (minutes)").fill("0")
    page.get_by_role("button", name="Save bookings").click()
    expect(page.get_by_role("status")).to_contain_text("Booking settings saved.")
    screenshot(page, "settings-bookings", full_page=True)
    public_page = PublicPage.objects.get(owner=salesperson)
    assert public_page.booking_enabled
    first = selectors.free_slots_of(public_page, now=timezone.now())[0]
    first_in_new_york = first.astimezone(NEW_YORK)

    # A visitor whose browser is in New York: the page shows the times in New York time.
    context = browser.new_context(
        timezone_id="America/New_York", viewport={"width": 1280, "height": 900}
    )
    visitor_errors: list[str] = []
    visitor = context.new_page()
    visitor.on("pageerror", lambda error: visitor_errors.append(str(error)))
    visitor.goto(f"{live_server.url}/p/{public_page.token}/")
    picker = visitor.locator("#public-page-booking")
    expect(visitor.get_by_label("Times shown in")).to_have_value("America/New_York")
    expect(visitor).to_have_url(re.compile(r"tz=America(%2F|/)New_York"))
    first_slot = picker.locator(".booking-slot").first
    expect(first_slot).to_have_text(f"{first_in_new_york:%H:%M}")
    expect(picker.locator(".booking-day h3").first).to_have_text(f"{first_in_new_york:%a %-d %b}")
    expect(picker.get_by_role("button", name="Show")).to_be_hidden()
    screenshot(picker, "slot-picker-desktop")
    visitor.set_viewport_size({"width": 390, "height": 844})
    picker.scroll_into_view_if_needed()
    screenshot(visitor, "slot-picker-phone", full_page=False)
    visitor.set_viewport_size({"width": 1280, "height": 900})

    # Changing the zone shows the same slots in that zone.
    visitor.get_by_label("Times shown in").select_option("Asia/Tokyo")
    expect(visitor.get_by_label("Times shown in")).to_have_value("Asia/Tokyo")
    expect(picker.locator(".booking-slot").first).to_have_text(
        f"{first.astimezone(ZoneInfo('Asia/Tokyo')):%H:%M}"
    )
    visitor.get_by_label("Times shown in").select_option("America/New_York")
    expect(picker.locator(".booking-slot").first).to_have_text(f"{first_in_new_york:%H:%M}")

    picker.locator(".booking-slot").first.click()
    expect(visitor.get_by_role("heading", name="Book")).to_contain_text(
        f"{first_in_new_york:%H:%M}"
    )
    visitor.get_by_label("Your name").fill("Dana Visitor")
    visitor.get_by_label("Email").fill("dana@visitor.example")
    visitor.get_by_label("Company").fill("Visitor Ltd")
    visitor.get_by_label("What would you like to talk about?").fill("Your pipeline view")
    visitor.get_by_label("I agree that").check()
    visitor.get_by_role("button", name="Book this time").click()
    expect(visitor.get_by_role("heading", name="You're booked")).to_be_visible()
    expect(visitor.locator(".booking-when")).to_contain_text(f"{first_in_new_york:%H:%M}")
    expect(visitor.locator(".booking-when")).to_contain_text("America/New_York")
    screenshot(visitor, "booked", full_page=True)
    booking = Booking.objects.get()
    assert booking.starts_at == first

    # The salesperson: the hand-raise is the first thing on Today.
    page.goto(f"{live_server.url}/")
    top = page.locator("[data-queue-row]").first
    expect(top.locator(".queue-name")).to_have_text("Dana Visitor")
    expect(top).to_contain_text("Respond to hand-raise")
    first_in_berlin = first.astimezone(ZoneInfo("Europe/Berlin"))
    expect(top).to_contain_text(f"Booked a meeting for {first_in_berlin:%a %-d %b, %H:%M}")
    screenshot(page, "today-with-booking", full_page=False)

    # The visitor's invite goes out (the sweep stands in for the worker) with the cancel link.
    assert booking_emails.booking_emails_send_due() == 1
    [invite] = [message for message in mail.outbox if message.to == ["dana@visitor.example"]]
    cancel_link = next(line for line in invite.body.splitlines() if "/p/booking/" in line).strip()
    visitor.goto(cancel_link.replace("http://127.0.0.1:8000", live_server.url))
    expect(visitor.get_by_role("heading", name="Your meeting with")).to_be_visible()
    stored = visitor.locator(".booking-stored")
    for kept in ("Dana Visitor", "dana@visitor.example", "Visitor Ltd", "Your pipeline view"):
        expect(stored).to_contain_text(kept)
    screenshot(visitor, "cancel-link-page", full_page=True)
    visitor.get_by_text("Cancel this meeting…").click()
    visitor.get_by_role("button", name="Yes, cancel the meeting").click()
    expect(visitor.get_by_role("status")).to_contain_text("Your meeting is cancelled.")
    expect(visitor.get_by_role("heading", name="Cancelled")).to_be_visible()
    booking.refresh_from_db()
    assert booking.is_cancelled

    # The salesperson reads the cancellation on the lead's timeline.
    page.goto(f"{live_server.url}/leads/{booking.hand_raise.activity.lead_id}/")
    expect(page.locator("#lead-timeline")).to_contain_text("was cancelled by the visitor")

    # The slot is free again on the page.
    visitor.goto(f"{live_server.url}/p/{public_page.token}/?tz=America/New_York")
    expect(visitor.locator(".booking-slot").first).to_have_text(f"{first_in_new_york:%H:%M}")
    assert visitor_errors == []
    assert console_errors == []
    context.close()


def test_a_visitor_in_another_zone_keeps_what_they_typed_when_the_form_has_an_error(
    browser, live_server, salesperson
):
    salesperson.time_zone = "Europe/Berlin"
    salesperson.save()
    public_page = PublicPage.objects.create(owner=salesperson, booking_enabled=True)
    context = browser.new_context(timezone_id="America/New_York")
    visitor = context.new_page()
    visitor.goto(f"{live_server.url}/p/{public_page.token}/")
    # The page reloads once to show the slots in the browser's zone.
    expect(visitor).to_have_url(re.compile(r"tz=America(%2F|/)New_York"))

    visitor.get_by_label("Your name").fill("Dana Visitor")
    visitor.get_by_label("Email").fill("dana@not-an-address")
    visitor.get_by_label("Company").fill("Visitor Ltd")
    visitor.get_by_label("What do you need?").fill("We need a CRM for 12 reps.")
    visitor.get_by_label("I agree that").check()
    visitor.get_by_role("button", name=f"Send to {salesperson.get_full_name()}").click()

    # The answer with the error stays: no reload to find the zone again.
    expect(visitor.get_by_text("Enter a valid email address.")).to_be_visible()
    expect(visitor.get_by_label("Email")).to_have_value("dana@not-an-address")
    expect(visitor.get_by_label("What do you need?")).to_have_value("We need a CRM for 12 reps.")
    expect(visitor.get_by_label("Times shown in")).to_have_value("America/New_York")
    context.close()
