"""A salesperson's morning in a real browser: add a lead, log a call, clear Today, move a card."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from leads.models import Activity, FollowUp, Lead
from tests.factories import FollowUpFactory, LeadFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_add_a_lead_then_log_a_call_on_its_page(
    logged_in_page, live_server, salesperson, console_errors
):
    page = logged_in_page(salesperson)
    page.goto(f"{live_server.url}/leads/")

    quick_add = page.locator("#quick-add")
    quick_add.get_by_label("First name").fill("Dana")
    quick_add.get_by_label("Last name").fill("Smith")
    quick_add.get_by_label("Email").fill("dana@acme.test")
    quick_add.get_by_label("Company").fill("Acme Ltd")
    quick_add.get_by_role("button", name="Add lead").click()
    expect(page.locator("#quick-add")).to_contain_text("Added Dana Smith")
    expect(page.locator("#lead-table")).to_contain_text("Dana Smith")

    page.locator("#quick-add").get_by_role("link", name="Dana Smith").click()
    expect(page).to_have_title("Dana Smith · LeadHunter")
    log = page.locator("#lead-log")
    log.get_by_label("Kind").select_option("call")
    log.get_by_label("Outcome").select_option("connected")
    log.get_by_label("Notes").fill("Interested, wants pricing")
    log.get_by_role("button", name="Log it").click()

    expect(page.locator("#lead-log")).to_contain_text("Logged.")
    expect(page.locator("#lead-timeline")).to_contain_text("Interested, wants pricing")
    lead = Lead.objects.get(email="dana@acme.test")
    assert lead.stage == "contacted"
    assert Activity.objects.get(lead=lead).outcome == "connected"
    assert console_errors == []


def test_complete_and_log_from_today_with_the_keyboard(
    logged_in_page, live_server, salesperson, console_errors
):
    first = LeadFactory(owner=salesperson, first_name="Ada", last_name="First", total_score=90)
    second = LeadFactory(owner=salesperson, first_name="Bo", last_name="Second", total_score=40)
    first_follow_up = FollowUpFactory(lead=first, due_at=timezone.now() - timedelta(hours=2))
    FollowUpFactory(lead=second, due_at=timezone.now() - timedelta(hours=1))
    page = logged_in_page(salesperson)

    expect(page.locator("#today-progress")).to_contain_text("0 of 20")
    page.keyboard.press("j")
    page.keyboard.press("d")
    page.keyboard.press("n")  # how the follow-up went: no answer
    expect(page.locator(f"#queue-follow_up-{first_follow_up.pk}")).to_contain_text(
        "Call (no answer) logged. Next:"
    )
    expect(page.locator("#today-progress")).to_contain_text("1 of 20")

    # The next row is highlighted already: l logs on it.
    page.keyboard.press("l")
    row = page.locator(".queue-row.is-current")
    row.get_by_label("Outcome").select_option("no_answer")
    row.get_by_role("button", name="Save").click()
    expect(page.locator(".queue-row").nth(1)).to_contain_text("Call logged")
    expect(page.locator("#today-progress")).to_contain_text("2 of 20")

    first_follow_up.refresh_from_db()
    assert first_follow_up.done_at is not None
    assert Activity.objects.filter(lead=first, kind="call", outcome="no_answer").count() == 1
    assert Activity.objects.filter(lead=second, kind="call", outcome="no_answer").count() == 1
    assert FollowUp.objects.filter(lead=first, done_at__isnull=True).exists()

    page.keyboard.press("?")
    expect(page.get_by_role("dialog")).to_contain_text("Keyboard shortcuts")
    assert console_errors == []


def test_drag_a_card_to_another_column(logged_in_page, live_server, salesperson, console_errors):
    lead = LeadFactory(owner=salesperson, first_name="Drag", last_name="Me", stage="qualified")
    page = logged_in_page(salesperson)
    page.goto(f"{live_server.url}/pipeline/")

    card = page.locator(f'[data-lead="{lead.pk}"]')
    page.drag_and_drop(f'[data-lead="{lead.pk}"]', '.board-column[data-stage="proposal"]')

    expect(page.locator('.board-column[data-stage="proposal"]')).to_contain_text("Drag Me")
    expect(card).to_have_count(1)
    lead.refresh_from_db()
    assert lead.stage == "proposal"
    assert lead.stage_changes.filter(from_stage="qualified", to_stage="proposal").exists()
    assert console_errors == []


def test_move_a_card_with_the_keyboard_menu(logged_in_page, live_server, salesperson):
    lead = LeadFactory(owner=salesperson, first_name="Key", last_name="Board", stage="new")
    page = logged_in_page(salesperson)
    page.goto(f"{live_server.url}/pipeline/")

    card = page.locator(f'[data-lead="{lead.pk}"]')
    card.get_by_label("Move Key Board to").select_option("engaged")
    card.get_by_role("button", name="Move").click()

    expect(page.locator('.board-column[data-stage="engaged"]')).to_contain_text("Key Board")
    lead.refresh_from_db()
    assert lead.stage == "engaged"
