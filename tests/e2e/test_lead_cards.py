"""The lead page's cards in a real browser: Edit then Cancel leaves the card as it was."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.factories import LeadFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(("card", "fact"), [("lead-contact", "Phone"), ("lead-deal", "Value")])
def test_cancel_on_a_card_being_edited_shows_the_card_again_unchanged(
    logged_in_page, live_server, salesperson, console_errors, card, fact
):
    lead = LeadFactory(owner=salesperson, first_name="Cleo", last_name="Cancel", title="CTO")
    page = logged_in_page(salesperson)
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    section = page.locator(f"#{card}")

    section.get_by_role("link", name="Edit").click()
    expect(section.get_by_role("button", name="Save")).to_be_visible()
    section.locator("input[type=text]").first.fill("Typed and thrown away")
    section.get_by_role("link", name="Cancel").click()

    expect(section.get_by_role("link", name="Edit")).to_be_visible()
    expect(section).to_contain_text(fact)
    expect(section).not_to_contain_text("Typed and thrown away")
    lead.refresh_from_db()
    assert lead.title == "CTO"
    assert console_errors == []
