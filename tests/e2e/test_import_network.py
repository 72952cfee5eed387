"""Importing 25 LinkedIn connections into the network pool in a real browser: tag them, keep
the pool's 10 a day, read what happens next, and find only the ten best on Today the next
business day."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from playwright.sync_api import expect

from leads.models import Lead
from tests.factories import CriterionFactory, ICPFactory
from tests.imports.test_network import connections_csv, title_of

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

MONDAY_AFTERNOON = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
TUESDAY_MORNING = datetime(2026, 12, 8, 9, 30, tzinfo=UTC)  # London: UTC in December


def test_an_import_of_connections_joins_the_network_pool_and_tomorrow_brings_ten(
    logged_in_page, live_server, salesperson, console_errors, settings, tmp_path
):
    settings.DATA_DIR = tmp_path
    icp = ICPFactory(owner=salesperson)
    CriterionFactory(icp=icp, field="title", operator="contains", value="Founder", weight=10)
    CriterionFactory(icp=icp, field="title", operator="contains", value="Head", weight=5)
    connections = tmp_path / "Connections.csv"
    connections.write_bytes(connections_csv(25))

    with time_machine.travel(MONDAY_AFTERNOON, tick=True):
        page = logged_in_page(salesperson)
        page.get_by_role("link", name="Leads", exact=True).first.click()
        page.get_by_role("link", name="Import", exact=True).click()
        page.get_by_label("File", exact=True).set_input_files(connections)
        page.get_by_role("button", name="Upload and preview").click()

        expect(page.get_by_role("heading", name="Preview")).to_be_visible()
        pool_choice = page.get_by_label(
            "Add to my network pool — reconnect 10 a day, best fit first"
        )
        expect(pool_choice).to_be_checked()  # the default for LinkedIn connections
        page.get_by_label("Tags").fill("LinkedIn 2026")
        page.screenshot(path=str(tmp_path / "preview.png"), full_page=True, caret="initial")
        page.get_by_role("button", name="Import 25 rows").click()

        progress = page.locator("#import-progress")
        expect(progress).to_contain_text("Done")
        expect(progress).to_contain_text(
            "25 contacts added to your network pool: 10 a day from Tue 8 Dec, best fit first"
            " — the last on Thu 10 Dec 2026."
        )
        page.screenshot(path=str(tmp_path / "result.png"), full_page=True, caret="initial")
        progress.get_by_role("link", name="See your network pool").click()
        expect(page.locator("#lead-table tbody tr")).to_have_count(25)

    assert Lead.objects.filter(owner=salesperson, tags=["linkedin 2026"]).count() == 25

    with time_machine.travel(TUESDAY_MORNING, tick=True):
        page.goto(f"{live_server.url}/")
        rows = page.locator("[data-queue-row]")
        expect(rows).to_have_count(10)
        expect(rows.locator(".badge")).to_have_text(["Reconnect"] * 10)
        page.screenshot(path=str(tmp_path / "today.png"), full_page=True, caret="initial")
        names = [name.split()[0] for name in rows.locator(".queue-name").all_inner_texts()]

    # Best fit first: the nine founders, then the first head of sales; no analyst today.
    assert [title_of(name) for name in names] == ["Founder"] * 9 + ["Head of Sales"]
    assert console_errors == []
