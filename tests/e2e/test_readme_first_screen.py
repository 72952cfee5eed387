"""README.md's first screen, walked in a real browser: the account `createsuperuser` makes logs
in through the form, imports its LinkedIn Connections.csv by Leads → Import, and finds the
first "Reconnect" follow-ups on Today the next business day. (The commands before it are run
verbatim by tests/test_readme.py.)"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from playwright.sync_api import expect

from accounts.models import User
from leads.models import Lead
from tests.imports.test_network import connections_csv

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

MONDAY_AFTERNOON = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
TUESDAY_MORNING = datetime(2026, 12, 8, 9, 30, tzinfo=UTC)
PASSWORD = "a-long-Sales-password-2026"


def test_a_new_account_imports_its_linkedin_network_as_the_readme_says(
    page, live_server, console_errors, settings, tmp_path
):
    settings.DATA_DIR = tmp_path
    # What `.venv/bin/python manage.py createsuperuser` makes from its three answers.
    alex = User.objects.create_superuser("alex", "alex@example.com", PASSWORD)
    connections = tmp_path / "Connections.csv"
    connections.write_bytes(connections_csv(12))

    with time_machine.travel(MONDAY_AFTERNOON, tick=True):
        page.goto(f"{live_server.url}/")
        page.get_by_label("Username").fill("alex")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{live_server.url}/")

        page.get_by_role("link", name="Leads", exact=True).first.click()
        page.get_by_role("link", name="Import", exact=True).click()
        page.get_by_label("File", exact=True).set_input_files(connections)
        page.get_by_role("button", name="Upload and preview").click()
        expect(page.get_by_role("heading", name="Preview")).to_be_visible()
        expect(
            page.get_by_label("Add to my network pool — reconnect 10 a day, best fit first")
        ).to_be_checked()
        page.get_by_role("button", name="Import 12 rows").click()

        progress = page.locator("#import-progress")
        expect(progress).to_contain_text("Done")
        expect(progress).to_contain_text("12 contacts added to your network pool")
        page.screenshot(path=str(tmp_path / "imported.png"), full_page=True)

    assert Lead.objects.filter(owner=alex).count() == 12

    with time_machine.travel(TUESDAY_MORNING, tick=True):
        page.get_by_role("link", name="Today", exact=True).first.click()
        rows = page.locator("[data-queue-row]")
        expect(rows).to_have_count(10)
        expect(rows.locator(".badge")).to_have_text(["Reconnect"] * 10)
        page.screenshot(path=str(tmp_path / "today.png"), full_page=True)

    assert console_errors == []
