"""A salesperson's public page in a real browser (issue 17, points 1, 3 and 4): set it up from
Settings, a visitor's message landing at the top of Today, and the form embedded on another
site: allowed where the salesperson listed that site, refused by the browser elsewhere."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from handraise.models import HandRaise, PublicPage
from handraise.services import public_page_for, public_page_update
from leads.models import FollowUp, Lead
from tests.factories import LeadFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots-i17"


def screenshot(page, name: str, *, full_page: bool = True) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=full_page, caret="initial")


@pytest.fixture(autouse=True)
def public_form_settings(settings, fresh_cache):
    """Rate limits start from zero (fresh_cache); the minimum fill time is the view tests'
    business: a browser here fills the form in milliseconds."""
    settings.HAND_RAISE_MIN_FILL_SECONDS = 0


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def static_site(folder: Path) -> Iterator[str]:
    """A plain static web server for `folder` on another loopback origin; yields its origin."""
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def fill_the_form(frame_or_page, *, message: str) -> None:
    frame_or_page.get_by_label("Your name").fill("Dana Visitor")
    frame_or_page.get_by_label("Email").fill("dana@visitor.example")
    frame_or_page.get_by_label("Company").fill("Visitor Ltd")
    frame_or_page.get_by_label("Phone (optional)").fill("+44 20 7946 0000")
    frame_or_page.get_by_label("What do you need?").fill(message)
    frame_or_page.get_by_label("I agree that").check()


def test_the_salesperson_sets_up_shares_and_renews_their_public_page(
    logged_in_page, live_server, salesperson, console_errors
):
    page = logged_in_page(salesperson)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])

    page.get_by_role("link", name="Settings").click()
    page.get_by_role("link", name="Set up your public page").click()
    expect(page).to_have_title("Public page · LeadHunter")
    page.get_by_label("What visitors read").fill(
        "I help small sales teams stop losing leads.\n\nTell me where it hurts."
    )
    page.get_by_role("button", name="Save page").click()
    expect(page.get_by_role("status")).to_contain_text("Public page saved.")

    screenshot(page, "settings-public-page")
    address = page.get_by_label("Your page's address")
    first_url = address.input_value()
    assert first_url.startswith(f"{live_server.url}/p/")
    page.get_by_role("button", name="Copy").first.click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == first_url

    visitor = page.context.new_page()
    visitor.goto(first_url)
    expect(visitor.get_by_role("heading", level=1)).to_have_text(salesperson.get_full_name())
    expect(visitor.get_by_text("Tell me where it hurts.")).to_be_visible()

    page.get_by_text("Get a new address…").click()
    expect(page.get_by_text("The address above stops working at once.")).to_be_visible()
    page.get_by_role("button", name="Yes, get a new address").click()
    expect(page.get_by_role("status")).to_contain_text("The old one no longer works")
    second_url = page.get_by_label("Your page's address").input_value()
    assert second_url != first_url
    assert visitor.goto(first_url).status == 404
    assert visitor.goto(second_url).status == 200
    expect(visitor.get_by_text("Tell me where it hurts.")).to_be_visible()
    assert console_errors == []


def test_a_visitors_message_is_the_first_thing_on_today(
    page, logged_in_page, live_server, salesperson, console_errors
):
    public_page = public_page_for(owner=salesperson)
    public_page_update(
        page=public_page,
        intro="I help small sales teams stop losing leads.\n\nTell me what you need.",
        embed_origins="",
    )
    # A busy day: strong leads overdue, a big deal due.
    now = timezone.now()
    for score in (95, 90):
        strong = LeadFactory(owner=salesperson, total_score=score, expected_value=500_000)
        Lead.objects.filter(pk=strong.pk).update(next_follow_up_at=now - timedelta(days=2))
        FollowUp.objects.create(lead=strong, kind="follow_up", due_at=now - timedelta(days=2))

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/p/{public_page.token}/")
    expect(page.get_by_role("heading", name="Tell me what you need")).to_be_visible()
    screenshot(page, "public-page-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "public-page-phone")

    fill_the_form(page, message="We lose leads between marketing and sales. Can we talk Thursday?")
    page.get_by_role("button", name=f"Send to {salesperson.get_full_name()}").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    screenshot(page, "public-page-thanks-phone")
    page.set_viewport_size({"width": 1280, "height": 900})

    hand_raise = HandRaise.objects.get()
    assert hand_raise.ip == "127.0.0.1"
    assert "HeadlessChrome" in hand_raise.user_agent or "Chrome" in hand_raise.user_agent

    page.context.clear_cookies()
    page = logged_in_page(salesperson)
    first = page.locator("[data-queue-row]").first
    expect(first.locator(".queue-name")).to_have_text("Dana Visitor")
    expect(first).to_contain_text("Respond to hand-raise")
    expect(first).to_contain_text("We lose leads between marketing and sales.")
    screenshot(page, "today-with-hand-raise", full_page=False)
    assert console_errors == []


EMBEDDING_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Acme Consulting</title>
<link rel="icon" href="data:,"></head>
<body><h1>Acme Consulting</h1><p>Talk to our sales lead:</p>
{snippet}
</body></html>
"""


def test_the_embedded_form_works_on_a_listed_site_and_is_refused_elsewhere(
    logged_in_page, live_server, salesperson, tmp_path, console_errors
):
    site = tmp_path / "site"
    site.mkdir()
    with static_site(site) as listed, static_site(site) as unlisted:
        page = logged_in_page(salesperson)
        page.goto(f"{live_server.url}/settings/public-page/")
        page.get_by_label("Sites that may embed your form").fill(f"{listed}/")
        page.get_by_role("button", name="Save page").click()
        expect(page.get_by_role("status")).to_contain_text("Public page saved.")
        snippet = page.get_by_label("Embed snippet").input_value()
        assert snippet.startswith("<iframe ")
        (site / "contact.html").write_text(EMBEDDING_PAGE.format(snippet=snippet))
        console_errors.clear()

        # The listed site: the form loads inside it and a message sent from it lands.
        page.goto(f"{listed}/contact.html")
        frame = page.frame_locator("iframe")
        expect(frame.get_by_role("heading", name="Tell")).to_be_visible()
        screenshot(page, "embed-form-on-listed-site", full_page=False)
        fill_the_form(frame, message="Found you on the Acme site.")
        frame.get_by_role("button", name="Send to").click()
        expect(frame.get_by_role("heading", name="Thank you")).to_be_visible()
        screenshot(page, "embed-on-listed-site", full_page=False)
        hand_raise = HandRaise.objects.get()
        assert hand_raise.channel == "embed"
        assert hand_raise.message == "Found you on the Acme site."
        assert console_errors == []

        # Another origin, not listed: the browser refuses to show the frame (CSP).
        with page.expect_console_message(
            lambda message: "frame-ancestors" in message.text
        ) as refusal:
            page.goto(f"{unlisted}/contact.html")
        assert "The request has been blocked" in refusal.value.text
        expect(page.get_by_role("heading", name="Acme Consulting")).to_be_visible()
        expect(page.frame_locator("iframe").get_by_role("heading", name="Tell")).to_have_count(0)
        assert PublicPage.objects.get(owner=salesperson).embed_origin_list == [listed]
        assert HandRaise.objects.count() == 1
