"""Speed to lead in a real browser (issue 17, point 6): a hand-raiser waits on Today, the
salesperson calls from the row, and the Reports say how fast the month's hand-raises were
answered; the manager reads it per salesperson."""

from __future__ import annotations

import statistics
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from django.utils.dateformat import format as format_date
from playwright.sync_api import expect

from leads.models import Activity, Lead
from reports.registry import display
from tests.factories import ActivityFactory, LeadFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots-i17-speed"


def screenshot(target, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # caret="initial": hiding the caret puts an inline style on inputs, which htmx then copies
    # onto the swapped-in ones and the CSP reports.
    target.screenshot(path=SCREENSHOTS / f"{name}.png", caret="initial")


def hand_raiser(owner, name: str, *, raised_ago: timedelta, answered_after=None) -> Lead:
    """A lead who raised a hand `raised_ago`, answered by a call `answered_after` it, if given."""
    first, last = name.split()
    raised = timezone.now() - raised_ago
    lead = LeadFactory(
        owner=owner,
        first_name=first,
        last_name=last,
        stage="engaged",
        stage_changed_at=raised,
        last_inbound_at=raised,
        last_contacted_at=raised + answered_after if answered_after else None,
    )
    ActivityFactory(lead=lead, kind="asked_for_demo", direction="inbound", occurred_at=raised)
    if answered_after:
        ActivityFactory(lead=lead, kind="call", occurred_at=raised + answered_after)
    return lead


def test_a_hand_raiser_waits_on_today_is_called_and_the_report_counts_the_answer(
    logged_in_page, live_server, salesperson, other_salesperson, manager, console_errors
):
    # Earlier today Sam answered a hand-raise in 3 minutes; Hana asked for a demo 12 minutes ago.
    hand_raiser(
        salesperson,
        "Quick Answer",
        raised_ago=timedelta(minutes=14),
        answered_after=timedelta(minutes=3),
    )
    hana = hand_raiser(salesperson, "Hana Hand", raised_ago=timedelta(minutes=12))
    # Alex, on the same team, took two hours; only the manager sees that.
    hand_raiser(
        other_salesperson,
        "Slow Answer",
        raised_ago=timedelta(hours=3),
        answered_after=timedelta(hours=2),
    )

    page = logged_in_page(salesperson)

    row = page.locator("[data-queue-row]", has_text="Hana Hand")
    expect(row).to_contain_text("Raised a hand")
    expect(row.locator(".queue-waiting")).to_have_text("waiting 12 min")
    screenshot(row, "today-row-waiting")
    row.locator("summary", has_text="Log").click()
    expect(row.get_by_label("What")).to_be_visible()
    row.get_by_label("What").select_option("call")
    row.get_by_label("Outcome").select_option("connected")
    row.get_by_role("button", name="Save").click()
    expect(page.locator(f"#queue-hand_raiser-{hana.pk}")).to_contain_text("Call logged")

    raised = Activity.objects.get(lead=hana, kind="asked_for_demo").occurred_at
    call = Activity.objects.get(lead=hana, kind="call").occurred_at
    waits = [3.0, (call - raised).total_seconds() / 60]
    page.goto(f"{live_server.url}/reports/")
    page.get_by_role("link", name="Speed to lead").click()

    expect(page).to_have_title("Speed to lead · LeadHunter")
    expect(page.locator(".report-help")).to_contain_text(
        "the clock runs from its first unanswered hand-raise"
    )
    month = format_date(raised.astimezone(salesperson.zone), "M Y")
    months = page.locator('section[aria-labelledby="table-months-title"]')
    this_month = months.locator("tbody tr", has=page.locator("th", has_text=month))
    expect(this_month).to_have_count(1)
    cells = this_month.locator("td")
    expect(cells.nth(0)).to_have_text(str(salesperson))
    expect(cells.nth(1)).to_have_text("2")  # hand-raises
    expect(cells.nth(2)).to_have_text(display(statistics.median(waits), "minutes"))
    expect(cells.nth(3)).to_have_text("1")  # answered within 5 minutes: the quick one
    expect(cells.nth(7)).to_have_text("0")  # nobody still waiting
    expect(page.locator(".figure", has_text="Answered within 5 minutes")).to_contain_text(
        "1 (50.0%)"
    )
    expect(page.locator("#report-body")).not_to_contain_text(str(other_salesperson))
    screenshot(page.locator("main"), "report-salesperson")
    assert console_errors == []

    page.get_by_role("button", name="Log out").click()
    page = logged_in_page(manager)
    page.goto(f"{live_server.url}/reports/speed-to-lead/")

    people = page.locator('section[aria-labelledby="table-salespeople-title"]')
    expect(people.locator("tbody tr")).to_have_count(2)
    alex = people.locator("tbody tr", has=page.locator("th", has_text=str(other_salesperson)))
    expect(alex.locator("td").nth(1)).to_have_text("2 h")  # median time to first touch
    expect(alex.locator("td").nth(4)).to_have_text("1")  # within a day
    sam = people.locator("tbody tr", has=page.locator("th", has_text=str(salesperson)))
    expect(sam.locator("td").nth(0)).to_have_text("2")
    expect(people.locator("tfoot")).to_contain_text("Total")
    screenshot(page.locator("main"), "report-manager")

    # A period before anyone raised a hand, opened from a link.
    page.goto(f"{live_server.url}/reports/speed-to-lead/?start=2020-01-01&end=2020-03-31")
    expect(page.locator("#report-body")).to_contain_text("Nothing to show yet")
    expect(page.locator("#report-body")).to_contain_text("No lead raised a hand")
    screenshot(page.locator("main"), "report-empty")
    assert console_errors == []
