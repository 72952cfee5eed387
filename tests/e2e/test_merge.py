from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import expect

from leads import services
from leads.models import Activity, Lead, LeadMerge

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Where the compare page's screenshot goes, to look at it (not compared against anything).
SCREENSHOT = os.environ.get("MERGE_SCREENSHOT", "")


def test_merging_two_leads_by_hand_and_undoing_it(
    logged_in_page, live_server, salesperson, console_errors
):
    kept = services.lead_create(
        owner=salesperson,
        first_name="Dana",
        last_name="Smith",
        email="dana@acme.example",
        title="Head of Sales",
    )
    merged = services.lead_create(
        owner=salesperson,
        first_name="Dana",
        last_name="Smith",
        email="dana.smith@gmail.example",
        title="VP Sales",
        phone="+44 20 7946 0000",
    )
    services.activity_log(lead=merged, user=salesperson, kind="note", text="Budget frozen until Q3")
    page = logged_in_page(salesperson)
    page.goto(f"{live_server.url}/leads/{kept.pk}/")

    page.get_by_role("link", name="Merge…").click()
    expect(page).to_have_title(re.compile("^Merge Dana Smith"))
    # A click does not wait for the page's scripts the way goto() does: typing before htmx has
    # set up the search box would go unheard (seen on PostgreSQL, where the page is slower).
    page.wait_for_load_state()
    page.get_by_label("Find the other lead").fill("gmail")
    candidates = page.locator("#merge-candidates")
    expect(candidates).to_contain_text("Leads matching “gmail”")  # swapped in by htmx
    candidates.get_by_role("link", name="Compare").click()

    expect(page.locator("h1")).to_have_text(
        f"Merge Dana Smith (#{merged.pk}) into Dana Smith (#{kept.pk})"
    )
    keep_ours = page.get_by_role("radio", name="Email: keep dana@acme.example")
    expect(keep_ours).to_be_checked()
    keep_ours.focus()
    page.keyboard.press("ArrowDown")  # a radio group: the arrow keys pick the other value
    expect(page.get_by_role("radio", name="Email: keep dana.smith@gmail.example")).to_be_checked()
    expect(page.get_by_role("radio", name="Job title: keep Head of Sales")).to_be_checked()
    expect(page.get_by_text("fills in")).to_be_visible()  # the phone only the other lead has
    if SCREENSHOT:
        page.screenshot(path=SCREENSHOT, full_page=True, caret="initial")
    page.get_by_role("button", name=f"Merge #{merged.pk} into #{kept.pk}").click()

    expect(page).to_have_url(f"{live_server.url}/leads/{kept.pk}/")
    messages = page.locator("#messages")
    expect(messages).to_contain_text(
        f"Merged Dana Smith (#{merged.pk}) into Dana Smith (#{kept.pk})."
    )
    expect(page.locator("#lead-timeline")).to_contain_text("Budget frozen until Q3")
    expect(page.locator("#lead-contact")).to_contain_text("dana.smith@gmail.example")
    assert not Lead.objects.filter(pk=merged.pk).exists()

    messages.get_by_role("button", name="Undo merge").click()

    expect(page.locator("#messages")).to_contain_text("is a lead of its own again")
    expect(page.locator("#lead-contact")).to_contain_text("dana@acme.example")
    expect(page.locator("#lead-timeline")).not_to_contain_text("Budget frozen until Q3")
    expect(page.locator("#lead-merges")).to_contain_text("undone")
    page.locator("#messages").get_by_role("link", name="Dana Smith").click()
    expect(page).to_have_url(f"{live_server.url}/leads/{merged.pk}/")
    expect(page.locator("#lead-timeline")).to_contain_text("Budget frozen until Q3")
    assert Activity.objects.get(text="Budget frozen until Q3").lead_id == merged.pk
    assert LeadMerge.objects.get().undone_by == salesperson
    assert console_errors == []
