from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from leads.models import FollowUpKind
from reminders.emails import one_line
from reminders.models import Reminder, ReminderKind
from reminders.services import reminders_dispatch, reminders_plan
from tests.factories import (
    CompanyFactory,
    FollowUpFactory,
    LeadFactory,
    ReferralSourceFactory,
    UserFactory,
)
from tests.reminders.conftest import MONDAY_9_LONDON, SITE_URL

pytestmark = pytest.mark.django_db

LINK = re.compile(re.escape(SITE_URL) + r"/e/[^/\s\"<]+/")
NASTY = '<script>alert("x")</script>'


def send_now(clock, moment=MONDAY_9_LONDON):
    clock(moment)
    reminders_plan()
    reminders_dispatch()


def html_of(email) -> str:
    [(html, mimetype)] = email.alternatives
    assert mimetype == "text/html"
    return html


# --- Weekly referral reminder --------------------------------------------------------------


@pytest.fixture
def sources(clock, salesperson):
    clock(MONDAY_9_LONDON - timedelta(days=200))
    dana = ReferralSourceFactory(
        owner=salesperson,
        name="Dana Smith",
        strength=5,
        last_asked_at=MONDAY_9_LONDON - timedelta(days=95),
        next_ask_at=MONDAY_9_LONDON - timedelta(days=5),
    )
    LeadFactory.create_batch(2, owner=salesperson, referred_by=dana)
    ReferralSourceFactory(owner=salesperson, name="Bo Lee", strength=2, next_ask_at=MONDAY_9_LONDON)
    ReferralSourceFactory(
        owner=salesperson, name="Ana Ruiz", strength=4, next_ask_at=MONDAY_9_LONDON
    )
    # Not this week: asked recently, or opted out, or someone else's.
    ReferralSourceFactory(
        owner=salesperson, name="Asked Lately", next_ask_at=MONDAY_9_LONDON + timedelta(days=30)
    )
    ReferralSourceFactory(owner=salesperson, name="No Thanks", opted_out=True)
    ReferralSourceFactory(
        owner=UserFactory(username="alex", weekly_referral_email=False, daily_digest_email=False),
        name="Not Yours",
        next_ask_at=MONDAY_9_LONDON,
    )


def test_the_weekly_email_lists_who_to_ask_best_first(sources, clock, mailoutbox):
    send_now(clock)

    [email] = mailoutbox
    assert email.subject == "Who to ask for a referral this week (3)"
    assert email.from_email == "LeadHunter <leadhunter@localhost>"
    assert email.to == ["sam@example.com"]
    text, html = email.body, html_of(email)
    for part in (text, html):
        positions = [part.index(name) for name in ("Dana Smith", "Ana Ruiz", "Bo Lee")]
        assert positions == sorted(positions)
        for absent in ("Asked Lately", "No Thanks", "Not Yours"):
            assert absent not in part
    assert "Relationship 5/5 · 2 referred leads so far · last asked 95 days ago" in text
    assert "never asked" in text
    assert "I asked them" in html


def test_each_person_has_their_own_absolute_one_click_link(sources, clock, mailoutbox):
    send_now(clock)

    [email] = mailoutbox
    text_links = LINK.findall(email.body)
    html_links = LINK.findall(html_of(email))
    assert len(text_links) == len(set(text_links)) == 3
    assert len(html_links) == 3


def test_the_html_part_escapes_what_users_typed(clock, salesperson, mailoutbox):
    clock(MONDAY_9_LONDON)
    ReferralSourceFactory(owner=salesperson, name=NASTY, next_ask_at=MONDAY_9_LONDON)
    send_now(clock)

    [email] = mailoutbox
    html = html_of(email)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert NASTY in email.body  # the plain-text part shows it as typed


def test_the_email_carries_a_stable_message_id(sources, clock, mailoutbox):
    send_now(clock)

    [email] = mailoutbox
    reminder = Reminder.objects.get()
    assert email.extra_headers["Message-ID"] == f"<reminder-{reminder.pk}.2026-W49@crm.example.com>"
    assert email.message()["Auto-Submitted"] == "auto-generated"


