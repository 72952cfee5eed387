"""A lead marked "do not contact" is left out of the reminder emails when they are sent.

The reminder row is planned (and may be claimed) well before the email is composed; the flag
is read when composing, right before sending, so setting it in between is enough.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from leads import services as lead_services
from reminders import services as reminder_services
from reminders.models import Reminder, ReminderKind, ReminderStatus
from reminders.services import SendOutcome, reminder_send, reminders_plan
from tests.factories import FollowUpFactory, LeadFactory, ReferralSourceFactory, UserFactory
from tests.reminders.conftest import MONDAY_9_LONDON

pytestmark = pytest.mark.django_db


def everything_sent(email) -> str:
    [(html, _)] = email.alternatives
    return f"{email.subject}\n{email.body}\n{html}"


def mark_do_not_contact(lead) -> None:
    lead_services.lead_update(lead=lead, user=lead.owner, do_not_contact=True)


# --- Daily digest --------------------------------------------------------------------------


@pytest.fixture
def digest_user(db):
    return UserFactory(
        username="dee",
        time_zone="Europe/London",
        daily_digest_email=True,
        weekly_referral_email=False,
    )


def mentions(text: str, name: str) -> bool:
    """`name` as a word: the signed links are random letters, and once held "…cRaeL…"."""
    return re.search(rf"(?<![\w-]){name}(?![\w-])", text) is not None


def planned_digest(clock, user) -> Reminder:
    clock(MONDAY_9_LONDON)
    assert reminders_plan() == 1
    return Reminder.objects.get(user=user, kind=ReminderKind.DAILY_DIGEST)


def test_a_lead_marked_after_the_digest_was_planned_is_not_in_it(clock, digest_user, mailoutbox):
    clock(MONDAY_9_LONDON - timedelta(days=3))
    quiet = LeadFactory(owner=digest_user, first_name="Quinn", last_name="Quiet")
    FollowUpFactory(lead=quiet, due_at=MONDAY_9_LONDON - timedelta(hours=2))
    busy = LeadFactory(owner=digest_user, first_name="Bea", last_name="Busy")
    FollowUpFactory(lead=busy, due_at=MONDAY_9_LONDON - timedelta(hours=1))
    # A hand-raiser waiting for an answer, marked too.
    raiser = LeadFactory(
        owner=digest_user,
        first_name="Rae",
        last_name="Raiser",
        last_inbound_at=MONDAY_9_LONDON - timedelta(hours=12),
    )
    reminder = planned_digest(clock, digest_user)

    mark_do_not_contact(quiet)
    mark_do_not_contact(raiser)
    outcome = reminder_send(reminder_id=reminder.pk)

    assert outcome == SendOutcome.SENT
    [email] = mailoutbox
    sent = everything_sent(email)
    assert "Bea Busy" in sent
    for marked in ("Quinn", "Quiet", "Rae", "Raiser"):
        assert not mentions(sent, marked), marked
    # The counts in the subject leave them out too.
    assert "1 due, 0 overdue, 0 new hand-raisers" in email.subject


def test_a_digest_with_only_do_not_contact_leads_is_not_sent(clock, digest_user, mailoutbox):
    clock(MONDAY_9_LONDON - timedelta(days=3))
    quiet = LeadFactory(owner=digest_user, first_name="Quinn", last_name="Quiet")
    FollowUpFactory(lead=quiet, due_at=MONDAY_9_LONDON - timedelta(hours=2))
    reminder = planned_digest(clock, digest_user)

    mark_do_not_contact(quiet)
    outcome = reminder_send(reminder_id=reminder.pk)

    assert outcome == SendOutcome.SKIPPED
    assert mailoutbox == []
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.SKIPPED


def test_the_flag_set_while_the_reminder_is_claimed_still_counts(
    clock, digest_user, mailoutbox, monkeypatch
):
    """The flag is set after the row was claimed, just before the email is composed."""
    clock(MONDAY_9_LONDON - timedelta(days=3))
    quiet = LeadFactory(owner=digest_user, first_name="Quinn", last_name="Quiet")
    FollowUpFactory(lead=quiet, due_at=MONDAY_9_LONDON - timedelta(hours=2))
    busy = LeadFactory(owner=digest_user, first_name="Bea", last_name="Busy")
    FollowUpFactory(lead=busy, due_at=MONDAY_9_LONDON - timedelta(hours=1))
    reminder = planned_digest(clock, digest_user)
    still_wanted = reminder_services._still_wanted

    def flag_while_claimed(claimed: Reminder) -> bool:
        assert Reminder.objects.get(pk=claimed.pk).status == ReminderStatus.SENDING
        mark_do_not_contact(quiet)
        return still_wanted(claimed)

    monkeypatch.setattr(reminder_services, "_still_wanted", flag_while_claimed)

    assert reminder_send(reminder_id=reminder.pk) == SendOutcome.SENT

    [email] = mailoutbox
    assert "Bea Busy" in everything_sent(email)
    assert "Quinn" not in everything_sent(email)


# --- Weekly referral asks ------------------------------------------------------------------


def test_a_customer_marked_do_not_contact_is_not_suggested_for_a_referral_ask(
    clock, salesperson, mailoutbox
):
    clock(MONDAY_9_LONDON - timedelta(days=60))
    customer = LeadFactory(owner=salesperson, first_name="Cara", last_name="Customer")
    ReferralSourceFactory(
        owner=salesperson, name="Cara Customer", lead=customer, next_ask_at=MONDAY_9_LONDON
    )
    ReferralSourceFactory(owner=salesperson, name="Pat Partner", next_ask_at=MONDAY_9_LONDON)
    clock(MONDAY_9_LONDON)
    assert reminders_plan() == 1
    reminder = Reminder.objects.get(user=salesperson)

    mark_do_not_contact(customer)
    assert reminder_send(reminder_id=reminder.pk) == SendOutcome.SENT

    [email] = mailoutbox
    sent = everything_sent(email)
    assert "Pat Partner" in sent
    assert not mentions(sent, "Cara")
    assert email.subject == "Who to ask for a referral this week (1)"


def test_a_weekly_email_left_with_nobody_to_ask_is_not_sent(clock, salesperson, mailoutbox):
    clock(MONDAY_9_LONDON - timedelta(days=60))
    customer = LeadFactory(owner=salesperson, first_name="Cara", last_name="Customer")
    ReferralSourceFactory(
        owner=salesperson, name="Cara Customer", lead=customer, next_ask_at=MONDAY_9_LONDON
    )
    clock(MONDAY_9_LONDON)
    assert reminders_plan() == 1
    reminder = Reminder.objects.get(user=salesperson)

    mark_do_not_contact(customer)

    assert reminder_send(reminder_id=reminder.pk) == SendOutcome.SKIPPED
    assert mailoutbox == []
