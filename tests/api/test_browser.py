"""In the browser: the API docs work offline, and a token made on the settings page works."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from api.models import ApiToken

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_api_docs_load_nothing_from_outside(
    logged_in_page, salesperson, live_server, console_errors
):
    page = logged_in_page(salesperson)
    elsewhere: list[str] = []
    page.on(
        "request",
        lambda request: (
            None
            if request.url.startswith((live_server.url, "data:", "blob:"))
            else elsewhere.append(request.url)
        ),
    )

    page.goto(f"{live_server.url}/api/v1/docs/")

    expect(page.get_by_role("heading", name="LeadHunter API")).to_be_visible()
    expect(page.get_by_text("/api/v1/leads/{id}/score/")).to_be_visible()
    assert elsewhere == []
    assert console_errors == []


def test_a_token_made_in_settings_opens_the_api_until_revoked(
    logged_in_page, salesperson, live_server, console_errors
):
    page = logged_in_page(salesperson)
    page.get_by_role("link", name="Settings").click()

    page.get_by_label("Token name").fill("Spreadsheet")
    page.get_by_role("button", name="Create token").click()
    secret = page.get_by_label("New API token").input_value()

    assert ApiToken.objects.get().prefix == secret[:11]
    leads = f"{live_server.url}/api/v1/leads/"
    bearer = {"Authorization": f"Bearer {secret}"}
    assert page.request.get(leads, headers=bearer).status == 200

    page.get_by_role("button", name="Revoke Spreadsheet").click()

    expect(page.get_by_text("Revoked the token “Spreadsheet”")).to_be_visible()
    assert page.request.get(leads, headers=bearer).status == 401
    assert console_errors == []
