from __future__ import annotations

import pytest

from leads.models import Activity
from referrals.models import ReferralAsk, ReferralSource
from tests.factories import LeadFactory, ReferralSourceFactory

SOURCES = "/api/v1/referral-sources/"
ASKS = "/api/v1/referral-asks/"


def ids(response):
    return [row["id"] for row in response.json()["results"]]


@pytest.mark.django_db
def test_sources_list_only_the_users(api, salesperson, other_salesperson):
    mine = ReferralSourceFactory(owner=salesperson)
    opted_out = ReferralSourceFactory(owner=salesperson, opted_out=True)
    ReferralSourceFactory(owner=other_salesperson)

    assert ids(api.get(SOURCES)) == [opted_out.pk, mine.pk]
    assert ids(api.get(SOURCES, {"opted_out": "false"})) == [mine.pk]


@pytest.mark.django_db
def test_creating_a_source(api, salesperson, other_salesperson):
    lead = LeadFactory(owner=salesperson, stage="won")

    response = api.post(
        SOURCES,
        {
            "name": " Grace ",
            "email": "GRACE@example.com",
            "kind": "customer",
            "lead": lead.pk,
            "strength": 5,
            "owner": other_salesperson.pk,
            "last_asked_at": "2020-01-01T00:00:00Z",
        },
    )

    assert response.status_code == 201, response.json()
    source = ReferralSource.objects.get(pk=response.json()["id"])
    assert (source.owner, source.name, source.email, source.lead) == (
        salesperson,
        "Grace",
        "grace@example.com",
        lead,
    )
    assert source.last_asked_at is None
    assert response.json()["next_ask_at"] is not None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Grace", "strength": 6}, "strength"),
        ({"name": "Grace", "ask_cadence_days": 3}, "ask_cadence_days"),
        ({"name": ""}, "name"),
        ({"name": "Grace", "kind": "enemy"}, "kind"),
    ],
)
def test_invalid_sources_are_refused_by_field(api, body, field):
    response = api.post(SOURCES, body)

    assert response.status_code == 400
    assert field in response.json()["fields"]


@pytest.mark.django_db
def test_a_source_for_another_salespersons_lead_is_refused(api, other_salesperson):
    lead = LeadFactory(owner=other_salesperson)

    response = api.post(SOURCES, {"name": "Grace", "lead": lead.pk})

    assert response.status_code == 400
    assert response.json()["fields"] == {"lead": [f"No lead with id {lead.pk}."]}


@pytest.mark.django_db
def test_updating_a_source(api, salesperson):
    source = ReferralSourceFactory(owner=salesperson, strength=2)

    response = api.patch(f"{SOURCES}{source.pk}/", {"strength": 4, "opted_out": True})

    assert response.status_code == 200, response.json()
    source.refresh_from_db()
    assert (source.strength, source.opted_out) == (4, True)


@pytest.mark.django_db
def test_recording_an_ask(api, salesperson):
    customer = LeadFactory(owner=salesperson, stage="won")
    source = ReferralSourceFactory(owner=salesperson, lead=customer, ask_cadence_days=60)

    response = api.post(f"{SOURCES}{source.pk}/asks/", {"channel": "call", "note": "At lunch"})

    assert response.status_code == 201, response.json()
    ask = ReferralAsk.objects.get(pk=response.json()["id"])
    assert (ask.source, ask.asked_by, ask.channel, ask.outcome) == (
        source,
        salesperson,
        "call",
        "pending",
    )
    source.refresh_from_db()
    assert source.last_asked_at == ask.asked_at
    assert Activity.objects.filter(lead=customer, kind="referral_ask").exists()


@pytest.mark.django_db
def test_asking_a_source_that_opted_out_is_a_400(api, salesperson):
    source = ReferralSourceFactory(owner=salesperson, name="Grace", opted_out=True)

    response = api.post(f"{SOURCES}{source.pk}/asks/", {})

    assert response.status_code == 400
    assert response.json() == {"error": "Grace opted out of referral asks.", "fields": {}}


@pytest.mark.django_db
def test_asks_are_listed_and_their_outcome_recorded(api, salesperson, other_salesperson):
    source = ReferralSourceFactory(owner=salesperson)
    ask_id = api.post(f"{SOURCES}{source.pk}/asks/", {}).json()["id"]
    other_source = ReferralSourceFactory(owner=other_salesperson)
    ReferralAsk.objects.create(source=other_source, asked_at=source.created_at)

    assert ids(api.get(ASKS)) == [ask_id]
    assert ids(api.get(ASKS, {"source": source.pk})) == [ask_id]

    refused = api.post(f"{ASKS}{ask_id}/outcome/", {"outcome": "gave", "referrals_given": 0})
    assert refused.status_code == 400
    assert set(refused.json()["fields"]) == {"referrals_given"}

    response = api.post(f"{ASKS}{ask_id}/outcome/", {"outcome": "gave", "referrals_given": 2})
    assert response.status_code == 200
    assert (response.json()["outcome"], response.json()["referrals_given"]) == ("gave", 2)


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "suffix"), [("get", ""), ("patch", ""), ("post", "asks/")])
def test_another_salespersons_source_is_404(api, other_salesperson, method, suffix):
    source = ReferralSourceFactory(owner=other_salesperson, strength=3)

    response = getattr(api, method)(f"{SOURCES}{source.pk}/{suffix}", {"strength": 5})

    assert response.status_code == 404
    assert response.json()["error"] == f"No referral source with id {source.pk}."
    assert not ReferralAsk.objects.exists()
    source.refresh_from_db()
    assert source.strength == 3


@pytest.mark.django_db
def test_another_salespersons_ask_is_404(api, other_salesperson):
    source = ReferralSourceFactory(owner=other_salesperson)
    ask = ReferralAsk.objects.create(source=source, asked_at=source.created_at)

    assert api.get(f"{ASKS}{ask.pk}/").status_code == 404
    assert api.post(f"{ASKS}{ask.pk}/outcome/", {"outcome": "declined"}).status_code == 404
