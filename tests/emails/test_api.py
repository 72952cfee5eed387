from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.test import APIClient

from api import services as api_services
from emails.models import EmailSource
from emails.services import EmailFacts, email_log
from leads.models import Direction
from tests.factories import LeadFactory, UserFactory

SENT_AT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def api_for(user) -> APIClient:
    _, secret = api_services.api_token_create(user=user, name="tests")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def log(owner, lead, n, **fields):
    values = {
        "message_id": f"m{n}@mail.example",
        "direction": Direction.OUTBOUND,
        "source": EmailSource.SENT,
        "from_address": "sam@seller.example",
        "to_addresses": [lead.email],
        "sent_at": SENT_AT + timedelta(minutes=n),
        "subject": f"Subject {n}",
        "body_text": "<b>Hello</b>",
    }
    return email_log(owner=owner, lead=lead, facts=EmailFacts(**{**values, **fields}))


@pytest.fixture
def lead(salesperson):
    return LeadFactory(owner=salesperson, email="dana@buyer.example")


@pytest.mark.django_db
def test_a_leads_emails_are_listed_newest_first(salesperson, lead):
    first = log(salesperson, lead, 1)
    reply = log(salesperson, lead, 2, direction=Direction.INBOUND, thread_key=first.message_id)
    log(salesperson, LeadFactory(owner=salesperson), 3)  # another lead's

    response = api_for(salesperson).get(f"/api/v1/leads/{lead.pk}/emails/")

    assert response.status_code == 200
    results = response.json()["results"]
    assert [row["id"] for row in results] == [reply.pk, first.pk]
    assert results[0]["direction"] == "inbound"
    assert results[0]["thread_key"] == "m1@mail.example"
    assert results[1]["body_text"] == "<b>Hello</b>"  # JSON carries the text as stored
    assert results[1]["sent_at"] == "2026-12-01T10:01:00Z"


@pytest.mark.django_db
def test_one_email_is_read_by_id(salesperson, lead):
    email = log(salesperson, lead, 1)

    response = api_for(salesperson).get(f"/api/v1/emails/{email.pk}/")

    assert response.status_code == 200
    assert response.json()["subject"] == "Subject 1"
    assert response.json()["activity"] == email.activity_id


@pytest.mark.django_db
def test_another_owners_lead_and_email_answer_404_in_json(salesperson, lead):
    email = log(salesperson, lead, 1)
    alex = api_for(UserFactory(username="alex"))

    for url in (f"/api/v1/leads/{lead.pk}/emails/", f"/api/v1/emails/{email.pk}/"):
        response = alex.get(url)
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        assert json.loads(response.content)["error"].startswith("No ")
    assert alex.get("/api/v1/emails/").json()["results"] == []


@pytest.mark.django_db
def test_emails_are_read_only(salesperson, lead):
    email = log(salesperson, lead, 1)
    client = api_for(salesperson)

    assert client.post("/api/v1/emails/", {"subject": "x"}).status_code == 405
    assert client.patch(f"/api/v1/emails/{email.pk}/", {"subject": "x"}).status_code == 405
    assert client.delete(f"/api/v1/emails/{email.pk}/").status_code == 405


@pytest.mark.django_db
def test_the_api_needs_a_token(lead):
    assert APIClient().get(f"/api/v1/leads/{lead.pk}/emails/").status_code == 401


@pytest.mark.django_db
def test_the_list_reads_a_fixed_number_of_queries(salesperson, lead, django_assert_num_queries):
    for n in range(30):
        log(salesperson, lead, n)
    client = api_for(salesperson)

    # The token (with its user), its last-used time, the manager check, the lead's visibility,
    # the page of emails: however many emails.
    with django_assert_num_queries(5):
        response = client.get(f"/api/v1/leads/{lead.pk}/emails/")

    assert len(response.json()["results"]) == 30


@pytest.mark.django_db
def test_the_schema_documents_the_email_endpoints(salesperson):
    schema = api_for(salesperson).get("/api/v1/openapi.json").json()

    assert schema["paths"]["/api/v1/leads/{id}/emails/"]["get"]["summary"] == (
        "List a lead's emails"
    )
    assert "/api/v1/emails/{id}/" in schema["paths"]
    assert "post" not in schema["paths"]["/api/v1/emails/"]
