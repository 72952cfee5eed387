from __future__ import annotations

import base64

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leads.models import Company, Lead, StageChange
from referrals.models import ReferralSource
from tests.factories import (
    ActivityFactory,
    CompanyFactory,
    ICPFactory,
    LeadFactory,
    ReferralSourceFactory,
)

LEADS = "/api/v1/leads/"


def lead_url(lead, suffix=""):
    return f"{LEADS}{lead.pk}/{suffix}"


def ids(response):
    return [row["id"] for row in response.json()["results"]]


# --- List ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_list_shows_only_the_users_leads_newest_first(api, salesperson, other_salesperson):
    older = LeadFactory(owner=salesperson)
    newer = LeadFactory(owner=salesperson)
    LeadFactory(owner=other_salesperson)

    response = api.get(LEADS)

    assert response.status_code == 200
    assert ids(response) == [newer.pk, older.pk]
    row = response.json()["results"][0]
    assert row["owner"] == salesperson.pk
    assert row["company_name"] == newer.company.name
    assert row["page_url"] == f"http://testserver/leads/{newer.pk}/"


@pytest.mark.django_db
def test_a_manager_lists_the_whole_team(api_for, manager, salesperson, other_salesperson):
    mine, theirs = LeadFactory(owner=salesperson), LeadFactory(owner=other_salesperson)

    assert set(ids(api_for(manager).get(LEADS))) == {mine.pk, theirs.pk}
    assert ids(api_for(manager).get(LEADS, {"owner": salesperson.pk})) == [mine.pk]


@pytest.mark.django_db
def test_the_list_filters_by_stage_source_grade_and_words(api, salesperson):
    won = LeadFactory(owner=salesperson, stage="won", source="referral", first_name="Grace")
    LeadFactory(owner=salesperson, stage="new", source="marketing", first_name="Alan")
    Lead.objects.filter(pk=won.pk).update(grade="A")

    assert ids(api.get(LEADS, {"stage": "won"})) == [won.pk]
    assert ids(api.get(LEADS, {"source": "referral"})) == [won.pk]
    assert ids(api.get(LEADS, {"grade": "A"})) == [won.pk]
    assert ids(api.get(LEADS, {"q": "grace"})) == [won.pk]
    assert ids(api.get(LEADS, {"q": won.company.name.split()[0], "stage": "won"})) == [won.pk]


@pytest.mark.django_db
def test_an_unknown_filter_value_is_a_400_naming_the_parameter(api):
    response = api.get(LEADS, {"stage": "closed"})

    assert response.status_code == 400
    assert response.json() == {
        "error": 'stage: "closed" is not a valid choice.',
        "fields": {"stage": ['"closed" is not a valid choice.']},
    }


@pytest.mark.django_db
def test_pages_follow_the_cursor_without_counting_the_table(api, salesperson):
    leads = LeadFactory.create_batch(5, owner=salesperson)
    newest_first = [lead.pk for lead in reversed(leads)]

    with CaptureQueriesContext(connection) as queries:
        first = api.get(LEADS, {"page_size": 2})
    second = api.get(first.json()["next"])
    third = api.get(second.json()["next"])

    assert ids(first) + ids(second) + ids(third) == newest_first
    assert third.json()["next"] is None
    assert set(first.json()) == {"next", "previous", "results"}
    assert not any("COUNT(" in query["sql"].upper() for query in queries.captured_queries)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "cD1hYmM=",  # p=abc: not an id
        "bz0tMQ==",  # o=-1
    ],
)
def test_a_mangled_cursor_is_a_400(api, salesperson, cursor):
    LeadFactory(owner=salesperson)

    response = api.get(LEADS, {"cursor": cursor})

    assert response.status_code == 400
    assert response.json()["fields"] == {"cursor": ["Invalid cursor"]}


@pytest.mark.django_db
def test_a_cursor_past_the_largest_id_is_just_a_page(api, salesperson):
    lead = LeadFactory(owner=salesperson)
    # p=<a number wider than a bigint>
    cursor = base64.b64encode(b"p=" + b"9" * 30).decode()

    response = api.get(LEADS, {"cursor": cursor})

    assert response.status_code == 200
    assert ids(response) == [lead.pk]