def test_subjects_are_always_one_line():
    assert one_line("Who to ask\r\nBcc: everyone@example.com") == (
        "Who to ask Bcc: everyone@example.com"
    )
    assert one_line("tab\there\x00") == "tab here"


# --- Daily digest --------------------------------------------------------------------------


@pytest.fixture
def digest_user(db):
    return UserFactory(
        username="dee",
        first_name="Dee",
        time_zone="Europe/London",
        daily_digest_email=True,
        weekly_referral_email=False,
    )


@pytest.fixture
def day_of_work(clock, digest_user):
    """Monday 30 November in London: 2 overdue, 3 due today, 1 tomorrow, 1 new hand-raiser."""
    clock(MONDAY_9_LONDON - timedelta(days=7))
    acme = CompanyFactory(owner=digest_user, name="Acme")
    for days_ago, name in ((3, "Olga Overdue"), (1, "Otto Overdue")):
        lead = LeadFactory(owner=digest_user, first_name=name.split()[0], last_name="Overdue")
        FollowUpFactory(lead=lead, due_at=MONDAY_9_LONDON - timedelta(days=days_ago))
    for hour, first_name in ((9, "Tia"), (11, "Tom"), (16, "Tess")):
        lead = LeadFactory(
            owner=digest_user, first_name=first_name, last_name="Today", company=acme
        )
        FollowUpFactory(
            lead=lead,
            kind=FollowUpKind.FIRST_TOUCH,
            due_at=datetime(2026, 11, 30, hour, 0, tzinfo=UTC),
            note="Mention the case study",
        )
    tomorrow = LeadFactory(owner=digest_user, first_name="Tim", last_name="Tomorrow")
    FollowUpFactory(lead=tomorrow, due_at=MONDAY_9_LONDON + timedelta(days=1))
    LeadFactory(
        owner=digest_user,
        first_name="Hana",
        last_name="Hand",
        stage="engaged",
        phone="+442071234567",
        last_inbound_at=MONDAY_9_LONDON - timedelta(hours=40),  # Saturday: Monday covers it
    )
    LeadFactory(
        owner=digest_user,
        first_name="Already",
        last_name="Answered",
        stage="engaged",
        last_inbound_at=MONDAY_9_LONDON - timedelta(hours=10),
        last_contacted_at=MONDAY_9_LONDON - timedelta(hours=2),
    )
    FollowUpFactory(
        lead=LeadFactory(
            owner=UserFactory(username="alex", daily_digest_email=False),
            first_name="Someone",
            last_name="Else",
        ),
        due_at=MONDAY_9_LONDON,
    )


def test_the_digest_lists_overdue_and_due_today_follow_ups_and_new_hand_raisers(
    day_of_work, clock, mailoutbox
):
    send_now(clock, datetime(2026, 11, 30, 7, 30, tzinfo=UTC))

    [email] = mailoutbox
    assert email.subject == (
        "Your follow-ups for Monday 30 November: 3 due, 2 overdue, 1 new hand-raiser"
    )
    text, html = email.body, html_of(email)
    for part in (text, html):
        positions = [part.index(name) for name in ("Olga", "Otto", "Tia", "Tom", "Tess", "Hana")]
        assert positions == sorted(positions)
        for absent in ("Tim Tomorrow", "Already Answered", "Someone Else"):
            assert absent not in part
        assert "Mention the case study" in part
        assert "Acme" in part
    assert "OVERDUE" in text
    assert "DUE TODAY" in text
    assert "Mon 30 Nov, 16:00" in text  # in the user's time zone
    assert len(LINK.findall(text)) == 5 * 3
    for label in ("Done", "Snooze 3 days", "Log a call"):
        assert html.count(f">{label}</a>") == 5


