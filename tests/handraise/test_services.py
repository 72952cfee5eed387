from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from handraise import notify
from handraise.models import HandRaise, NotifyStatus, PublicPage
from handraise.services import (
    embed_origins_clean,
    hand_raise_land,
    public_page_for,
    public_page_regenerate_token,
    public_page_update,
)
from leads.models import Activity, ActivityKind, FollowUp, FollowUpKind, Lead, Source, Stage
from leads.selectors import today_queue
from tests.factories import LeadFactory, UserFactory
from tests.waiting import wait_for

# Tuesday 1 December 2026, 10:00 in London.
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
CONSENT = "I agree that Sam may contact me about my request."


def land(public_page, **fields):
    values = {
        "name": "Dana Visitor",
        "email": "dana@visitor.example",
        "company": "Visitor Ltd",
        "message": "We need a CRM for 12 reps — can we talk this week?",
        "kind": ActivityKind.ASKED_FOR_INFO,
        "consent_text": CONSENT,
        "ip": "203.0.113.9",
        "user_agent": "Mozilla/5.0 (test)",
        "now": NOW,
    }
    return hand_raise_land(page=public_page, **{**values, **fields})


def test_each_salesperson_has_one_page_with_a_long_random_token(salesperson, other_salesperson):
    public_page = public_page_for(owner=salesperson)
    assert public_page_for(owner=salesperson) == public_page
    other = public_page_for(owner=other_salesperson)
    assert len(public_page.token) >= 40
    assert public_page.token != other.token
    assert public_page.booking_enabled is False


def test_regenerating_the_token_replaces_the_address(public_page):
    old = public_page.token
    public_page = public_page_regenerate_token(page=public_page)
    assert public_page.token != old
    assert not PublicPage.objects.filter(token=old).exists()


def test_the_page_keeps_the_intro_and_normalised_embed_origins(public_page):
    public_page = public_page_update(
        page=public_page,
        intro="  I help small teams sell.\n\nTell me what you need.  ",
        embed_origins="https://www.example.com/\n\nhttp://127.0.0.2:8123\nhttps://www.example.com",
    )
    assert public_page.intro == "I help small teams sell.\n\nTell me what you need."
    assert public_page.embed_origin_list == ["https://www.example.com", "http://127.0.0.2:8123"]


@pytest.mark.parametrize(
    "typed",
    [
        "example.com",
        "ftp://example.com",
        "https://example.com/contact",
        "https://*.example.com",
        "https://example.com; script-src *",
        "https://example.com 'unsafe-inline'",
        "javascript:alert(1)",
        "https://user@example.com",
        "https://example.com?x=1",
        'https://exa"mple.com',
    ],
)
def test_an_embed_origin_must_be_a_plain_http_origin(typed):
    with pytest.raises(ValidationError):
        embed_origins_clean(typed)


