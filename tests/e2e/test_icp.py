from __future__ import annotations

import re

import pytest
from playwright.sync_api import Route, expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_change_made_while_the_last_preview_is_on_its_way_is_the_one_shown(
    logged_in_page, live_server, salesperson, saas_icp, console_errors
):
    icp = saas_icp
    page = logged_in_page(salesperson)
    page.goto(f"{live_server.url}/icp/{icp.pk}/")
    expect(page.locator("[data-preview-matching]")).to_have_text("3")
    held: list[Route] = []

    def hold_the_first_draft(route: Route) -> None:
        # Only the draft with the value typed: on a busy machine a draft may go between the
        # two selects and the typing, and it must be answered for the typed one to be sent.
        if held or "value=GB" not in route.request.url:
            route.continue_()
        else:
            held.append(route)  # a slow server: answered after the next change is made

    page.route(re.compile(r"/icp/\d+/preview/\?"), hold_the_first_draft)
    form = page.locator("#criterion-form")
    form.get_by_label("Field").select_option("country")
    form.get_by_label("Operator").select_option("equals")
    with page.expect_request(lambda request: "value=GB" in request.url):
        form.get_by_label("Value").fill("GB")
    form.get_by_label("Knock-out").check()
    page.wait_for_timeout(500)  # the change is made while the first draft's answer is held
    held[0].continue_()

    expect(page.locator("[data-preview-matching]")).to_have_text("2")
    expect(page.locator("#icp-preview")).to_contain_text("Including the criterion you're typing")
    assert console_errors == []


def test_typing_a_criterion_updates_the_preview_then_adding_saves_it(
    logged_in_page, live_server, salesperson, saas_icp, console_errors
):
    icp = saas_icp
    page = logged_in_page(salesperson)
    page.goto(f"{live_server.url}/icp/{icp.pk}/")

    expect(page.locator("[data-preview-matching]")).to_have_text("3")
    form = page.locator("#criterion-form")
    form.get_by_label("Field").select_option("country")
    form.get_by_label("Operator").select_option("equals")
    form.get_by_label("Value").fill("GB")
    form.get_by_label("Knock-out").check()
    expect(page.locator("[data-preview-matching]")).to_have_text("2")

    form.get_by_role("button", name="Add").click()
    expect(page.locator("#icp-criteria")).to_contain_text("Country equals GB")
    expect(page.locator("[data-preview-matching]")).to_have_text("2")
    assert icp.criteria.filter(field="country", value="GB", required=True).exists()
    assert console_errors == []
