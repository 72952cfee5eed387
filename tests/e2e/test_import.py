"""Importing LinkedIn connections in a real browser: upload, preview, import, see the counts."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from leads.models import Lead
from tests.imports.conftest import FILES

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_import_linkedin_connections_and_see_the_counts(
    logged_in_page, live_server, salesperson, console_errors, settings, tmp_path
):
    settings.DATA_DIR = tmp_path
    page = logged_in_page(salesperson)
    page.goto(f"{live_server.url}/leads/")
    page.get_by_role("link", name="Import", exact=True).click()
    expect(page).to_have_title("Import leads · LeadHunter")

    page.get_by_label("File", exact=True).set_input_files(FILES / "linkedin_connections.csv")
    page.get_by_role("button", name="Upload and preview").click()

    expect(page.get_by_role("heading", name="Preview")).to_be_visible()
    expect(page.locator("table")).to_contain_text("Ada Lovelace")
    expect(page.locator("table")).to_contain_text("LinkedIn connection since 2021-03-12")
    page.get_by_role("button", name="Import 3 rows").click()

    progress = page.locator("#import-progress")
    expect(progress).to_contain_text("Done")
    expect(progress.locator('[data-count="created"]')).to_have_text("3")
    expect(progress.locator('[data-count="errors"]')).to_have_text("0")
    assert Lead.objects.filter(owner=salesperson, source="own_network").count() == 3
    assert console_errors == []
