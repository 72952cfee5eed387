"""Previews of the reminder emails and "Send it to me now": the services, the views and the
`send_reminders` command."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from reminders.models import ReminderKind, ReminderSendToSelf
from reminders.selectors import reminder_preview
from reminders.services import (
    SEND_TO_SELF_PER_HOUR,
    reminder_send_to_self,
    reminders_dispatch,
    reminders_plan,
)
from tests.factories import FollowUpFactory, LeadFactory, ReferralSourceFactory, UserFactory
from tests.reminders.conftest import MONDAY_9_LONDON, SITE_URL

pytestmark = pytest.mark.django_db

WEDNESDAY_NOON = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
NOTHING_DUE = "Nothing to send today — the digest is skipped on days with nothing due."


@pytest.fixture
def dana(clock, salesperson):
    clock(MONDAY_9_LONDON - timedelta(days=30))
    lead = LeadFactory(
        owner=salesperson,
        first_name="Dana",
        last_name="Smith",
        phone="+44 20 7946 0011",
        email="dana@smith.example",
    )
    return ReferralSourceFactory(
        owner=salesperson, name="Dana Smith", email="", lead=lead, next_ask_at=MONDAY_9_LONDON
    )


# --- The preview ---------------------------------------------------------------------------


def test_the_preview_is_the_email_the_scheduled_send_sends(clock, salesperson, dana, mailoutbox):
    clock(MONDAY_9_LONDON)
    preview = reminder_preview(user=salesperson, kind=ReminderKind.WEEKLY_REFERRALS)
    reminders_plan()
    reminders_dispatch()

    [email] = mailoutbox
    assert preview.subject == email.subject == "Who to ask for a referral this week (1)"
    assert preview.recipient == "sam@example.com"
    # The same text but for the one-click links, which are signed afresh each time.
    link = r"https://crm\.example\.com/e/[^/\s\"]+/"
    assert re.sub(link, "LINK", preview.text) == re.sub(link, "LINK", email.body)
    assert re.sub(link, "LINK", preview.html) == re.sub(link, "LINK", email.alternatives[0][0])
    assert "+44 20 7946 0011" in preview.text
    assert "dana@smith.example" in preview.html
    assert SITE_URL + "/e/" in preview.text


def test_an_empty_digest_previews_as_skipped(clock, salesperson):
    clock(WEDNESDAY_NOON)

    preview = reminder_preview(user=salesperson, kind=ReminderKind.DAILY_DIGEST)

    assert preview.subject == ""
    assert preview.nothing_to_send == NOTHING_DUE
    assert preview.turned_on is False  # sam's digest is off in these tests


def test_the_digest_preview_lists_todays_follow_ups(clock, salesperson):
    clock(WEDNESDAY_NOON - timedelta(days=2))
    lead = LeadFactory(owner=salesperson, first_name="Fay", last_name="Follow", phone="+4411")
    FollowUpFactory(lead=lead, due_at=WEDNESDAY_NOON + timedelta(hours=2))
    clock(WEDNESDAY_NOON)

    preview = reminder_preview(user=salesperson, kind=ReminderKind.DAILY_DIGEST)

    assert preview.subject.startswith("Your follow-ups for Wednesday 2 December: 1 due")
    assert "Fay Follow" in preview.text
    assert "Phone: +4411" in preview.text


# --- Sending it to oneself -----------------------------------------------------------------


def test_send_to_self_sends_the_email_to_the_users_own_address(
    clock, salesperson, dana, mailoutbox
):
    clock(WEDNESDAY_NOON)

    result = reminder_send_to_self(user=salesperson, kind=ReminderKind.WEEKLY_REFERRALS)

    assert result.sent
    assert result.message.startswith(
        "Sent “Who to ask for a referral this week (1)” to sam@example.com."
    )
    [email] = mailoutbox
    assert email.to == ["sam@example.com"]
    assert "Dana Smith" in email.body
    assert ReminderSendToSelf.objects.get().sent


def test_each_copy_sent_on_demand_has_its_own_message_id(clock, salesperson, dana, mailoutbox):
    clock(WEDNESDAY_NOON)
    for _ in range(2):
        reminder_send_to_self(user=salesperson, kind=ReminderKind.WEEKLY_REFERRALS)

    first, second = (email.extra_headers["Message-ID"] for email in mailoutbox)
    assert first != second


def test_a_user_without_an_email_address_is_told_so(clock, mailoutbox):
    clock(WEDNESDAY_NOON)
    nobody = UserFactory(username="noaddress", email="")

    result = reminder_send_to_self(user=nobody, kind=ReminderKind.WEEKLY_REFERRALS)

    assert result.outcome == "no-address"
    assert "no email address" in result.message
    assert mailoutbox == []


def test_nothing_to_send_is_said_and_nothing_is_sent(clock, salesperson, mailoutbox):
    clock(WEDNESDAY_NOON)

    result = reminder_send_to_self(user=salesperson, kind=ReminderKind.DAILY_DIGEST)

    assert (result.outcome, result.message) == ("nothing", NOTHING_DUE)
    assert mailoutbox == []


def test_more_than_a_few_an_hour_are_refused(clock, salesperson, dana, mailoutbox):
    clock(WEDNESDAY_NOON)
    for minute in range(SEND_TO_SELF_PER_HOUR):
        clock(WEDNESDAY_NOON + timedelta(minutes=minute))
        assert reminder_send_to_self(user=salesperson, kind=ReminderKind.WEEKLY_REFERRALS).sent

    clock(WEDNESDAY_NOON + timedelta(minutes=30))
    refused = reminder_send_to_self(user=salesperson, kind=ReminderKind.WEEKLY_REFERRALS)

    assert refused.outcome == "too-many"
    assert refused.message == (
        f"You have sent yourself {SEND_TO_SELF_PER_HOUR} emails in the last hour; "
        "try again in 30 minutes."
    )
    assert len(mailoutbox) == SEND_TO_SELF_PER_HOUR
    # An hour after the first, one more may go.
    clock(WEDNESDAY_NOON + timedelta(minutes=60, seconds=1))
    assert reminder_send_to_self(user=salesperson, kind=ReminderKind.WEEKLY_REFERRALS).sent


def test_a_mail_server_failure_is_reported_in_words(
    clock, salesperson, dana, smtp_failures, mailoutbox
):
    clock(WEDNESDAY_NOON)
    smtp_failures.append(ConnectionRefusedError(111, "Connection refused"))

    result = reminder_send_to_self(user=salesperson, kind=ReminderKind.WEEKLY_REFERRALS)

    assert result.outcome == "failed"
    assert "could not be sent (ConnectionRefusedError" in result.message
    assert "EMAIL_URL" in result.message
    assert ReminderSendToSelf.objects.get().sent is False


# --- The views -----------------------------------------------------------------------------


def test_the_preview_page_shows_subject_text_and_a_sandboxed_frame(
    client_of, clock, salesperson, dana
):
    clock(WEDNESDAY_NOON)

    response = client_of(salesperson).get("/settings/emails/weekly/")

    assert response.status_code == 200
    assert "Who to ask for a referral this week (1)" in response.text
    assert "Phone: +44 20 7946 0011" in response.text
    assert 'sandbox="allow-popups allow-popups-to-escape-sandbox"' in response.text
    assert 'src="/settings/emails/weekly/html/"' in response.text
    assert "no-store" in response["Cache-Control"]


def test_the_html_part_is_served_for_the_frame_only_with_inline_styles_allowed(
    client_of, clock, salesperson, dana
):
    clock(WEDNESDAY_NOON)

    response = client_of(salesperson).get("/settings/emails/weekly/html/")

    assert response.status_code == 200
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    policy = response["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "style-src 'unsafe-inline'" in policy
    assert "frame-ancestors 'self'" in policy
    assert "script-src" not in policy  # falls back to 'none'
    assert '<base target="_blank">' in response.text
    assert "dana@smith.example" in response.text


def test_an_unknown_email_is_not_found(client_of, salesperson):
    assert client_of(salesperson).get("/settings/emails/monthly/").status_code == 404


def test_the_send_button_sends_and_says_so(client_of, clock, salesperson, dana, mailoutbox):
    clock(WEDNESDAY_NOON)

    response = client_of(salesperson).post("/settings/emails/weekly/send/", follow=True)

    assert response.redirect_chain[-1][0] == "/settings/"
    assert "Sent “Who to ask for a referral this week (1)” to sam@example.com." in response.text
    assert len(mailoutbox) == 1


def test_the_send_button_goes_back_to_the_preview_but_never_off_site(
    client_of, clock, salesperson, dana
):
    clock(WEDNESDAY_NOON)
    client = client_of(salesperson)

    back = client.post("/settings/emails/weekly/send/", {"next": "/settings/emails/weekly/"})
    away = client.post("/settings/emails/weekly/send/", {"next": "https://evil.example/"})

    assert back["Location"] == "/settings/emails/weekly/"
    assert away["Location"] == "/settings/"


def test_settings_offers_preview_and_send_for_both_emails(client_of, salesperson):
    response = client_of(salesperson).get("/settings/")

    assert 'href="/settings/emails/weekly/"' in response.text
    assert 'href="/settings/emails/digest/"' in response.text
    assert 'action="/settings/emails/digest/send/"' in response.text
    assert "no email address" not in response.text


def test_settings_says_next_to_the_button_when_there_is_no_address(client_of, db):
    response = client_of(UserFactory(username="noaddress", email="")).get("/settings/")

    assert "Your account has no email address, so nothing can be sent to you." in response.text
    assert 'aria-describedby="no-email-note"' in response.text


# --- The command ---------------------------------------------------------------------------


def run(*args: str) -> tuple[str, int]:
    out = StringIO()
    try:
        call_command("send_reminders", *args, stdout=out)
    except CommandError as error:
        return out.getvalue() + str(error), error.returncode
    return out.getvalue(), 0


def test_the_command_prints_a_dry_run_and_sends_nothing(clock, salesperson, dana, mailoutbox):
    clock(WEDNESDAY_NOON)

    output, code = run("--user", "sam", "--kind", "weekly", "--dry-run")

    assert code == 0
    assert "To: sam@example.com" in output
    assert "Subject: Who to ask for a referral this week (1)" in output
    assert "Phone: +44 20 7946 0011" in output
    assert SITE_URL + "/e/" in output
    assert mailoutbox == []


def test_the_command_sends_both_emails_and_says_where(clock, salesperson, dana, mailoutbox):
    clock(WEDNESDAY_NOON)

    output, code = run("--user", "sam")

    assert code == 0
    assert "weekly: Sent “Who to ask for a referral this week (1)” to sam@example.com." in output
    assert f"digest: {NOTHING_DUE}" in output
    assert [email.to for email in mailoutbox] == [["sam@example.com"]]


def test_the_command_is_not_rate_limited(clock, salesperson, dana, mailoutbox):
    clock(WEDNESDAY_NOON)
    for _ in range(SEND_TO_SELF_PER_HOUR + 1):
        assert run("--user", "sam", "--kind", "weekly")[1] == 0
    assert len(mailoutbox) == SEND_TO_SELF_PER_HOUR + 1


def test_the_command_fails_for_an_unknown_user_or_one_without_an_address(db):
    UserFactory(username="noaddress", email="")

    assert run("--user", "ghost") == ("No user called 'ghost'.", 1)
    output, code = run("--user", "noaddress", "--kind", "weekly")
    assert code == 1
    assert "no email address" in output
