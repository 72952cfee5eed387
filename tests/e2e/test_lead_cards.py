"""The lead page's cards in a real browser: Edit then Cancel leaves the card as it was."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from leads.models import Activity
from tests.factories import FollowUpFactory, LeadFactory

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


def test_mark_done_on_the_lead_page_asks_how_the_call_went_and_logs_the_touch(
    logged_in_page, live_server, salesperson, console_errors
):
    """As Today's Done does: a touch follow-up done from the lead page says how it went."""
    lead = LeadFactory(owner=salesperson, first_name="Otto", last_name="Outcome", stage="contacted")
    step = FollowUpFactory(lead=lead, kind="follow_up", due_at=timezone.now())
    page = logged_in_page(salesperson)
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    card = page.locator("#lead-follow-up")

    card.get_by_text("Mark done").click()
    expect(card).to_contain_text("How did it go?")
    card.get_by_role("button", name="No answer").click()

    expect(page.locator("#lead-timeline")).to_contain_text("No answer")
    expect(card.locator("details[open]")).to_have_count(0)  # the next step, closed
    step.refresh_from_db()
    assert step.done_at is not None
    assert list(Activity.objects.filter(lead=lead).values_list("kind", "outcome")) == [
        ("call", "no_answer")
    ]
    assert console_errors == []


def test_the_change_history_arrives_as_it_comes_into_view_and_follows_an_edit(
    logged_in_page, live_server, salesperson, console_errors
):
    """The page no longer reads the history with every visit (issue 20): the card asks for it
    when the salesperson scrolls to it, and reloads itself after an edit on the page."""
    lead = LeadFactory(owner=salesperson, first_name="Hana", last_name="History", title="CTO")
    page = logged_in_page(salesperson)
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    history = page.locator("#lead-history")

    history.scroll_into_view_if_needed()
    expect(history.locator("table")).to_contain_text("Created")
    expect(history).not_to_contain_text("Job title")

    contact = page.locator("#lead-contact")
    contact.scroll_into_view_if_needed()
    contact.get_by_role("link", name="Edit").click()
    contact.get_by_label("Job title").fill("VP Sales")
    contact.get_by_role("button", name="Save").click()
    expect(contact).to_contain_text("VP Sales")
    expect(page.locator(".lead-header .subtitle")).to_contain_text("VP Sales at ")

    expect(history).to_contain_text("Job title")
    expect(history).to_contain_text("CTO")
    expect(history).to_contain_text("VP Sales")
    assert console_errors == []


def test_plan_a_different_follow_up_opens_with_the_cursor_in_its_form_and_plans_it(
    logged_in_page, live_server, salesperson, console_errors
):
    """The form arrives when its panel opens (issue 20: the page draws it no more)."""
    lead = LeadFactory(owner=salesperson, first_name="Pia", last_name="Planner")
    page = logged_in_page(salesperson)
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    card = page.locator("#lead-follow-up")
    expect(card).to_contain_text("Nothing planned.")

    card.get_by_text("Plan a different follow-up").click()
    expect(card.get_by_label("Due")).to_be_focused()
    next_week = (timezone.localdate() + timedelta(days=7)).isoformat()
    card.get_by_label("Due").fill(next_week)
    card.get_by_label("Note").fill("Send the pricing deck")
    card.get_by_role("button", name="Plan it").click()

    expect(card).to_contain_text("“Send the pricing deck”")
    expect(card.locator("details.plan-follow-up")).not_to_have_attribute("open", "")
    assert lead.follow_ups.get(done_at__isnull=True).note == "Send the pricing deck"
    assert console_errors == []
