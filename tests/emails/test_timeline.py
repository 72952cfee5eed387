from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from emails.models import EmailSource
from emails.selectors import lead_email_threads
from emails.services import EmailFacts, email_log
from leads.models import Direction
from tests.factories import LeadFactory

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def lead(salesperson):
    return LeadFactory(owner=salesperson, first_name="Dana", email="dana@buyer.example")


def log(owner, lead, n, *, thread="", direction=Direction.OUTBOUND, body="Hello", subject=""):
    return email_log(
        owner=owner,
        lead=lead,
        facts=EmailFacts(
            message_id=f"m{n}@mail.example",
            thread_key=thread,
            direction=direction,
            source=EmailSource.CAPTURE,
            from_address="dana@buyer.example" if direction == Direction.INBOUND else "sam@x",
            to_addresses=["dana@buyer.example"],
            sent_at=START + timedelta(hours=n),
            subject=subject or f"Subject {n}",
            body_text=body,
        ),
    )


@pytest.mark.django_db
def test_emails_are_threaded_by_conversation_newest_conversation_first(salesperson, lead):
    log(salesperson, lead, 1, subject="Rollout")
    log(salesperson, lead, 2, subject="Pricing")
    log(salesperson, lead, 3, thread="m1@mail.example", direction=Direction.INBOUND)

    with CaptureQueriesContext(connection) as queries:
        threads = lead_email_threads(lead)

    assert len(queries) == 1
    assert [thread.subject for thread in threads] == ["Rollout", "Pricing"]
    assert [email.message_id for email in threads[0].emails] == [
        "m1@mail.example",
        "m3@mail.example",
    ]
    assert threads[0].received == 1


@pytest.mark.django_db
def test_the_timeline_shows_a_thread_once_with_direction_local_time_and_escaped_body(
    sam_client, salesperson, lead
):
    salesperson.time_zone = "America/New_York"
    salesperson.save()
    log(salesperson, lead, 1, subject="Rollout", body="<script>alert(1)</script>\nLine two")
    log(salesperson, lead, 2, thread="m1@mail.example", direction=Direction.INBOUND, body="Yes!")

    html = sam_client.get(reverse("lead-detail", args=[lead.pk])).content.decode()

    assert html.count('class="timeline-email-thread"') == 1
    # The email touch is shown by its thread, not a second time as an activity.
    assert "<strong>Email</strong> · Rollout" in html
    assert ">Sent</span>" in html
    assert ">Received</span>" in html
    # 10:00 UTC on 2 November is 05:00 in New York.
    assert "2 Nov 2026, 05:00" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)</script>" not in html
    assert "<details>" in html  # the body opens on demand


@pytest.mark.django_db
def test_the_lead_page_reads_emails_in_one_query_however_many(sam_client, salesperson, lead):
    url = reverse("lead-detail", args=[lead.pk])
    log(salesperson, lead, 0)
    sam_client.get(url)  # warm caches (sessions, content types)
    with CaptureQueriesContext(connection) as one_email:
        sam_client.get(url)
    for n in range(1, 60):
        log(salesperson, lead, n, thread=f"m{n % 6}@mail.example" if n > 6 else "")
    with CaptureQueriesContext(connection) as many_emails:
        response = sam_client.get(url)

    assert response.content.decode().count('class="timeline-email-thread"') == 7
    assert len(many_emails) == len(one_email)


@pytest.mark.django_db
def test_the_timeline_region_alone_has_a_pinned_query_count(
    sam_client, salesperson, lead, django_assert_num_queries
):
    for n in range(40):
        log(salesperson, lead, n, thread="m0@mail.example" if n else "")

    with django_assert_num_queries(9):
        response = sam_client.get(
            reverse("lead-detail", args=[lead.pk]) + "?region=lead-timeline",
            headers={"HX-Request": "true"},
        )

    assert response.content.decode().count("email-message email-") == 40
