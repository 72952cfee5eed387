from __future__ import annotations

import pytest
from django.urls import reverse

from icp.models import ICP, Criterion
from tests.factories import CompanyFactory, LeadFactory

HTMX = {"HX-Request": "true"}


def html(response) -> str:
    return response.content.decode()


@pytest.fixture
def saas_icp(salesperson):
    icp = ICP.objects.create(owner=salesperson, name="EU SaaS")
    Criterion.objects.create(
        icp=icp, field="industry", operator="equals", value="Software", weight=50
    )
    return icp


@pytest.mark.django_db
def test_icp_list_shows_own_icps_with_counts(client_of, salesperson, other_salesperson, saas_icp):
    ICP.objects.create(owner=other_salesperson, name="Not mine")

    page = html(client_of(salesperson).get(reverse("icp-list")))

    assert "EU SaaS" in page
    assert "Not mine" not in page
    assert "<title>ICP · LeadHunter</title>" in page


@pytest.mark.django_db
@pytest.mark.parametrize("icps", [1, 12])
def test_icp_list_query_count_is_constant(client_of, salesperson, django_assert_num_queries, icps):
    for index in range(icps):
        ICP.objects.create(owner=salesperson, name=f"ICP {index}")
    client = client_of(salesperson)

    with django_assert_num_queries(4):
        client.get(reverse("icp-list"))


@pytest.mark.django_db
def test_creating_an_icp_leads_to_its_editor(client_of, salesperson):
    response = client_of(salesperson).post(
        reverse("icp-create"), {"name": "Logistics", "is_active": "on"}
    )

    icp = ICP.objects.get(owner=salesperson)
    assert response.status_code == 302
    assert response["Location"] == reverse("icp-detail", args=[icp.pk])


@pytest.mark.django_db
def test_adding_a_criterion_returns_the_criteria_region(client_of, salesperson, saas_icp):
    response = client_of(salesperson).post(
        reverse("criterion-create", args=[saas_icp.pk]),
        {
            "field": "employee_count",
            "operator": "range",
            "minimum": "50",
            "maximum": "500",
            "weight": "20",
        },
        headers=HTMX,
    )

    assert response.status_code == 200
    assert html(response).lstrip().startswith('<section id="icp-criteria"')
    assert "criteriaChanged" in response["HX-Trigger-After-Swap"]
    assert saas_icp.criteria.get(field="employee_count").value == {"min": 50, "max": 500}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"field": "industry", "operator": "range", "minimum": "1", "weight": "10"},
            "can be tested with",
        ),
        (
            {
                "field": "employee_count",
                "operator": "range",
                "minimum": "500",
                "maximum": "50",
                "weight": "10",
            },
            "minimum must not be greater",
        ),
        (
            {"field": "industry", "operator": "equals", "value": "Software", "weight": "0"},
            "greater than 0",
        ),
    ],
)
def test_bad_criteria_are_refused_with_a_clear_message(
    client_of, salesperson, saas_icp, data, message
):
    response = client_of(salesperson).post(
        reverse("criterion-create", args=[saas_icp.pk]), data, headers=HTMX
    )

    assert response.status_code == 422
    assert message in html(response)
    assert saas_icp.criteria.count() == 1


@pytest.mark.django_db
def test_removing_a_criterion(client_of, salesperson, saas_icp):
    criterion = saas_icp.criteria.get()

    client_of(salesperson).post(
        reverse("criterion-delete", args=[saas_icp.pk, criterion.pk]), headers=HTMX
    )

    assert not saas_icp.criteria.exists()


@pytest.mark.django_db
def test_preview_counts_the_criterion_being_typed(client_of, salesperson, saas_icp):
    for country in ("GB", "GB", "DE"):
        LeadFactory(
            owner=salesperson,
            company=CompanyFactory(owner=salesperson, industry="Software", country=country),
        )
    LeadFactory(
        owner=salesperson,
        company=CompanyFactory(owner=salesperson, industry="Retail", country="DE"),
    )
    client = client_of(salesperson)

    saved_only = client.get(reverse("icp-preview", args=[saas_icp.pk]), headers=HTMX)
    with_draft = client.get(
        reverse("icp-preview", args=[saas_icp.pk]),
        {"field": "country", "operator": "equals", "value": "GB", "weight": "50", "required": "on"},
        headers=HTMX,
    )

    assert "<strong data-preview-matching>3</strong>" in html(saved_only)
    assert "<strong data-preview-matching>2</strong>" in html(with_draft)
    assert "Including the criterion you" in html(with_draft)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "url_name", "extra", "data"),
    [
        ("get", "icp-detail", [], {}),
        ("get", "icp-preview", [], {}),
        ("post", "icp-update", [], {"name": "Mine now"}),
        (
            "post",
            "criterion-create",
            [],
            {"field": "industry", "operator": "equals", "value": "X", "weight": "5"},
        ),
    ],
)
def test_another_salespersons_icp_answers_404(
    client_of, salesperson, other_salesperson, method, url_name, extra, data
):
    theirs = ICP.objects.create(owner=other_salesperson, name="Theirs")

    response = getattr(client_of(salesperson), method)(
        reverse(url_name, args=[theirs.pk, *extra]), data
    )

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert (theirs.name, theirs.criteria.count()) == ("Theirs", 0)


@pytest.mark.django_db
@pytest.mark.parametrize("criteria", [1, 15])
def test_an_icps_page_needs_the_same_queries_for_1_or_15_criteria(
    client_of, salesperson, django_assert_num_queries, criteria
):
    icp = ICP.objects.create(owner=salesperson, name="EU SaaS")
    for index in range(criteria):
        Criterion.objects.create(
            icp=icp, field="industry", operator="equals", value=f"industry {index}", weight=5
        )
    LeadFactory.create_batch(criteria, owner=salesperson)
    client = client_of(salesperson)

    with django_assert_num_queries(8):
        response = client.get(reverse("icp-detail", args=[icp.pk]))

    page = response.content.decode()
    assert all(f"industry {index}" in page for index in range(criteria))
