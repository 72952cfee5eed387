"""The ICP editor's live preview in a real browser, around adding and removing criteria."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def preview_requests(page) -> list[str]:
    urls: list[str] = []
    page.on(
        "request", lambda request: urls.append(request.url) if "/preview" in request.url else None
    )
    return urls


def saved_criteria_preview(page) -> str:
    """The preview a fresh page shows for the saved criteria (its text, spaces collapsed)."""
    fresh = page.context.new_page()
    fresh.goto(page.url)
    text = " ".join(fresh.locator("#icp-preview").text_content().split())
    fresh.close()
    return text


def expect_the_saved_criteria_preview(page) -> None:
    """The page's preview becomes a fresh page's, and stays so: a refresh still on its way
    (a draft's, counting the criterion a second time) must not land after it."""
    saved = saved_criteria_preview(page)
    preview = page.locator("#icp-preview")
    # Waited for, not read at once: wait_for_load_state("networkidle") returns at once when
    # the page was idle before the refresh after the add (a loaded CI run read the old one).
    expect(preview).to_have_text(saved)
    page.wait_for_timeout(500)
    assert " ".join(preview.text_content().split()) == saved


def test_after_add_and_remove_the_preview_shows_the_saved_criteria_only(
    logged_in_page, live_server, salesperson, saas_icp, console_errors
):
    page = logged_in_page(salesperson)
    urls = preview_requests(page)
    page.goto(f"{live_server.url}/icp/{saas_icp.pk}/")
    preview = page.locator("#icp-preview")

    form = page.locator("#criterion-form")
    form.get_by_label("Field").select_option("country")
    page.wait_for_load_state("networkidle")
    expect(preview).not_to_contain_text("Draft criterion not counted")  # nothing typed yet
    form.get_by_label("Value").fill("GB")
    form.get_by_label("Weight").fill("50")
    expect(preview).to_contain_text("Including the criterion you're typing")

    form.get_by_role("button", name="Add").click()
    expect(page.locator("#icp-criteria")).to_contain_text("Country equals GB")
    expect(preview).not_to_contain_text("Including the criterion you're typing")
    # Counted once, as saved: the same preview a fresh page shows.
    expect_the_saved_criteria_preview(page)

    page.get_by_role("button", name="Remove: Country equals GB").click()
    expect(page.locator("#icp-criteria")).not_to_contain_text("Country equals GB")
    page.wait_for_load_state("networkidle")
    expect(preview).not_to_contain_text("Draft criterion not counted")
    expect(preview).not_to_contain_text("Including the criterion you're typing")

    assert any("value=GB" in url for url in urls)  # the typed draft was previewed
    assert not [url for url in urls if "csrfmiddlewaretoken" in url]
    assert console_errors == []


def test_add_right_after_typing_does_not_count_the_criterion_twice(
    logged_in_page, live_server, salesperson, saas_icp, console_errors
):
    page = logged_in_page(salesperson)
    page.goto(f"{live_server.url}/icp/{saas_icp.pk}/")
    form = page.locator("#criterion-form")
    form.get_by_label("Field").select_option("country")
    form.get_by_label("Value").fill("GB")
    form.get_by_role("button", name="Add").click()  # before the typing's preview refresh

    expect(page.locator("#icp-criteria")).to_contain_text("Country equals GB")
    page.wait_for_timeout(500)  # the typing's refresh would have fired by now
    expect_the_saved_criteria_preview(page)
    expect(page.locator("#icp-preview")).not_to_contain_text("Including the criterion")
    assert console_errors == []


def test_a_draft_preview_answered_after_the_add_does_not_count_the_criterion_twice(
    logged_in_page, live_server, salesperson, saas_icp, console_errors
):
    """A slow server: the preview of the typed draft is still on its way when Add saves the
    criterion; when it lands, after the fresh preview, it is dropped."""
    page = logged_in_page(salesperson)
    held = []
    page.route(
        lambda url: "/preview" in url and "value=GB" in url, lambda route: held.append(route)
    )
    page.goto(f"{live_server.url}/icp/{saas_icp.pk}/")
    form = page.locator("#criterion-form")
    form.get_by_label("Field").select_option("country")
    form.get_by_label("Value").fill("GB")
    page.wait_for_timeout(800)  # the typing's refresh has been sent, and is held
    assert held, "the draft's preview was not requested"

    form.get_by_role("button", name="Add").click()
    expect(page.locator("#icp-criteria")).to_contain_text("Country equals GB")
    preview = page.locator("#icp-preview")
    expect(preview).to_contain_text("3 of 3 leads match")  # the fresh preview, after the add
    for route in held:
        route.continue_()
    page.wait_for_timeout(800)

    expect(preview).not_to_contain_text("Including the criterion")
    expect(preview).to_contain_text("3 of 3 leads match")
    assert console_errors == []
