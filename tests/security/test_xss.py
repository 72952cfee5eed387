"""Stored XSS: what users type comes back as text, in pages, htmx partials, emails and exports.

Two payloads: a script element, and one that breaks out of an attribute value. Every record a
user names (lead, company, referral source, ICP, criterion) carries them; every place that shows
them is asked for, and must hold only the escaped form.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from django.urls import reverse

from reminders.services import reminders_dispatch, reminders_plan
from tests.factories import (
    ActivityFactory,
    CriterionFactory,
    FollowUpFactory,
    ICPFactory,
    LeadFactory,
    ReferralSourceFactory,
    UserFactory,
)
from tests.reminders.conftest import MONDAY_9_LONDON

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '" onmouseover=alert(1) x="'
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"
ESCAPED_ATTRIBUTE = "&quot; onmouseover=alert(1) x=&quot;"

pytestmark = pytest.mark.django_db


def assert_escaped(html: str, where: str) -> None:
    assert SCRIPT not in html, f"{where}: a live <script>"
    assert '" onmouseover' not in html, f"{where}: an attribute broken out of"
    assert "<script>alert" not in html, where
    assert ESCAPED_SCRIPT in html or ESCAPED_ATTRIBUTE in html, f"{where}: payload not shown"


@pytest.fixture
def nasty(salesperson):
    """One of each record a user names, named with both payloads."""
    source = ReferralSourceFactory(owner=salesperson, name=SCRIPT + ATTRIBUTE, notes=SCRIPT)
    lead = LeadFactory(
        owner=salesperson,
        first_name=SCRIPT,
        last_name=ATTRIBUTE,
        title=ATTRIBUTE,
        company__name=SCRIPT + ATTRIBUTE,
        company__industry=SCRIPT,
        referred_by=source,
    )
    FollowUpFactory(lead=lead, note=SCRIPT + ATTRIBUTE)
    ActivityFactory(lead=lead, text=SCRIPT + ATTRIBUTE)
    icp = ICPFactory(owner=salesperson, name=SCRIPT + ATTRIBUTE)
    CriterionFactory(icp=icp, value=SCRIPT + ATTRIBUTE)
    return {"lead": lead, "source": source, "icp": icp}


def pages(records, *, htmx: bool) -> list[tuple[str, str, dict]]:
    lead, source, icp = records["lead"], records["source"], records["icp"]
    return [
        ("today", reverse("today"), {}),
        ("lead list", reverse("lead-list"), {}),
        ("lead search", reverse("lead-list"), {"q": "alert"}),
        ("lead page", reverse("lead-detail", args=[lead.pk]), {}),
        ("lead contact editor", reverse("lead-edit", args=[lead.pk, "contact"]), {}),
        # The board itself shows counts only; its cards come from a column's htmx request.
        *([("pipeline cards", reverse("pipeline-cards", args=[lead.stage]), {})] if htmx else []),
        ("pipeline column", reverse("pipeline-column", args=["new"]), {}),
        ("referrals", reverse("referral-list"), {}),
        ("referral page", reverse("referral-detail", args=[source.pk]), {}),
        ("ICP list", reverse("icp-list"), {}),
        ("ICP editor", reverse("icp-detail", args=[icp.pk]), {}),
        ("ICP preview", reverse("icp-preview", args=[icp.pk]), {"value": SCRIPT}),
        ("referral report", reverse("report-detail", args=["referrals"]), {}),
    ]


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx partial"])
def test_pages_and_partials_show_the_payloads_as_text(client_of, salesperson, nasty, htmx):
    client = client_of(salesperson)
    headers = {"HX-Request": "true"} if htmx else {}

    for where, url, query in pages(nasty, htmx=htmx):
        response = client.get(url, query, headers=headers, follow=True)
        assert response.status_code == 200, f"{where}: {response.status_code}"
        assert_escaped(response.content.decode(), where)


def test_the_admin_shows_the_payloads_as_text(client_of, manager, nasty):
    client = client_of(manager)
    lead = nasty["lead"]

    for url in (
        reverse("admin:leads_lead_changelist"),
        reverse("admin:leads_lead_change", args=[lead.pk]),
        reverse("admin:referrals_referralsource_changelist"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_escaped(response.content.decode(), url)


# --- Emails -------------------------------------------------------------------------------------


def html_part(email) -> str:
    [(html, mimetype)] = email.alternatives
    assert mimetype == "text/html"
    return html


def test_the_weekly_referral_email_shows_the_payloads_as_text(time_machine, mailoutbox):
    time_machine.move_to(MONDAY_9_LONDON, tick=False)
    user = UserFactory(username="wes", weekly_referral_email=True, daily_digest_email=False)
    ReferralSourceFactory(owner=user, name=SCRIPT + ATTRIBUTE, next_ask_at=MONDAY_9_LONDON)

    reminders_plan()
    reminders_dispatch()

    [email] = mailoutbox
    assert_escaped(html_part(email), "weekly email")
    assert SCRIPT + ATTRIBUTE in email.body  # the text part shows it as typed: it is text


def test_the_daily_digest_shows_the_payloads_as_text(time_machine, mailoutbox):
    time_machine.move_to(MONDAY_9_LONDON - timedelta(minutes=90), tick=False)  # 07:30 there
    user = UserFactory(username="dee", weekly_referral_email=False, daily_digest_email=True)
    lead = LeadFactory(
        owner=user, first_name=SCRIPT, last_name=ATTRIBUTE, company__name=SCRIPT + ATTRIBUTE
    )
    FollowUpFactory(lead=lead, due_at=MONDAY_9_LONDON, note=SCRIPT + ATTRIBUTE)

    reminders_plan()
    reminders_dispatch()

    [email] = mailoutbox
    assert_escaped(html_part(email), "daily digest")


# --- Exports ------------------------------------------------------------------------------------


def test_exports_are_downloads_that_a_browser_never_renders(client_of, salesperson, nasty):
    client = client_of(salesperson)

    for name in ("lead-export-csv", "lead-export-json", "account-export"):
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        assert response["Content-Disposition"].startswith("attachment;"), name
        assert not response["Content-Type"].startswith("text/html"), name
        assert response["X-Content-Type-Options"] == "nosniff", name


def test_exports_keep_the_payloads_as_data(client_of, salesperson, nasty):
    client = client_of(salesperson)

    csv_text = b"".join(client.get(reverse("lead-export-csv")).streaming_content).decode()
    json_text = b"".join(client.get(reverse("lead-export-json")).streaming_content).decode()

    [row] = csv.DictReader(io.StringIO(csv_text.lstrip("\ufeff")))
    assert SCRIPT in row.values()
    [lead] = json.loads(json_text)["leads"]
    assert SCRIPT in lead.values()


def test_exports_neutralise_spreadsheet_formulas(client_of, salesperson):
    LeadFactory(owner=salesperson, first_name='=HYPERLINK("https://evil.example")', last_name="X")
    client = client_of(salesperson)

    csv_text = b"".join(client.get(reverse("lead-export-csv")).streaming_content).decode()

    [row] = csv.DictReader(io.StringIO(csv_text.lstrip("\ufeff")))
    assert '\'=HYPERLINK("https://evil.example")' in row.values()
    assert '=HYPERLINK("https://evil.example")' not in row.values()