def test_a_new_visitor_becomes_an_engaged_hand_raiser_with_a_response_due_now(
    public_page, salesperson, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        hand_raise = land(public_page)

    lead = Lead.objects.get(owner=salesperson)
    assert (lead.first_name, lead.last_name, lead.email) == (
        "Dana",
        "Visitor",
        "dana@visitor.example",
    )
    assert lead.source == Source.HAND_RAISER
    assert lead.stage == Stage.ENGAGED
    assert lead.company.name == "Visitor Ltd"
    assert hand_raise.created_lead
    assert hand_raise.lead == lead
    activity = hand_raise.activity
    assert activity.kind == ActivityKind.ASKED_FOR_INFO
    assert activity.direction == "inbound"
    assert "12 reps" in activity.text
    # The consent text and the IP are kept with the activity.
    assert activity.hand_raise.consent_text == CONSENT
    assert activity.hand_raise.ip == "203.0.113.9"
    pending = FollowUp.objects.get(lead=lead, done_at__isnull=True)
    assert pending.kind == FollowUpKind.RESPOND
    assert pending.due_at == NOW
    assert pending.note.startswith("We need a CRM")
    lead.refresh_from_db()
    assert lead.scored_at is not None
    assert lead.intent_score > 0
    # The email is queued for after commit, not sent inside the transaction.
    assert len(callbacks) >= 1
    assert mail.outbox == []
    assert hand_raise.notify_status == NotifyStatus.PENDING


def test_a_known_email_lands_on_the_existing_lead_never_a_duplicate(public_page, salesperson):
    lead = LeadFactory(
        owner=salesperson, email="dana@visitor.example", stage=Stage.CONTACTED, source="referral"
    )
    first = land(public_page, email="  Dana@Visitor.EXAMPLE ", now=NOW)
    second = land(public_page, message="Also: pricing?", now=NOW + timedelta(minutes=5))

    assert Lead.objects.filter(owner=salesperson).count() == 1
    assert first.lead == second.lead == lead
    assert not first.created_lead
    lead.refresh_from_db()
    assert lead.stage == Stage.ENGAGED
    assert lead.source == "referral"
    signals = Activity.objects.filter(lead=lead, kind=ActivityKind.ASKED_FOR_INFO)
    assert signals.count() == 2
    pending = FollowUp.objects.filter(lead=lead, done_at__isnull=True)
    assert [(f.kind, f.due_at) for f in pending] == [(FollowUpKind.RESPOND, NOW)]
    assert pending[0].note == "Also: pricing?"


def test_another_salespersons_lead_with_that_email_is_not_matched(
    public_page, salesperson, other_salesperson
):
    theirs = LeadFactory(owner=other_salesperson, email="dana@visitor.example")
    hand_raise = land(public_page)
    assert hand_raise.lead != theirs
    assert hand_raise.lead.owner == salesperson
    assert theirs.activities.count() == 0


def test_a_booking_logs_booked_a_meeting(public_page, salesperson):
    hand_raise = land(public_page, kind=ActivityKind.BOOKED_MEETING, message="")
    assert hand_raise.activity.kind == ActivityKind.BOOKED_MEETING
    assert hand_raise.lead.stage == Stage.ENGAGED


def test_a_bad_email_or_kind_leaves_nothing_behind(public_page, salesperson):
    with pytest.raises(ValidationError):
        land(public_page, email="not an email")
    with pytest.raises(ValidationError):
        land(public_page, kind=ActivityKind.CALL)
    assert not Lead.objects.exists()
    assert not HandRaise.objects.exists()


def test_a_landed_hand_raise_is_at_the_top_of_today(public_page, salesperson, clock):
    clock(NOW)
    # Strong leads with overdue follow-ups and big deals: the fresh hand-raise still leads.
    for score in (95, 90, 85):
        strong = LeadFactory(owner=salesperson, expected_value=100_000)
        Lead.objects.filter(pk=strong.pk).update(
            total_score=score, next_follow_up_at=NOW - timedelta(days=3)
        )
    hand_raise = land(public_page)

    queue = today_queue(salesperson, now=NOW + timedelta(minutes=1))
    top = queue.items[0]
    assert top.lead == hand_raise.lead
    assert top.kind == "hand_raiser"
    assert top.follow_up.note.startswith("We need a CRM")


def test_the_salesperson_is_emailed_at_once_and_only_once(public_page, salesperson):
    hand_raise = land(public_page, message="<script>alert(1)</script> Call me")
    assert notify.hand_raise_notify_send(hand_raise_id=hand_raise.pk, now=NOW) == "sent"
    assert notify.hand_raise_notify_send(hand_raise_id=hand_raise.pk, now=NOW) == "already-claimed"
    assert notify.hand_raises_notify_due(now=NOW + timedelta(hours=1)) == 0

    [email] = mail.outbox
    assert email.to == [salesperson.email]
    assert email.reply_to == ["dana@visitor.example"]
    assert "Dana Visitor asked for info" in email.subject
    assert "<script>alert(1)</script> Call me" in email.body
    html = email.alternatives[0][0]
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Call me" in html
    assert "<script>" not in html
    hand_raise.refresh_from_db()
    assert hand_raise.notify_status == NotifyStatus.SENT
    assert hand_raise.notify_sent_at == NOW


def test_an_email_lost_by_the_broker_is_sent_by_the_sweep_and_retried_on_failure(
    public_page, salesperson, monkeypatch
):
    hand_raise = land(public_page)
    calls = []

    def refuse(self, fail_silently=False):
        calls.append(1)
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    assert notify.hand_raises_notify_due(now=NOW) == 0
    hand_raise.refresh_from_db()
    assert hand_raise.notify_status == NotifyStatus.PENDING
    assert hand_raise.notify_attempts == 1
    assert "mail server down" in hand_raise.notify_last_error
    assert hand_raise.notify_next_attempt_at > NOW

    monkeypatch.undo()
    later = NOW + timedelta(minutes=5)
    assert notify.hand_raises_notify_due(now=later) == 1
    assert len(mail.outbox) == 1
    assert len(calls) == 1


def test_a_send_left_half_done_by_a_dead_worker_is_claimed_again_later(public_page, salesperson):
    hand_raise = land(public_page)
    HandRaise.objects.filter(pk=hand_raise.pk).update(
        notify_status=NotifyStatus.SENDING, notify_claimed_at=NOW
    )
    assert notify.hand_raises_notify_due(now=NOW + timedelta(minutes=1)) == 0
    assert notify.hand_raises_notify_due(now=NOW + timedelta(minutes=20)) == 1
    assert len(mail.outbox) == 1


def test_a_real_worker_emails_the_salesperson_right_after_the_landing_commits(
    transactional_db, celery_worker
):
    owner = UserFactory(username="sam")
    public_page = public_page_for(owner=owner)
    hand_raise = hand_raise_land(
        page=public_page,
        name="Dana Visitor",
        email="dana@visitor.example",
        message="Call me",
        kind=ActivityKind.ASKED_FOR_INFO,
        consent_text=CONSENT,
        ip="203.0.113.9",
    )

    assert wait_for(
        lambda: HandRaise.objects.get(pk=hand_raise.pk).notify_status == "sent", timeout=30
    )
    [email] = mail.outbox
    assert email.to == [owner.email]
    assert "Call me" in email.body


def test_managers_read_hand_raises_in_the_admin(client, public_page, manager):
    hand_raise = land(public_page)
    client.force_login(manager)
    listing = client.get("/admin/handraise/handraise/")
    assert listing.status_code == 200
    assert "dana@visitor.example" in listing.content.decode()
    detail = client.get(f"/admin/handraise/handraise/{hand_raise.pk}/change/")
    assert CONSENT in detail.content.decode()
    assert "203.0.113.9" in detail.content.decode()


def test_a_salesperson_has_no_admin_view_of_hand_raises(client, public_page, salesperson):
    land(public_page)
    salesperson.is_staff = True
    salesperson.save()
    client.force_login(salesperson)
    assert client.get("/admin/handraise/handraise/").status_code == 403
