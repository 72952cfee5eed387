"""Keyboard triage on Today and the next step shown before a touch is saved (issue 13, 4–5)."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from leads import cadence
from leads.models import Activity, FollowUp
from tests.factories import FollowUpFactory, LeadFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = os.environ.get("SCREENSHOTS_DIR", "")


def shot(page, name: str) -> None:
    if SHOTS:
        # caret="initial": hiding the caret injects a style the page's CSP reports.
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True, caret="initial")


def current_row(page):
    return page.locator(".queue-row.is-current")


def test_triage_a_today_queue_with_the_keyboard_only(
    logged_in_page, live_server, salesperson, console_errors
):
    an_hour_ago = timezone.now() - timedelta(hours=1)
    ada = LeadFactory(owner=salesperson, first_name="Ada", last_name="Call", total_score=90)
    bo = LeadFactory(owner=salesperson, first_name="Bo", last_name="Snooze", total_score=80)
    cy = LeadFactory(owner=salesperson, first_name="Cy", last_name="Log", total_score=70)
    di = LeadFactory(
        owner=salesperson,
        first_name="Di",
        last_name="Raised",
        stage="engaged",
        total_score=40,  # + 15 for the raised hand: still last
        # Two days ago: a hand-raise of the last day would top the queue (FRESH_HAND_RAISE_...).
        last_inbound_at=timezone.now() - timedelta(days=2),
    )
    ada_step = FollowUpFactory(lead=ada, kind="first_touch", due_at=an_hour_ago)
    bo_step = FollowUpFactory(lead=bo, kind="follow_up", due_at=an_hour_ago)
    cy_step = FollowUpFactory(lead=cy, kind="follow_up", due_at=an_hour_ago)
    page = logged_in_page(salesperson)
    rows = page.locator("[data-queue-row]")
    expect(rows).to_have_count(4)
    expect(rows.nth(0)).to_contain_text("Ada Call")

    # j highlights the first row; d asks how it went; c logs a connected call on *that* lead.
    page.keyboard.press("j")
    expect(current_row(page)).to_contain_text("Ada Call")
    page.keyboard.press("d")
    expect(page.locator("#queue-status")).to_contain_text("Ada Call: how did it go?")
    shot(page, "triage-1-done-asks-outcome")
    page.keyboard.press("c")
    expect(page.locator(f"#queue-follow_up-{ada_step.pk}")).to_contain_text(
        "Call (connected) logged. Next: Follow up on"
    )
    # …and the next row is the highlighted one, in view.
    expect(current_row(page)).to_contain_text("Bo Snooze")
    expect(current_row(page)).to_be_in_viewport()
    expect(page.locator("#today-progress")).to_contain_text("1 of 20")

    # s then w snoozes Bo for a week.
    page.keyboard.press("s")
    expect(current_row(page).get_by_role("button", name="Tomorrow")).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(current_row(page).get_by_role("button", name="3 days")).to_be_focused()
    shot(page, "triage-2-snooze-choices")
    page.keyboard.press("w")
    expect(page.locator(f"#queue-follow_up-{bo_step.pk}")).to_contain_text("Snoozed to")
    expect(current_row(page)).to_contain_text("Cy Log")

    # l opens Cy's log form, which shows the follow-up it will plan before saving.
    page.keyboard.press("l")
    form = current_row(page).locator("form.log-form")
    expect(form.get_by_label("What")).to_be_focused()
    page.keyboard.press("Tab")
    expect(form.get_by_label("Outcome")).to_be_focused()
    page.keyboard.press("n")  # "No answer"
    expect(form.locator(".next-step")).to_contain_text("Your cadence plans: Follow up on")
    shot(page, "triage-3-log-shows-next-step")
    page.keyboard.press("Tab")
    page.keyboard.type("Rang twice")
    page.keyboard.press("Enter")
    expect(page.locator(f"#queue-follow_up-{cy_step.pk}")).to_contain_text("Call logged")

    # The hand-raiser has nothing to snooze: s says so; d answers it with a logged call.
    expect(current_row(page)).to_contain_text("Di Raised")
    page.keyboard.press("s")
    expect(page.locator("#queue-status")).to_contain_text("no Snooze on this row")
    page.keyboard.press("d")
    page.keyboard.press("v")
    expect(page.locator(f"#queue-hand_raiser-{di.pk}")).to_contain_text(
        "Call (left voicemail) logged"
    )
    expect(page.locator("#queue-status")).to_contain_text("That was the last row")
    expect(page.locator("#today-progress")).to_contain_text("3 of 20")
    shot(page, "triage-4-all-done")

    # Each action hit the lead that was highlighted, and only that one.
    ada_step.refresh_from_db()
    assert (ada_step.resolution, ada_step.done_at is not None) == ("done", True)
    assert list(Activity.objects.filter(lead=ada).values_list("kind", "outcome")) == [
        ("call", "connected")
    ]
    bo_step.refresh_from_db()
    week_later = cadence.add_calendar_days(timezone.now(), 7, salesperson.zone)
    assert (bo_step.done_at, bo_step.due_at, bo_step.snooze_count) == (None, week_later, 1)
    assert not Activity.objects.filter(lead=bo).exists()
    assert list(Activity.objects.filter(lead=cy).values_list("outcome", "text")) == [
        ("no_answer", "Rang twice")
    ]
    assert list(Activity.objects.filter(lead=di).values_list("kind", "outcome")) == [
        ("call", "voicemail")
    ]
    assert console_errors == []


def test_a_shortcut_with_no_row_highlighted_changes_nothing_and_says_so(
    logged_in_page, live_server, salesperson, console_errors
):
    lead = LeadFactory(owner=salesperson, first_name="Ada", last_name="Waiting")
    step = FollowUpFactory(lead=lead, due_at=timezone.now() - timedelta(hours=1))
    page = logged_in_page(salesperson)
    expect(page.locator("[data-queue-row]")).to_have_count(1)

    for key in ("d", "s", "l"):
        page.keyboard.press(key)
        expect(page.locator("#queue-status")).to_contain_text(
            f"No row is highlighted, so nothing was changed. Press j to highlight the first "
            f"row, then {key}."
        )
        expect(page.locator(".queue-row details[open]")).to_have_count(0)
    shot(page, "triage-5-no-row-highlighted")

    step.refresh_from_db()
    assert step.done_at is None
    assert step.snooze_count == 0
    assert not Activity.objects.exists()
    assert console_errors == []


def test_log_a_connected_call_and_change_the_planned_follow_up_before_saving(
    logged_in_page, live_server, salesperson, console_errors
):
    lead = LeadFactory(owner=salesperson, first_name="Dana", last_name="Planned", stage="contacted")
    FollowUpFactory(lead=lead, kind="follow_up", due_at=timezone.now() + timedelta(days=1))
    page = logged_in_page(salesperson)
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    log = page.locator("#lead-log")

    log.get_by_label("Kind").select_option("call")
    log.get_by_label("Outcome").select_option("connected")
    plan = log.locator("#next-step-lead")
    # The cadence's plan for a call that connected: a follow-up, not "Respond to hand-raise".
    planned = cadence.add_business_days(timezone.now(), 3, salesperson.zone)
    expect(plan).to_contain_text(f"Your cadence plans: Follow up on {planned:%A} {planned.day}")
    expect(plan.get_by_label("Next follow-up")).to_have_value(planned.date().isoformat())
    expect(plan.get_by_label("Next step")).to_have_value("follow_up")
    shot(page, "triage-6-lead-log-next-step")

    chosen = planned.date() + timedelta(days=7)
    plan.get_by_label("Next follow-up").fill(chosen.isoformat())
    plan.get_by_label("Note for it").fill("Send the pricing deck")
    log.get_by_label("Notes").fill("Wants pricing next week")
    log.get_by_role("button", name="Log it").click()

    expect(log).to_contain_text("Logged.")
    next_step = page.locator("#lead-follow-up")
    expect(next_step).to_contain_text(f"Follow up · due {chosen:%a} {chosen.day} {chosen:%b}")
    expect(next_step).to_contain_text("Send the pricing deck")
    shot(page, "triage-7-lead-next-step-saved")
    pending = FollowUp.objects.get(lead=lead, done_at__isnull=True)
    local_due = timezone.localtime(pending.due_at, salesperson.zone)
    assert (pending.kind, local_due.date(), pending.note) == (
        "follow_up",
        chosen,
        "Send the pricing deck",
    )
    assert console_errors == []