@pytest.mark.django_db
@pytest.mark.parametrize("page_size", ["0", "201", "ten", "-1"])
def test_a_page_size_out_of_range_is_a_400(api, page_size):
    response = api.get(LEADS, {"page_size": page_size})

    assert response.status_code == 400
    assert "page_size" in response.json()["fields"]


@pytest.mark.django_db
def test_the_list_takes_a_fixed_number_of_queries(api, salesperson, django_assert_max_num_queries):
    LeadFactory.create_batch(30, owner=salesperson)

    # token, last-used update, manager check, leads with companies (and savepoint noise)
    with django_assert_max_num_queries(5):
        response = api.get(LEADS)

    assert len(response.json()["results"]) == 30


# --- Create --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_creating_a_lead_goes_through_the_service(api, salesperson):
    response = api.post(
        LEADS,
        {
            "first_name": " Ada ",
            "last_name": "Lovelace",
            "email": "ADA@Example.com",
            "company_name": "Analytical Engines",
            "source": "own_network",
            "tags": ["Maths", "maths", "warm"],
            "expected_value": "12000.00",
        },
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    lead = Lead.objects.get(pk=body["id"])
    assert lead.owner == salesperson
    assert (lead.first_name, lead.email, lead.tags) == ("Ada", "ada@example.com", ["maths", "warm"])
    assert lead.company.name == "Analytical Engines"
    assert lead.company.owner == salesperson
    assert StageChange.objects.filter(lead=lead, to_stage="new").exists()
    assert lead.follow_ups.filter(done_at__isnull=True).count() == 1  # the first touch
    assert body["next_follow_up_at"] is not None
    assert body["company"] == lead.company_id
    assert body["full_name"] == "Ada Lovelace"


@pytest.mark.django_db
def test_owner_scores_and_other_read_only_fields_posted_are_ignored(
    api, salesperson, other_salesperson
):
    response = api.post(
        LEADS,
        {
            "first_name": "Ada",
            "owner": other_salesperson.pk,
            "total_score": 99,
            "fit_score": 99,
            "grade": "A",
            "won_at": "2020-01-01T00:00:00Z",
            "id": 12345,
        },
    )

    assert response.status_code == 201
    lead = Lead.objects.get(pk=response.json()["id"])
    assert lead.pk != 12345
    assert lead.owner == salesperson
    assert (lead.total_score, lead.fit_score, lead.grade, lead.won_at) == (0, 0, "D", None)


@pytest.mark.django_db
def test_a_lead_uses_an_existing_company_by_name_or_id(api, salesperson, other_salesperson):
    company = CompanyFactory(owner=salesperson, name="Initech")

    by_name = api.post(LEADS, {"first_name": "Peter", "company_name": "initech"})
    by_id = api.post(LEADS, {"first_name": "Milton", "company": company.pk})

    assert by_name.json()["company"] == by_id.json()["company"] == company.pk
    assert Company.objects.filter(owner=salesperson).count() == 1


@pytest.mark.django_db
def test_another_owners_company_or_source_is_unknown(api, other_salesperson):
    company = CompanyFactory(owner=other_salesperson)
    source = ReferralSourceFactory(owner=other_salesperson)

    response = api.post(
        LEADS, {"first_name": "Ada", "company": company.pk, "referred_by": source.pk}
    )

    assert response.status_code == 400
    assert response.json()["fields"] == {
        "company": [f"No company with id {company.pk}."],
        "referred_by": [f"No referral source with id {source.pk}."],
    }


@pytest.mark.django_db
def test_a_lead_needs_a_name_or_an_email(api):
    response = api.post(LEADS, {"title": "CTO"})

    assert response.status_code == 400
    assert response.json() == {"error": "Give the lead a name or an email address.", "fields": {}}


@pytest.mark.django_db
def test_a_duplicate_email_is_refused_with_the_services_message(api, salesperson):
    LeadFactory(owner=salesperson, email="ada@example.com")

    response = api.post(LEADS, {"first_name": "Ada", "email": "Ada@Example.com "})

    assert response.status_code == 400
    assert "You already have a lead with this email address." in response.json()["error"]


@pytest.mark.django_db
def test_invalid_fields_are_named(api):
    response = api.post(
        LEADS,
        {"first_name": "Ada", "email": "not-an-email", "source": "cold_call", "tags": "x" * 3},
    )

    assert response.status_code == 400
    body = response.json()
    assert set(body["fields"]) == {"email", "source", "tags"}
    assert body["error"].startswith("email: Enter a valid email address.")


@pytest.mark.django_db
def test_a_lead_cant_start_lost(api):
    response = api.post(LEADS, {"first_name": "Ada", "stage": "lost"})

    assert response.status_code == 400
    assert "stage" in response.json()["fields"]


# --- Retrieve, update, delete --------------------------------------------------------------


@pytest.mark.django_db
def test_retrieve_a_lead(api, salesperson):
    lead = LeadFactory(owner=salesperson, tags=["fintech"])

    response = api.get(lead_url(lead))

    assert response.status_code == 200
    assert response.json()["email"] == lead.email
    assert response.json()["tags"] == ["fintech"]


@pytest.mark.django_db
def test_a_partial_update_changes_only_what_was_sent(api, salesperson):
    lead = LeadFactory(owner=salesperson, title="CTO", last_name="Hopper")

    response = api.patch(
        lead_url(lead), {"title": "CEO", "phone": "020 7946 0018", "total_score": 100}
    )

    assert response.status_code == 200, response.json()
    lead.refresh_from_db()
    assert (lead.title, lead.last_name, lead.total_score) == ("CEO", "Hopper", 0)
    assert lead.phone == "+442079460018"  # normalised by the service for the company's country
    assert response.json()["title"] == "CEO"


@pytest.mark.django_db
def test_a_lead_read_from_the_api_can_be_sent_back(api, salesperson):
    lead = LeadFactory(owner=salesperson)
    representation = api.get(lead_url(lead)).json()

    response = api.patch(lead_url(lead), representation)

    assert response.status_code == 200, response.json()
    assert StageChange.objects.filter(lead=lead).count() == 0


@pytest.mark.django_db
def test_patching_the_stage_moves_the_lead(api, salesperson):
    lead = LeadFactory(owner=salesperson, stage="contacted")

    response = api.patch(lead_url(lead), {"stage": "qualified"})

    assert response.status_code == 200
    assert response.json()["stage"] == "qualified"
    change = StageChange.objects.get(lead=lead)
    assert (change.from_stage, change.to_stage, change.changed_by) == (
        "contacted",
        "qualified",
        salesperson,
    )


@pytest.mark.django_db
def test_losing_a_lead_without_a_reason_is_a_400_with_the_message(api, salesperson):
    lead = LeadFactory(owner=salesperson, stage="proposal")

    by_patch = api.patch(lead_url(lead), {"stage": "lost", "title": "VP"})
    by_action = api.post(lead_url(lead, "stage/"), {"stage": "lost"})

    assert by_patch.status_code == by_action.status_code == 400
    assert by_patch.json() == {
        "error": "stage_reason: Say why the lead was lost; the reports use it.",
        "fields": {"stage_reason": ["Say why the lead was lost; the reports use it."]},
    }
    assert by_action.json()["fields"] == {
        "reason": ["Say why the lead was lost; the reports use it."]
    }
    lead.refresh_from_db()
    assert (lead.stage, lead.title) == ("proposal", "Head of Sales")  # nothing half-saved


@pytest.mark.django_db
def test_the_stage_action_moves_a_lead_with_a_reason(api, salesperson):
    lead = LeadFactory(owner=salesperson, stage="proposal")

    response = api.post(lead_url(lead, "stage/"), {"stage": "lost", "reason": "Budget cut"})

    assert response.status_code == 200
    assert (response.json()["stage"], response.json()["lost_reason"]) == ("lost", "Budget cut")


@pytest.mark.django_db
def test_winning_by_the_api_makes_the_customer_a_referral_source(api, salesperson):
    lead = LeadFactory(owner=salesperson, stage="proposal")

    api.post(lead_url(lead, "stage/"), {"stage": "won"})

    assert ReferralSource.objects.filter(lead=lead, owner=salesperson).exists()


@pytest.mark.django_db
def test_moving_to_the_same_stage_is_a_400(api, salesperson):
    lead = LeadFactory(owner=salesperson, stage="engaged")

    response = api.post(lead_url(lead, "stage/"), {"stage": "engaged"})

    assert response.status_code == 400
    assert response.json()["error"] == "stage: The lead is already in Engaged."


@pytest.mark.django_db
def test_deleting_a_lead(api, salesperson):
    lead = LeadFactory(owner=salesperson)
    ActivityFactory(lead=lead)

    response = api.delete(lead_url(lead))

    assert response.status_code == 204
    assert not Lead.objects.filter(pk=lead.pk).exists()


@pytest.mark.django_db
def test_api_changes_are_audited_under_the_tokens_user(api, salesperson):
    lead = LeadFactory(owner=salesperson)

    api.patch(lead_url(lead), {"title": "CFO"})

    assert lead.history.latest().history_user == salesperson


# --- Score ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_score_endpoint_explains_the_score(api, salesperson):
    from icp.rescoring import lead_rescore
    from tests.factories import CriterionFactory

    icp = ICPFactory(owner=salesperson, name="SaaS")
    CriterionFactory(icp=icp, field="industry", operator="equals", value="Software", weight=10)
    CriterionFactory(icp=icp, field="country", operator="equals", value="US", weight=10)
    lead = LeadFactory(owner=salesperson)
    ActivityFactory(lead=lead, kind="asked_for_demo", direction="inbound")
    lead_rescore(lead_id=lead.pk)

    response = api.get(lead_url(lead, "score/"))

    assert response.status_code == 200
    body = response.json()
    assert body["lead"] == lead.pk
    assert body["best_icp"] == {"id": icp.pk, "name": "SaaS"}
    assert body["fit_score"] == 50
    explanation = body["explanation"]
    assert explanation["matched"] == ["Industry equals Software"]
    assert explanation["unmatched"] == ["Country equals US"]
    assert [signal["kind"] for signal in explanation["signals"]] == ["asked_for_demo"]


@pytest.mark.django_db
def test_an_unscored_lead_has_an_empty_explanation(api, salesperson):
    lead = LeadFactory(owner=salesperson)

    body = api.get(lead_url(lead, "score/")).json()

    assert body["explanation"] == {}
    assert body["best_icp"] is None
    assert body["scored_at"] is None


# --- Visibility ----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("get", "", None),
        ("patch", "", {"title": "Mine now"}),
        ("delete", "", None),
        ("get", "score/", None),
        ("post", "stage/", {"stage": "won"}),
    ],
)
def test_another_salespersons_lead_is_404(api, other_salesperson, method, suffix, body):
    lead = LeadFactory(owner=other_salesperson, title="Theirs")

    response = getattr(api, method)(lead_url(lead, suffix), body)

    assert response.status_code == 404
    assert response.json() == {"error": f"No lead with id {lead.pk}.", "fields": {}}
    lead.refresh_from_db()
    assert (lead.title, lead.stage) == ("Theirs", "new")


@pytest.mark.django_db
def test_a_manager_can_change_a_team_members_lead(api_for, manager, salesperson):
    lead = LeadFactory(owner=salesperson)

    response = api_for(manager).patch(lead_url(lead), {"title": "COO"})

    assert response.status_code == 200
    lead.refresh_from_db()
    assert (lead.title, lead.owner) == ("COO", salesperson)


def test_the_expected_close_date_is_read_and_written(api, salesperson):
    lead = LeadFactory(owner=salesperson)
    response = api.patch(lead_url(lead), {"expected_close_date": "2027-01-31"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["expected_close_date"] == "2027-01-31"
    lead.refresh_from_db()
    assert lead.expected_close_date.isoformat() == "2027-01-31"
