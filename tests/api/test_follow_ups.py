from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from leads.models import FollowUp
from tests.factories import FollowUpFactory, LeadFactory

FOLLOW_UPS = "/api/v1/follow-ups/"


def ids(response):
    return [row["id"] for row in response.json()["results"]]


@pytest.mark.django_db
def test_the_list_is_the_pending_follow_ups_soonest_first(api, salesperson, other_salesperson):
    now = timezone.now()
    later = FollowUpFactory(lead__owner=salesperson, due_at=now + timedelta(days=2))
    sooner = FollowUpFactory(lead__owner=salesperson, due_at=now - timedelta(days=1))
    FollowUpFactory(lead__owner=salesperson, due_at=now, done_at=now, resolution="done")
    FollowUpFactory(lead__owner=other_salesperson, due_at=now)

    response = api.get(FOLLOW_UPS)

    assert ids(response) == [sooner.pk, later.pk]
    assert response.json()["results"][0]["lead_name"] == sooner.lead.full_name
    assert ids(api.get(FOLLOW_UPS, {"due_before": now.isoformat()})) == [sooner.pk]
    assert ids(api.get(FOLLOW_UPS, {"lead": later.lead_id})) == [later.pk]


@pytest.mark.django_db
def test_completing_a_follow_up_returns_the_next_one(api, salesperson):
    lead = LeadFactory(owner=salesperson, stage="contacted")
    follow_up = FollowUpFactory(lead=lead, due_at=timezone.now())

    response = api.post(f"{FOLLOW_UPS}{follow_up.pk}/complete/")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["completed"]["id"] == follow_up.pk
    assert body["completed"]["resolution"] == "done"
    assert body["completed"]["done_at"] is not None
    pending = FollowUp.objects.get(lead=lead, done_at__isnull=True)
    assert body["next"]["id"] == pending.pk


@pytest.mark.django_db
def test_snoozing_pushes_the_due_time(api, salesperson):
    follow_up = FollowUpFactory(lead__owner=salesperson, due_at=timezone.now())

    response = api.post(f"{FOLLOW_UPS}{follow_up.pk}/snooze/", {"days": 7})

    assert response.status_code == 200, response.json()
    follow_up.refresh_from_db()
    assert follow_up.snooze_count == 1
    assert follow_up.due_at > timezone.now() + timedelta(days=6)
    assert response.json()["snooze_count"] == 1


@pytest.mark.django_db
@pytest.mark.parametrize("days", [0, 91, "soon"])
def test_snoozing_out_of_range_names_the_field(api, salesperson, days):
    follow_up = FollowUpFactory(lead__owner=salesperson)

    response = api.post(f"{FOLLOW_UPS}{follow_up.pk}/snooze/", {"days": days})

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"days"}


@pytest.mark.django_db
def test_snoozing_a_done_follow_up_is_a_400(api, salesperson):
    now = timezone.now()
    follow_up = FollowUpFactory(lead__owner=salesperson, done_at=now, resolution="done")

    response = api.post(f"{FOLLOW_UPS}{follow_up.pk}/snooze/")

    assert response.status_code == 400
    assert response.json() == {"error": "This follow-up is already done.", "fields": {}}


@pytest.mark.django_db
def test_get_on_a_create_only_action_is_405(api, salesperson):
    follow_up = FollowUpFactory(lead__owner=salesperson)

    response = api.get(f"{FOLLOW_UPS}{follow_up.pk}/complete/")

    assert response.status_code == 405
    assert response.json() == {"error": 'Method "GET" not allowed.', "fields": {}}
    assert "POST" in response["Allow"]


@pytest.mark.django_db
def test_planning_a_follow_up_replaces_the_pending_one(api, salesperson):
    lead = LeadFactory(owner=salesperson)
    old = FollowUpFactory(lead=lead)
    due = timezone.now() + timedelta(days=4)

    response = api.post(
        FOLLOW_UPS, {"lead": lead.pk, "due_at": due.isoformat(), "note": "Send the deck"}
    )

    assert response.status_code == 201, response.json()
    assert response.json()["kind"] == "custom"
    assert response.json()["created_by"] == salesperson.pk
    old.refresh_from_db()
    assert old.resolution == "superseded"
    lead.refresh_from_db()
    assert lead.next_follow_up_at == due


@pytest.mark.django_db
def test_a_follow_up_cant_be_planned_in_the_past(api, salesperson):
    lead = LeadFactory(owner=salesperson)
    past = (timezone.now() - timedelta(days=3)).isoformat()

    response = api.post(FOLLOW_UPS, {"lead": lead.pk, "due_at": past})

    assert response.status_code == 400
    assert response.json()["fields"] == {"due_at": ["Pick today or a day ahead."]}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "suffix"), [("get", ""), ("post", "complete/"), ("post", "snooze/")]
)
def test_another_salespersons_follow_up_is_404(api, other_salesperson, method, suffix):
    follow_up = FollowUpFactory(lead__owner=other_salesperson)

    response = getattr(api, method)(f"{FOLLOW_UPS}{follow_up.pk}/{suffix}")

    assert response.status_code == 404
    follow_up.refresh_from_db()
    assert (follow_up.done_at, follow_up.snooze_count) == (None, 0)