def test_the_digest_shows_times_in_the_users_time_zone(clock, mailoutbox):
    user = UserFactory(
        username="tokyo",
        time_zone="Asia/Tokyo",
        daily_digest_email=True,
        weekly_referral_email=False,
    )
    clock(datetime(2026, 11, 29, 20, 0, tzinfo=UTC))
    FollowUpFactory(
        lead=LeadFactory(owner=user, first_name="Yui"),
        due_at=datetime(2026, 11, 30, 1, 0, tzinfo=UTC),  # 10:00 in Tokyo
    )
    send_now(clock, datetime(2026, 11, 29, 22, 30, tzinfo=UTC))  # 07:30 Monday in Tokyo

    [email] = mailoutbox
    assert email.subject.startswith("Your follow-ups for Monday 30 November: 1 due, 0 overdue")
    assert "Mon 30 Nov, 10:00" in email.body


def test_the_digest_escapes_lead_names(clock, digest_user, mailoutbox):
    clock(MONDAY_9_LONDON)
    lead = LeadFactory(owner=digest_user, first_name=NASTY, last_name="")
    FollowUpFactory(lead=lead, due_at=MONDAY_9_LONDON)
    send_now(clock)

    html = html_of(mailoutbox[0])
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_a_day_with_nothing_to_do_sends_no_digest(clock, digest_user, mailoutbox):
    send_now(clock)

    assert mailoutbox == []
    assert Reminder.objects.get(kind=ReminderKind.DAILY_DIGEST).status == "skipped"


def test_a_long_backlog_is_cut_short_with_a_pointer_to_the_app(
    clock, digest_user, mailoutbox, monkeypatch
):
    monkeypatch.setattr("reminders.emails.DIGEST_MAX_FOLLOW_UPS", 2)
    clock(MONDAY_9_LONDON)
    for lead in LeadFactory.create_batch(5, owner=digest_user):
        FollowUpFactory(lead=lead, due_at=MONDAY_9_LONDON)
    send_now(clock)

    [email] = mailoutbox
    assert email.subject.startswith("Your follow-ups for Monday 30 November: 5 due")
    assert "…and 3 more in LeadHunter" in email.body
    assert len(LINK.findall(email.body)) == 2 * 3


# --- How to reach each person --------------------------------------------------------------


def test_the_weekly_email_gives_the_phone_and_email_of_each_source(clock, salesperson, mailoutbox):
    clock(MONDAY_9_LONDON - timedelta(days=60))
    customer = LeadFactory(
        owner=salesperson,
        first_name="Cara",
        last_name="Customer",
        phone="+44 20 7946 0001",
        email="cara@customer.example",
    )
    ReferralSourceFactory(
        owner=salesperson,
        name="Cara Customer",
        email="",  # reached through her lead's details
        lead=customer,
        next_ask_at=MONDAY_9_LONDON,
    )
    ReferralSourceFactory(
        owner=salesperson,
        name="Pat Partner",
        email="pat@partner.example",
        next_ask_at=MONDAY_9_LONDON,
    )

    send_now(clock)

    [email] = mailoutbox
    for part in (email.body, html_of(email)):
        assert "+44 20 7946 0001" in part
        assert "cara@customer.example" in part
        assert "pat@partner.example" in part
    assert "Phone: +44 20 7946 0001" in email.body
    assert 'href="mailto:pat@partner.example"' in html_of(email)
    assert 'href="tel:+44 20 7946 0001"' in html_of(email)


def test_the_digest_gives_the_phone_and_email_of_each_lead_to_follow_up(
    clock, digest_user, mailoutbox
):
    clock(MONDAY_9_LONDON - timedelta(days=2))
    lead = LeadFactory(
        owner=digest_user,
        first_name="Fay",
        last_name="Follow",
        phone="+44 161 496 0002",
        email="fay@follow.example",
    )
    FollowUpFactory(lead=lead, due_at=MONDAY_9_LONDON)

    send_now(clock, datetime(2026, 11, 30, 7, 30, tzinfo=UTC))

    [email] = mailoutbox
    assert "Phone: +44 161 496 0002" in email.body
    assert "Email: fay@follow.example" in email.body
    assert 'href="tel:+44 161 496 0002"' in html_of(email)
    assert 'href="mailto:fay@follow.example"' in html_of(email)
