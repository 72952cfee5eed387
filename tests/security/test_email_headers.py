"""Email header injection: a line break in anything a user typed cannot add a header.

The reminder emails are built from users' names, leads' names and referral sources' names. A
CR/LF in one of them must neither add a header (Bcc: …) nor crash the send.
"""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes

import pytest

from reminders.models import Reminder, ReminderStatus
from reminders.services import reminders_dispatch, reminders_plan
from tests.factories import FollowUpFactory, LeadFactory, ReferralSourceFactory, UserFactory
from tests.reminders.conftest import MONDAY_9_LONDON

pytestmark = pytest.mark.django_db

INJECTION = "Dana\r\nBcc: everyone@evil.example\r\nX-Injected: yes"
EXPECTED_HEADERS = {
    "Content-Type",
    "MIME-Version",
    "Subject",
    "From",
    "To",
    "Date",
    "Message-ID",
    "Auto-Submitted",
}


def headers_of(email) -> dict[str, str]:
    parsed = message_from_bytes(email.message().as_bytes())
    return dict(parsed.items())


def assert_nothing_injected(email, to: str) -> None:
    headers = headers_of(email)
    assert set(headers) == EXPECTED_HEADERS, set(headers) - EXPECTED_HEADERS
    assert email.recipients() == [to]
    assert "\n" not in email.subject
    assert "\r" not in email.subject
    assert "evil.example" not in "".join(headers.values())


def test_a_line_break_in_names_adds_no_header_to_the_weekly_email(time_machine, mailoutbox):
    time_machine.move_to(MONDAY_9_LONDON, tick=False)
    user = UserFactory(
        username="wes",
        first_name=INJECTION,
        last_name=INJECTION,
        weekly_referral_email=True,
        daily_digest_email=False,
    )
    ReferralSourceFactory(owner=user, name=INJECTION, next_ask_at=MONDAY_9_LONDON)

    reminders_plan()
    reminders_dispatch()

    [email] = mailoutbox
    assert_nothing_injected(email, "wes@example.com")
    assert Reminder.objects.get().status == ReminderStatus.SENT


def test_a_line_break_in_names_adds_no_header_to_the_daily_digest(time_machine, mailoutbox):
    time_machine.move_to(MONDAY_9_LONDON - timedelta(minutes=90), tick=False)  # 07:30 there
    user = UserFactory(
        username="dee",
        first_name=INJECTION,
        weekly_referral_email=False,
        daily_digest_email=True,
    )
    lead = LeadFactory(owner=user, first_name=INJECTION, last_name=INJECTION)
    FollowUpFactory(lead=lead, due_at=MONDAY_9_LONDON, note=INJECTION)

    reminders_plan()
    reminders_dispatch()

    [email] = mailoutbox
    assert_nothing_injected(email, "dee@example.com")
    assert "Dana" in email.body  # the name is in the body, where a line break is harmless


def test_a_line_break_in_the_address_fails_that_email_for_good(time_machine, mailoutbox):
    """An address can only hold one if written past the forms (they validate it). Django
    refuses to build the header; the reminder is failed, not retried, and nothing is sent."""
    time_machine.move_to(MONDAY_9_LONDON, tick=False)
    user = UserFactory(username="wes", weekly_referral_email=True, daily_digest_email=False)
    ReferralSourceFactory(owner=user, next_ask_at=MONDAY_9_LONDON)
    type(user).objects.filter(pk=user.pk).update(
        email="wes@example.com\r\nBcc: everyone@evil.example"
    )

    reminders_plan()
    reminders_dispatch()

    assert mailoutbox == []
    reminder = Reminder.objects.get()
    assert reminder.status == ReminderStatus.FAILED
    assert "newline" in reminder.last_error.lower()
