"""Errors show where they happen: in a real browser, a refused form shows its errors next to the
fields with focus on the first, a request that never reached the server says it was not saved
and keeps what was typed, and a lead moved to Lost is asked why in a dialog, then can be undone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import LeadFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def mark_page(page):
    """A flag that a full page load would wipe: the test checks nothing reloaded."""
    page.evaluate("window.notReloaded = true")


def still_same_page(page) -> bool:
    return page.evaluate("window.notReloaded === true")


def test_a_follow_up_date_in_the_past_is_refused_next_to_the_field_with_focus_on_it(
    logged_in_page, live_server, salesperson, console_errors
):
    lead = LeadFactory(owner=salesperson, first_name="Dana", last_name="Kim")
    page = logged_in_page(salesperson)
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    mark_page(page)

    card = page.locator("#lead-follow-up")
    card.get_by_text("Plan a different follow-up").click()
    last_week = (timezone.localdate() - timedelta(days=7)).isoformat()
    card.get_by_label("Due").fill(last_week)
    card.get_by_label("Note").fill("Send the pricing deck")
    card.get_by_role("button", name="Plan it").click()

    due = page.locator("#lead-follow-up").get_by_label("Due")
    expect(page.locator("#follow_up_due_date_error")).to_have_text("Pick today or a day ahead.")
    expect(due).to_be_focused()
    expect(due).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#lead-follow-up").get_by_label("Note")).to_have_value(
        "Send the pricing deck"
    )
    assert still_same_page(page)
    assert not lead.follow_ups.filter(note="Send the pricing deck").exists()
    # The browser logs the 422 response as a failed resource load; nothing else went wrong.
    assert [error for error in console_errors if "422" not in error] == []


def test_a_note_that_could_not_be_sent_says_not_saved_and_keeps_the_text(
    logged_in_page, live_server, salesperson, console_errors
):
    lead = LeadFactory(owner=salesperson, first_name="Dana", last_name="Kim")
    page = logged_in_page(salesperson)
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    mark_page(page)
    log = page.locator("#lead-log")
    log.get_by_label("Kind").select_option("note")
    log.get_by_label("Notes").fill("Budget approved for Q3, call Monday")

    # The server is unreachable: the request never gets an answer.
    page.route("**/activities/", lambda route: route.abort("internetdisconnected"))
    log.get_by_role("button", name="Log it").click()

    failure = log.locator(".form-failure")
    expect(failure).to_contain_text("Not saved")
    expect(failure).to_contain_text("What you typed is still here")
    expect(log.get_by_label("Notes")).to_have_value("Budget approved for Q3, call Monday")

    # A server error says the same, without a status code.
    page.unroute("**/activities/")
    page.route(
        "**/activities/",
        lambda route: route.fulfill(status=502, body="Bad Gateway", content_type="text/html"),
    )
    log.get_by_role("button", name="Log it").click()
    expect(failure).to_contain_text("Not saved: something went wrong on our side.")
    assert "502" not in failure.inner_text()
    expect(log.get_by_label("Notes")).to_have_value("Budget approved for Q3, call Monday")
    assert not lead.activities.exists()

    # Back online: the same click saves it.
    page.unroute("**/activities/")
    log.get_by_role("button", name="Log it").click()
    expect(page.locator("#lead-log")).to_contain_text("Logged.")
    expect(page.locator("#lead-log .form-failure")).to_have_count(0)
    expect(page.locator("#lead-timeline")).to_contain_text("Budget approved for Q3")
    assert still_same_page(page)
    assert lead.activities.get().text == "Budget approved for Q3, call Monday"
    # The browser and htmx log the failed requests themselves; nothing else went wrong.
    unexpected = [e for e in console_errors if not ("502" in e or "ERR_" in e or "htmx:" in e)]
    assert unexpected == []


def test_a_card_dragged_to_lost_asks_why_in_a_dialog_then_undo_brings_it_back(
    logged_in_page, live_server, salesperson, console_errors
):
    lead = LeadFactory(owner=salesperson, first_name="Dana", last_name="Kim", stage="qualified")
    page = logged_in_page(salesperson)

    # The salesperson's own reasons, set in Settings.
    page.goto(f"{live_server.url}/settings/")
    reasons = page.get_by_label("Lost reasons")
    expect(reasons).to_have_value(
        "No budget\nChose a competitor\nNo decision / went quiet\nBad timing\nNot a fit"
    )
    reasons.fill("No budget\nChose a competitor\nBuilt it in-house")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#messages")).to_contain_text("Settings saved.")

    page.goto(f"{live_server.url}/pipeline/")
    card = page.locator(f'[data-lead="{lead.pk}"]')
    lost_column = page.locator('.board-column[data-stage="lost"]')

    def drag_to_lost():
        # Grabbed by its company line: the middle of a card is its "Move to" menu.
        card.locator(".board-card-company").drag_to(lost_column)

    drag_to_lost()

    dialog = page.get_by_role("dialog", name="Why was Dana Kim lost?")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Built it in-house")).to_be_visible()
    expect(dialog.get_by_label("Bad timing")).to_have_count(0)
    # Esc closes it and nothing moves.
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.locator('.board-column[data-stage="qualified"]')).to_contain_text("Dana Kim")
    lead.refresh_from_db()
    assert lead.stage == "qualified"

    drag_to_lost()
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Mark lost").click()
    expect(dialog.get_by_text("Pick a reason or say it in your words.")).to_be_visible()
    dialog.get_by_label("Chose a competitor").check()
    dialog.get_by_label("In your words").fill("Went with Acme")
    dialog.get_by_role("button", name="Mark lost").click()

    messages = page.locator("#messages")
    expect(messages).to_contain_text("Dana Kim moved to Lost.")
    expect(page.locator('.board-column[data-stage="lost"]')).to_contain_text("Dana Kim")
    lead.refresh_from_db()
    assert (lead.stage, lead.lost_reason) == ("lost", "Chose a competitor: Went with Acme")

    messages.get_by_role("button", name="Undo").click()
    expect(messages).to_contain_text("Undone: Dana Kim is back in Qualified.")
    expect(page.locator('.board-column[data-stage="qualified"]')).to_contain_text("Dana Kim")
    expect(card).to_have_count(1)
    lead.refresh_from_db()
    assert (lead.stage, lead.lost_reason) == ("qualified", "")
    moves = list(lead.stage_changes.order_by("changed_at", "id").values_list("to_stage", "reason"))
    assert moves[-2:] == [
        ("lost", "Chose a competitor: Went with Acme"),
        ("qualified", "Undo of the move to Lost"),
    ]
    assert console_errors == []


def test_the_keyboard_move_menu_to_lost_uses_the_dialog_and_returns_focus(
    logged_in_page, live_server, salesperson, console_errors
):
    lead = LeadFactory(owner=salesperson, first_name="Kai", last_name="Board", stage="proposal")
    page = logged_in_page(salesperson)
    page.goto(f"{live_server.url}/pipeline/")
    dialogs: list[str] = []
    page.on("dialog", lambda native: dialogs.append(native.message))  # window.prompt & co.

    card = page.locator(f'[data-lead="{lead.pk}"]')
    menu = card.get_by_label("Move Kai Board to")
    menu.select_option("lost")
    card.get_by_role("button", name="Move").click()
    dialog = page.get_by_role("dialog", name="Why was Kai Board lost?")
    expect(dialog).to_be_visible()
    # Focus stays inside the dialog while tabbing round it.
    for _ in range(12):
        page.keyboard.press("Tab")
        assert page.evaluate(
            "document.getElementById('lost-reason-dialog').contains(document.activeElement)"
        )
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(menu).to_be_focused()
    expect(menu).to_have_value("proposal")

    menu.select_option("lost")
    card.get_by_role("button", name="Move").click()
    dialog.get_by_label("No budget").check()
    page.keyboard.press("Enter")
    expect(page.locator("#messages")).to_contain_text("Kai Board moved to Lost.")
    lead.refresh_from_db()
    assert (lead.stage, lead.lost_reason) == ("lost", "No budget")
    assert dialogs == []
    assert console_errors == []


def test_lost_from_the_lead_page_asks_in_the_dialog_and_undo_restores_the_stage(
    logged_in_page, live_server, salesperson, console_errors
):
    lead = LeadFactory(owner=salesperson, first_name="Dana", last_name="Kim", stage="engaged")
    page = logged_in_page(salesperson)
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    mark_page(page)
    stage_card = page.locator("#lead-stage")
    # With JavaScript the reason is asked in the dialog, not in a bare text field.
    expect(stage_card.get_by_label("Reason")).to_be_hidden()

    stage_card.get_by_label("Move to").select_option("lost")
    stage_card.get_by_role("button", name="Move").click()
    dialog = page.get_by_role("dialog", name="Why was Dana Kim lost?")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Other").check()
    dialog.get_by_label("In your words").fill("Company was acquired")
    dialog.get_by_role("button", name="Mark lost").click()

    expect(stage_card).to_contain_text("Dana Kim moved to Lost.")
    expect(page.locator("#lead-stage-badge")).to_contain_text("Lost: Company was acquired")
    expect(page.locator("#lead-timeline")).to_contain_text("Engaged → Lost")
    stage_card.get_by_role("button", name="Undo").click()
    expect(page.locator("#lead-stage")).to_contain_text("Undone: Dana Kim is back in Engaged.")
    expect(page.locator("#lead-stage-badge")).to_have_text("Engaged")
    expect(page.locator("#lead-timeline")).to_contain_text("Lost → Engaged")
    assert still_same_page(page)
    lead.refresh_from_db()
    assert (lead.stage, lead.lost_reason) == ("engaged", "")
    assert console_errors == []


def test_a_page_that_is_not_yours_says_so_in_the_app_and_leads_back_to_today(
    logged_in_page, live_server, salesperson, other_salesperson, console_errors
):
    """A salesperson who follows a manager's link (the Team page) or another rep's lead got
    Django's bare "403 Forbidden" or "Not Found": no menu, no way back but the address bar."""
    theirs = LeadFactory(owner=other_salesperson, first_name="Not", last_name="Yours")
    page = logged_in_page(salesperson)

    response = page.goto(f"{live_server.url}/team/")

    assert response is not None
    assert response.status == 403
    expect(page.get_by_role("heading", name="You can't open this page")).to_be_visible()
    expect(page.get_by_text("Only sales managers manage the team.")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_contain_text("Leads")
    page.get_by_role("link", name="Back to Today").click()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()

    response = page.goto(f"{live_server.url}/leads/{theirs.pk}/")

    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", name="Nothing here")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("Not Yours")
    page.get_by_role("link", name="Your leads").click()
    expect(page).to_have_url(f"{live_server.url}/leads/")
    # The browser reports the two refused loads themselves; nothing else may fail.
    assert [error for error in console_errors if "status of 40" not in error] == []
