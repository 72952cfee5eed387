"""Every main page under the strict Content-Security-Policy, in Chromium.

The policy forbids inline scripts, inline event handlers, style attributes and eval; a page
that still had one would log a CSP violation (caught here as a console error and as a
`securitypolicyviolation` event). Each page also does one htmx interaction, which shows
htmx itself still works under the policy (it must not inject its own <style> nor eval).
Records are named like attacks: an alert that ran would open a dialog, which fails the test.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from icp.models import ICP
from leads.models import Lead
from tests.factories import (
    CriterionFactory,
    FollowUpFactory,
    ICPFactory,
    LeadFactory,
    ManagerFactory,
    ReferralSourceFactory,
    UserFactory,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '" onmouseover=alert(1) x="'

# Records every CSP violation of the page before any of its own scripts run.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + (event.blockedURI || "inline")
    + " at " + event.sourceFile + ":" + event.lineNumber);
});
"""


@pytest.fixture
def watched_page(logged_in_page, page, console_errors):
    """A logged-in page whose CSP violations, console errors and dialogs are collected."""
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.add_init_script(RECORD_VIOLATIONS)

    def problems() -> list[str]:
        violations = page.evaluate("window.__cspViolations || []")
        return [*violations, *console_errors, *(f"dialog: {text}" for text in dialogs)]

    def log_in(user):
        logged_in_page(user)
        return page, problems

    return log_in


@pytest.fixture
def team(db):
    """A manager and a salesperson with one of each record, named like attacks."""
    manager = ManagerFactory(username="morgan")
    rep = UserFactory(username="sam")
    for owner in (manager, rep):
        lead = LeadFactory(
            owner=owner,
            first_name=SCRIPT,
            last_name=ATTRIBUTE,
            company__name=SCRIPT,
            company__industry="Software",
        )
        FollowUpFactory(lead=lead, due_at=timezone.now() - timedelta(hours=1))
        ReferralSourceFactory(owner=owner, name=ATTRIBUTE, next_ask_at=timezone.now())
        CriterionFactory(icp=ICPFactory(owner=owner, name=SCRIPT))
    return manager


def htmx_is_loaded_without_inline_styles(page) -> None:
    assert page.evaluate("typeof htmx") == "object"
    assert page.evaluate("htmx.config.includeIndicatorStyles") is False
    assert page.evaluate("htmx.config.allowEval") is False
    assert page.locator("head style").count() == 0


def test_the_main_pages_keep_to_the_policy_and_htmx_works(watched_page, live_server, team):
    page, problems = watched_page(team)
    base = live_server.url
    lead = Lead.objects.get(owner=team)
    icp = ICP.objects.get(owner=team)

    # Today: the keyboard marks the first follow-up done (connected) through htmx.
    page.goto(f"{base}/")
    htmx_is_loaded_without_inline_styles(page)
    page.keyboard.press("j")
    page.keyboard.press("d")
    page.keyboard.press("c")
    expect(page.locator(".queue-row").first).to_contain_text("logged. Next:")
    assert problems() == [], "Today"

    # Leads: typing in the search filters the table through htmx.
    page.goto(f"{base}/leads/")
    expect(page.locator("#lead-table")).to_contain_text(SCRIPT)
    page.locator("#lead-filters input[type=search]").fill("nobody-is-called-this")
    expect(page.locator("#lead-table")).not_to_contain_text(SCRIPT)
    page.locator("#lead-table").hover()
    assert problems() == [], "Leads"

    # The lead page: opening the contact editor swaps the card through htmx.
    page.goto(f"{base}/leads/{lead.pk}/")
    expect(page.locator("h1")).to_contain_text(SCRIPT)
    page.locator("#lead-contact").get_by_role("link", name="Edit").click()
    expect(page.locator("#lead-contact form")).to_be_visible()
    assert problems() == [], "Lead page"

    # The company page: opening its facts editor swaps the card through htmx.
    page.goto(f"{base}/companies/{lead.company.pk}/")
    expect(page.locator("h1")).to_contain_text(SCRIPT)
    page.locator("#company-facts").get_by_role("link", name="Edit").click()
    expect(page.locator("#company-facts form")).to_be_visible()
    assert problems() == [], "Company page"

    # Pipeline: choosing a rep reloads the board through htmx.
    page.goto(f"{base}/pipeline/")
    page.get_by_label("Rep").select_option(label=str(team))
    expect(page).to_have_url(f"{base}/pipeline/?owner={team.pk}")
    assert problems() == [], "Pipeline"

    # Referrals: adding a source posts the form through htmx.
    page.goto(f"{base}/referrals/")
    form = page.locator("#source-create-form")
    form.get_by_label("Name").fill("Priya Partner")
    form.get_by_role("button", name="Add referral source").click()
    expect(page.locator("#source-create-form")).to_contain_text("Added Priya Partner")
    assert problems() == [], "Referrals"

    # ICP editor: typing a criterion refreshes the live preview through htmx.
    page.goto(f"{base}/icp/{icp.pk}/")
    with page.expect_response(lambda response: "/preview/" in response.url):
        page.locator("#criterion-form").get_by_label("Value").fill("Software")
    expect(page.locator("#icp-preview")).to_be_visible()
    assert problems() == [], "ICP editor"

    # Reports: changing a filter swaps the report body through htmx.
    page.goto(f"{base}/reports/")
    page.locator("main a[href^='/reports/']").first.click()
    filters = page.locator("#report-filters")
    with page.expect_response(lambda response: response.request.headers.get("hx-request")):
        filters.locator("select").first.select_option(index=1)
    expect(page.locator("#report-body")).to_be_visible()
    assert problems() == [], "Reports"

    # Settings and Import have no htmx region: their plain forms must still work.
    page.goto(f"{base}/settings/")
    htmx_is_loaded_without_inline_styles(page)
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()
    page.goto(f"{base}/import/")
    htmx_is_loaded_without_inline_styles(page)
    assert problems() == [], "Settings, Import"


def test_the_admin_keeps_to_the_policy(watched_page, live_server, team):
    page, problems = watched_page(team)

    page.goto(f"{live_server.url}/admin/")
    expect(page.get_by_role("heading", name="Team, leads and schedules")).to_be_visible()
    page.goto(f"{live_server.url}/admin/leads/lead/")
    expect(page.locator("#result_list")).to_contain_text(SCRIPT)
    # The admin's own scripts (actions, select all) still run under the policy.
    page.locator("#action-toggle").check()
    expect(page.locator(".action-counter")).to_contain_text("selected")

    assert problems() == []


def test_the_policy_is_enforced_not_just_sent(watched_page, live_server, team):
    """The control: an inline script and style added to a page are refused and reported,
    so the checks above would see a template that brought one back."""
    page, problems = watched_page(team)
    page.goto(f"{live_server.url}/")

    page.evaluate(
        """() => {
        const script = document.createElement("script");
        script.textContent = "window.__ranInline = true";
        document.body.append(script);
        document.body.insertAdjacentHTML("beforeend", '<p style="color: red">x</p>');
    }"""
    )

    page.wait_for_function("window.__cspViolations.length >= 2")
    assert page.evaluate("window.__ranInline === undefined")
    found = problems()
    assert any(problem.startswith("script-src") for problem in found), found
    assert any(problem.startswith("style-src") for problem in found), found
