"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live server."""

from __future__ import annotations

import shutil

import pytest
from playwright.sync_api import expect

from tests.factories import TEST_PASSWORD
from tests.imap_server import (  # noqa: F401 - the emails journeys' real IMAP server
    capture_mailbox_settings,
    dovecot_server,
    imap_server,
)
from tests.smtp_server import smtp_server  # noqa: F401 -- a real SMTP server, for journeys

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

# How long an `expect` waits for the page to show what it should. Playwright's 5 s is short
# for `make test`: eight test processes share two cores with their browsers, Celery workers and
# servers, and an htmx round trip (a debounced preview queued behind another) has taken longer
# (the ICP preview journey failed so in a CI run). Waiting longer changes only how long a
# failing test takes to fail, never what passes.
expect.set_options(timeout=15_000)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-dev-shm-usage",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}}


@pytest.fixture
def console_errors(page):
    """Every console error and uncaught exception of the page; tests assert it stays empty."""
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


@pytest.fixture
def logged_in_page(page, live_server, console_errors):
    """Log in through the real login form as the given user; returns the page."""

    def log_in(user):
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(TEST_PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{live_server.url}/")
        return page

    return log_in
