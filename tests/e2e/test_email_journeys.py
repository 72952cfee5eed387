"""Issue 18, points 1 and 6: a salesperson emails a lead from its page with a template, reads
it on the timeline, and manages their templates; against a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import re
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from emails.models import Email, EmailSource
from emails.services import EmailFacts, email_log
from leads import services as lead_services
from leads.models import Activity, Direction, FollowUpKind
from tests.factories import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Screenshots for review of the pages (compose, timeline thread, templates).
SHOTS = Path(tempfile.gettempdir()) / "shots" / "i18-send"
PHONE = {"width": 390, "height": 844}


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}.png", caret="initial", full_page=True)


@pytest.fixture
def sam(db):
    return UserFactory(
        username="sam",
        first_name="Sam",
        last_name="Seller",
        email="sam@seller.example",
        time_zone="Europe/London",
    )


@pytest.fixture
def dana(sam):
    return lead_services.lead_create(
        owner=sam,
        first_name="Dana",
        last_name="Reyes",
        email="dana@buyer.example",
        title="Head of Operations",
        company_name="Juniper Logistics",
    )


def assert_fits_a_phone(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide on a phone"


def open_compose(page, live_server, lead):
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    page.get_by_role("link", name=re.compile(r"^Email")).click()
    expect(page.get_by_role("heading", name=f"Email {lead}", level=1)).to_be_visible()


def test_a_salesperson_emails_a_lead_with_a_template_and_reads_it_on_the_timeline(
    logged_in_page, live_server, smtp_server, sam, dana, console_errors
):
    page = logged_in_page(sam)
    before = dana.follow_ups.get(done_at=None)
    assert before.kind == FollowUpKind.FIRST_TOUCH

    open_compose(page, live_server, dana)
    page.get_by_label("Template").select_option(label="First touch")
    preview = page.locator("#email-preview")
    expect(preview.get_by_test_id("preview-subject")).to_have_text("Quick question, Dana")
    expect(preview.get_by_test_id("preview-body")).to_contain_text("Hi Dana,")
    expect(preview.get_by_test_id("preview-body")).to_contain_text("teams like Juniper Logistics")
    expect(preview).to_contain_text("Sam Seller <sam@seller.example>")
    expect(page.get_by_label("Body")).to_have_value(re.compile(r"^Hi \{\{first_name\}\},"))
    shot(page, "compose-desktop")

    body = page.get_by_label("Body")
    body.fill(body.input_value().replace("short conversation", "quick conversation"))
    expect(preview.get_by_test_id("preview-body")).to_contain_text("a quick conversation")
    page.get_by_role("button", name="Send email").click()

    expect(page.get_by_role("status").first).to_contain_text("Email sent to Dana Reyes")
    timeline = page.locator("#lead-timeline")
    thread = timeline.locator(".timeline-email-thread")
    expect(thread).to_have_count(1)
    expect(thread).to_contain_text("Quick question, Dana")
    expect(thread.locator(".badge-sent")).to_have_text("Sent")
    thread.locator("summary").click()
    expect(thread.locator(".email-body")).to_contain_text("a quick conversation")
    # The email touch moved the cadence: the first touch is done, a follow-up is planned.
    expect(page.locator("#lead-follow-up")).to_contain_text("Follow up")
    after = dana.follow_ups.get(done_at=None)
    assert after.kind == FollowUpKind.FOLLOW_UP
    assert after.due_at > before.due_at

    [received] = smtp_server.received
    assert received.mail_from == "sam@seller.example"
    assert received.rcpt_tos == ["dana@buyer.example"]
    assert received.message["Subject"] == "Quick question, Dana"
    assert "a quick conversation" in received.message.get_content()
    sent = Email.objects.get(lead=dana)
    assert received.message["Message-ID"].strip() == f"<{sent.message_id}>"

    # Dana answers (as the capture address would log it): one conversation of two.
    email_log(
        owner=sam,
        lead=dana,
        facts=EmailFacts(
            message_id="reply-1@buyer.example",
            thread_key=sent.message_id,
            direction=Direction.INBOUND,
            source=EmailSource.CAPTURE,
            from_address="dana@buyer.example",
            to_addresses=["sam@seller.example"],
            sent_at=sent.sent_at + timedelta(minutes=20),
            subject="Re: Quick question, Dana",
            body_text="Happy to talk.\nThursday works.\n\n> Hi Dana,",
        ),
    )
    page.reload()
    expect(thread.locator(".email-message")).to_have_count(2)
    expect(thread.locator(".badge-received")).to_have_text("Received")
    thread.locator(".email-message").first.locator("summary").click()
    shot(page, "timeline-thread-desktop")
    page.set_viewport_size(PHONE)
    assert_fits_a_phone(page)
    page.locator("#lead-timeline").scroll_into_view_if_needed()
    shot(page, "timeline-thread-phone")
    assert console_errors == []


def test_a_do_not_contact_lead_offers_no_send_and_a_forced_post_is_refused(
    logged_in_page, live_server, smtp_server, sam, console_errors
):
    lead = lead_services.lead_create(
        owner=sam, first_name="Noah", last_name="Quiet", email="noah@quiet.example"
    )
    page = logged_in_page(sam)
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    # Opened while contact was allowed: the form is there.
    page.get_by_role("link", name=re.compile(r"^Email")).click()
    page.get_by_label("Subject").fill("Hello {{first_name}}")
    page.get_by_label("Body").fill("Hi Noah")
    # Meanwhile Noah asks not to be contacted (marked from another tab).
    lead_services.lead_update(lead=lead, user=sam, do_not_contact=True)

    page.get_by_role("button", name="Send email").click()

    expect(page.get_by_role("alert").first).to_contain_text(
        "Noah Quiet asked not to be contacted: this email was not sent."
    )
    expect(page.get_by_role("button", name="Send email")).to_have_count(0)
    # What Sam wrote is still on the page, to copy.
    expect(page.get_by_label("Body")).to_have_value("Hi Noah")
    expect(page.get_by_label("Subject")).to_have_value("Hello {{first_name}}")
    # The lead page offers no Email button any more, and the compose page no form.
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    expect(page.locator("#lead-contact-actions")).to_contain_text("asked not to be contacted")
    expect(page.get_by_role("link", name=re.compile(r"^Email"))).to_have_count(0)
    page.goto(f"{live_server.url}/leads/{lead.pk}/email/")
    expect(page.get_by_role("alert").first).to_contain_text("asked not to be contacted")
    expect(page.get_by_role("button", name="Send email")).to_have_count(0)
    assert smtp_server.received == []
    assert not Email.objects.exists()
    assert not Activity.objects.filter(lead=lead).exists()
    # The refused send answered 403, which the console reports.
    assert [error for error in console_errors if "status of 403" not in error] == []


@pytest.mark.parametrize("failure", ["refused", "down"])
def test_a_failing_mail_server_is_told_in_words_the_text_is_kept_and_nothing_logged(
    logged_in_page, live_server, smtp_server, sam, dana, failure
):
    page = logged_in_page(sam)
    open_compose(page, live_server, dana)
    page.get_by_label("Subject").fill("Our call, {{first_name}}")
    page.get_by_label("Body").fill("Hi {{first_name}},\n\nMy carefully chosen words.")
    if failure == "refused":
        smtp_server.refuse_with("550 5.7.1 Sender address rejected: not owned by user")
    else:
        smtp_server.stop()

    page.get_by_role("button", name="Send email").click()

    error = page.locator("#email-send-error")
    if failure == "refused":
        expect(error).to_contain_text(
            "The mail server refused the email: 550 5.7.1 Sender address rejected: "
            "not owned by user."
        )
    else:
        expect(error).to_contain_text("The mail server could not be reached")
    expect(error).to_contain_text("Your text is kept below.")
    expect(page.get_by_label("Subject")).to_have_value("Our call, {{first_name}}")
    expect(page.get_by_label("Body")).to_have_value(
        "Hi {{first_name}},\n\nMy carefully chosen words."
    )
    if failure == "refused":
        shot(page, "compose-error-desktop")
    assert smtp_server.received == []
    assert not Email.objects.exists()
    assert not Activity.objects.filter(lead=dana).exists()
    assert dana.follow_ups.get(done_at=None).kind == FollowUpKind.FIRST_TOUCH


def test_a_salesperson_adds_a_template_with_a_merge_field_on_settings_and_uses_it(
    logged_in_page, live_server, smtp_server, sam, dana, console_errors
):
    page = logged_in_page(sam)
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("link", name="Manage email templates").click()
    expect(page.get_by_role("heading", name="Email templates", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="First touch", exact=True)).to_be_visible()
    shot(page, "templates-desktop")
    page.set_viewport_size(PHONE)
    assert_fits_a_phone(page)
    shot(page, "templates-phone")
    page.set_viewport_size({"width": 1280, "height": 900})

    page.get_by_role("link", name="Add template").click()
    page.get_by_label("Name").fill("Coffee")
    page.get_by_label("Subject").fill("Coffee, {{first_name}}?")
    page.get_by_label("Body").fill("Hi {{firstname}}, coffee at {{company}}?")
    page.get_by_role("button", name="Add template").click()
    # A typo in a merge field: said next to the field, the text kept.
    expect(page.locator("#id_body_error")).to_contain_text("Unknown merge field {{firstname}}")
    expect(page.get_by_label("Name")).to_have_value("Coffee")
    page.get_by_label("Body").fill("Hi {{first_name}}, coffee at {{company}}?")
    page.get_by_role("button", name="Add template").click()
    expect(page.get_by_role("status").first).to_contain_text("Added the template “Coffee”.")
    expect(page.get_by_role("link", name="Coffee", exact=True)).to_be_visible()

    open_compose(page, live_server, dana)
    page.get_by_label("Template").select_option(label="Coffee")
    preview = page.locator("#email-preview")
    expect(preview.get_by_test_id("preview-subject")).to_have_text("Coffee, Dana?")
    expect(preview.get_by_test_id("preview-body")).to_have_text(
        "Hi Dana, coffee at Juniper Logistics?"
    )
    page.set_viewport_size(PHONE)
    assert_fits_a_phone(page)
    shot(page, "compose-phone")
    page.get_by_role("button", name="Send email").click()

    expect(page.get_by_role("status").first).to_contain_text("Email sent to Dana Reyes")
    expect(page.locator(".timeline-email-thread")).to_contain_text("Coffee, Dana?")
    [received] = smtp_server.received
    assert received.message["Subject"] == "Coffee, Dana?"
    # The refused form answered 422 (Unprocessable Entity), which the console reports.
    assert [error for error in console_errors if "status of 422" not in error] == []
