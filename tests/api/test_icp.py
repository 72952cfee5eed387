from __future__ import annotations

import pytest

from icp.models import ICP, Criterion
from tests.factories import CriterionFactory, ICPFactory

ICPS = "/api/v1/icps/"
CRITERIA = "/api/v1/criteria/"


def ids(response):
    return [row["id"] for row in response.json()["results"]]


@pytest.mark.django_db
def test_icps_list_only_the_users_with_their_criteria(api, salesperson, other_salesperson):
    icp = ICPFactory(owner=salesperson)
    criterion = CriterionFactory(icp=icp)
    ICPFactory(owner=other_salesperson)

    response = api.get(ICPS)

    assert ids(response) == [icp.pk]
    assert response.json()["results"][0]["criteria"] == [
        {
            "id": criterion.pk,
            "icp": icp.pk,
            "field": "industry",
            "operator": "equals",
            "value": "Software",
            "weight": 10,
            "required": False,
            "label": "Industry equals Software",
        }
    ]


@pytest.mark.django_db
def test_creating_updating_and_deleting_an_icp(api, salesperson, other_salesperson):
    created = api.post(
        ICPS, {"name": " Mid-market SaaS ", "owner": other_salesperson.pk, "is_active": False}
    )
    assert created.status_code == 201, created.json()
    icp = ICP.objects.get(pk=created.json()["id"])
    assert (icp.owner, icp.name, icp.is_active) == (salesperson, "Mid-market SaaS", False)

    updated = api.patch(f"{ICPS}{icp.pk}/", {"is_active": True, "description": "Our best"})
    assert updated.status_code == 200
    icp.refresh_from_db()
    assert (icp.is_active, icp.description) == (True, "Our best")

    assert api.delete(f"{ICPS}{icp.pk}/").status_code == 204
    assert not ICP.objects.filter(pk=icp.pk).exists()


@pytest.mark.django_db
def test_a_duplicate_icp_name_is_a_400(api, salesperson):
    ICPFactory(owner=salesperson, name="SaaS")

    response = api.post(ICPS, {"name": "SaaS"})

    assert response.status_code == 400
    assert "already exists" in response.json()["error"]


@pytest.mark.django_db
def test_criteria_are_added_changed_and_removed_through_the_services(api, salesperson):
    icp = ICPFactory(owner=salesperson)

    created = api.post(
        CRITERIA,
        {
            "icp": icp.pk,
            "field": "employee_count",
            "operator": "range",
            "value": {"min": 50, "max": 500},
            "weight": 20,
            "required": True,
        },
    )
    assert created.status_code == 201, created.json()
    assert created.json()["label"] == "Employee count is between 50 and 500"
    criterion_id = created.json()["id"]

    changed = api.patch(f"{CRITERIA}{criterion_id}/", {"value": {"min": 10}, "icp": 999})
    assert changed.status_code == 200, changed.json()
    criterion = Criterion.objects.get(pk=criterion_id)
    assert (criterion.value, criterion.icp) == ({"min": 10}, icp)

    assert ids(api.get(CRITERIA, {"icp": icp.pk})) == [criterion_id]
    assert api.delete(f"{CRITERIA}{criterion_id}/").status_code == 204
    assert not Criterion.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (
            {"field": "industry", "operator": "range", "value": {"min": 1}},
            "operator",
            "Industry can be tested with “equals”, “is one of”, “contains” only.",
        ),
        (
            {"field": "employee_count", "operator": "range", "value": {"min": 9, "max": 1}},
            "value",
            "The minimum must not be greater than the maximum.",
        ),
        ({"field": "industry", "operator": "equals", "value": ""}, "value", "Enter a value."),
        (
            {"field": "industry", "operator": "equals", "value": {"nested": {"x": 1}}},
            "value",
            'A range is {"min": number, "max": number}.',
        ),
        ({"field": "industry", "operator": "equals", "value": "a", "weight": 0}, "weight", None),
    ],
)
def test_an_invalid_criterion_is_a_400_naming_the_field(api, salesperson, body, field, message):
    icp = ICPFactory(owner=salesperson)

    response = api.post(CRITERIA, {"icp": icp.pk, **body})

    assert response.status_code == 400
    assert field in response.json()["fields"]
    if message:
        assert message in response.json()["fields"][field]
    assert not Criterion.objects.exists()


@pytest.mark.django_db
def test_another_salespersons_icp_and_criteria_are_404(api, other_salesperson):
    icp = ICPFactory(owner=other_salesperson, name="Theirs")
    criterion = CriterionFactory(icp=icp)

    assert api.get(f"{ICPS}{icp.pk}/").status_code == 404
    assert api.patch(f"{ICPS}{icp.pk}/", {"name": "Mine"}).status_code == 404
    assert api.delete(f"{ICPS}{icp.pk}/").status_code == 404
    assert api.get(f"{CRITERIA}{criterion.pk}/").status_code == 404
    assert api.patch(f"{CRITERIA}{criterion.pk}/", {"weight": 1}).status_code == 404
    assert api.delete(f"{CRITERIA}{criterion.pk}/").status_code == 404
    adding = api.post(
        CRITERIA, {"icp": icp.pk, "field": "industry", "operator": "equals", "value": "x"}
    )
    assert adding.status_code == 400
    assert adding.json()["fields"] == {"icp": [f"No ICP with id {icp.pk}."]}
    icp.refresh_from_db()
    assert icp.name == "Theirs"
    assert Criterion.objects.filter(icp=icp).count() == 1
    assert api.get(CRITERIA).json()["results"] == []


@pytest.mark.django_db
def test_a_manager_sees_the_teams_icps(api_for, manager, salesperson):
    icp = ICPFactory(owner=salesperson)

    assert api_for(manager).get(f"{ICPS}{icp.pk}/").status_code == 200
