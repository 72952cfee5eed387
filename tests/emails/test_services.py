from __future__ import annotations

from datetime import UTC, datetime

import pytest

from emails.models import Email, EmailSource
from emails.services import EmailFacts, email_log
from leads.models import Activity, ActivityKind, Direction, FollowUpKind
from tests.factories import LeadFactory

SENT_AT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def facts(**fields) -> EmailFacts:
    values = {
        "message_id": "abc@mail.example",
        "direction": Direction.OUTBOUND,
        "source": EmailSource.CAPTURE,
        "from_address": "sam@seller.example",
        "to_addresses": ["dana@buyer.example"],
        "sent_at": SENT_AT,
        "subject": "Your rollout plan",
        "body_text": "Hi Dana, here is the plan.",
    }
    return EmailFacts(**{**values, **fields})


@pytest.fixture
def lead(salesperson):
    return LeadFactory(owner=salesperson, email="dana@buyer.example")


@pytest.mark.django_db
def test_an_email_is_logged_once_per_lead_whichever_road_brings_it_again(salesperson, lead):
    first = email_log(owner=salesperson, lead=lead, facts=facts())
    again = email_log(
        owner=salesperson, lead=lead, facts=facts(source=EmailSource.MAILBOX, subject="Re-read")
    )

    assert first is not None
    assert again is None
    assert Email.objects.get().subject == "Your rollout plan"
    assert Activity.objects.filter(lead=lead).count() == 1


@pytest.mark.django_db
def test_an_outbound_email_is_an_email_touch_on_the_timeline(salesperson, lead):
    email = email_log(owner=salesperson, lead=lead, facts=facts())

    assert email is not None
    assert email.activity is not None
    assert email.activity.kind == ActivityKind.EMAIL
    assert email.activity.direction == Direction.OUTBOUND
    assert email.activity.text == "Your rollout plan"
    assert email.thread_key == "abc@mail.example"


@pytest.mark.django_db
def test_a_reply_from_the_lead_is_a_replied_signal_with_a_follow_up_to_respond(salesperson, lead):
    email = email_log(
        owner=salesperson,
        lead=lead,
        facts=facts(
            message_id="reply@buyer.example",
            direction=Direction.INBOUND,
            from_address="dana@buyer.example",
            thread_key="abc@mail.example",
        ),
    )

    assert email is not None
    assert email.activity is not None
    assert email.activity.kind == ActivityKind.REPLIED
    assert email.thread_key == "abc@mail.example"
    lead.refresh_from_db()
    assert lead.follow_ups.get(done_at=None).kind == FollowUpKind.RESPOND


@pytest.mark.django_db
def test_an_auto_reply_is_stored_but_is_no_signal(salesperson, lead):
    email = email_log(
        owner=salesperson,
        lead=lead,
        facts=facts(
            message_id="ooo@buyer.example", direction=Direction.INBOUND, is_auto_reply=True
        ),
    )

    assert email is not None
    assert email.activity is None
    assert not Activity.objects.filter(lead=lead).exists()


@pytest.mark.django_db
def test_a_body_over_the_limit_is_cut_and_says_so(salesperson, lead):
    from emails import models

    email = email_log(
        owner=salesperson, lead=lead, facts=facts(body_text="x" * (models.BODY_MAX_CHARS + 5))
    )

    assert email is not None
    assert len(email.body_text) == models.BODY_MAX_CHARS
    assert email.body_truncated
