from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from leads.models import Activity
from tests.factories import ActivityFactory, LeadFactory

ACTIVITIES = "/api/v1/activities/"


def ids(response):
    return [row["id"] for row in response.json()["results"]]


@pytest.mark.django_db
def test_logging_a_call_goes_through_activity_log(api, salesperson):
    lead = LeadFactory(owner=salesperson, stage="new")

    response = api.post(
        ACTIVITIES, {"lead": lead.pk, "kind": "call", "outcome": "no_answer", "text": " Rang "}
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["kind"], body["direction"], body["user"], body["text"]) == (
        "call",
        "outbound",
        salesperson.pk,
        "Rang",
    )
    lead.refresh_from_db()
    assert lead.stage == "contacted"  # the service moved it along
    assert lead.last_contacted_at is not None


@pytest.mark.django_db
def test_a_hand_raise_defaults_to_inbound_and_engages_the_lead(api, salesperson):
    lead = LeadFactory(owner=salesperson, stage="contacted")

    response = api.post(ACTIVITIES, {"lead": lead.pk, "kind": "asked_for_demo"})

    assert response.json()["direction"] == "inbound"
    lead.refresh_from_db()
    assert lead.stage == "engaged"


@pytest.mark.django_db
def test_user_posted_is_ignored(api, salesperson, other_salesperson):
    lead = LeadFactory(owner=salesperson)

    response = api.post(ACTIVITIES, {"lead": lead.pk, "kind": "note", "user": other_salesperson.pk})

    assert Activity.objects.get(pk=response.json()["id"]).user == salesperson


@pytest.mark.django_db
def test_a_referral_ask_is_recorded_on_its_source_not_here(api, salesperson):
    lead = LeadFactory(owner=salesperson)

    response = api.post(ACTIVITIES, {"lead": lead.pk, "kind": "referral_ask"})

    assert response.status_code == 400
    assert "referral-sources" in response.json()["fields"]["kind"][0]


@pytest.mark.django_db
def test_an_activity_dated_days_ahead_is_refused(api, salesperson):
    lead = LeadFactory(owner=salesperson)
    later = (timezone.now() + timedelta(days=3)).isoformat()

    response = api.post(ACTIVITIES, {"lead": lead.pk, "kind": "call", "occurred_at": later})

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"occurred_at"}


@pytest.mark.django_db
def test_the_list_is_all_visible_activities_or_one_leads(api, salesperson, other_salesperson):
    first, second = LeadFactory(owner=salesperson), LeadFactory(owner=salesperson)
    a = ActivityFactory(lead=first)
    b = ActivityFactory(lead=second, kind="email")
    ActivityFactory(lead__owner=other_salesperson)

    assert ids(api.get(ACTIVITIES)) == [b.pk, a.pk]
    assert ids(api.get(ACTIVITIES, {"lead": first.pk})) == [a.pk]
    assert ids(api.get(ACTIVITIES, {"kind": "email"})) == [b.pk]


@pytest.mark.django_db
def test_another_salespersons_activity_is_404(api, other_salesperson):
    activity = ActivityFactory(lead__owner=other_salesperson)

    response = api.get(f"{ACTIVITIES}{activity.pk}/")

    assert response.status_code == 404
    assert response.json()["error"] == f"No activity with id {activity.pk}."


@pytest.mark.django_db
def test_logging_on_another_salespersons_lead_is_refused(api, other_salesperson):
    lead = LeadFactory(owner=other_salesperson)

    response = api.post(ACTIVITIES, {"lead": lead.pk, "kind": "call"})

    assert response.status_code == 400
    assert response.json()["fields"] == {"lead": [f"No lead with id {lead.pk}."]}
    assert not Activity.objects.exists()


@pytest.mark.django_db
def test_a_manager_sees_the_teams_activities(api_for, manager, salesperson):
    activity = ActivityFactory(lead__owner=salesperson)

    response = api_for(manager).get(f"{ACTIVITIES}{activity.pk}/")

    assert response.status_code == 200


@pytest.mark.django_db
def test_activities_cant_be_changed_or_deleted(api, salesperson):
    activity = ActivityFactory(lead__owner=salesperson)

    assert api.patch(f"{ACTIVITIES}{activity.pk}/", {"text": "x"}).status_code == 405
    assert api.delete(f"{ACTIVITIES}{activity.pk}/").status_code == 405
