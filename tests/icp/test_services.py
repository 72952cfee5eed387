from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from icp import services, tasks
from icp.models import ICP, Criterion
from leads.models import Lead
from tests.factories import CompanyFactory, CriterionFactory, ICPFactory, LeadFactory

pytestmark = pytest.mark.django_db


def rescore_of(icp) -> tuple:
    return ("icp.tasks.rescore_icp_leads", (icp.id,), {"countdown": 2})


# --- ICPs ------------------------------------------------------------------------------------


def test_icp_create_saves_and_rescores_after_commit(
    salesperson, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        icp = services.icp_create(owner=salesperson, name="  SaaS scale-ups ")

    assert (icp.name, icp.owner, icp.is_active) == ("SaaS scale-ups", salesperson, True)
    assert enqueued == [rescore_of(icp)]


def test_an_inactive_new_icp_changes_no_score(
    salesperson, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.icp_create(owner=salesperson, name="Someday", is_active=False)

    assert enqueued == []


def test_icp_names_are_unique_per_owner(salesperson, other_salesperson):
    ICPFactory(owner=salesperson, name="Enterprise")

    with pytest.raises(ValidationError) as refused:
        services.icp_create(owner=salesperson, name="Enterprise")

    assert ICP.objects.filter(owner=salesperson).count() == 1
    assert "__all__" in refused.value.message_dict
    assert services.icp_create(owner=other_salesperson, name="Enterprise").pk


def test_icp_update_rescores_only_when_a_scored_field_changes(
    salesperson, enqueued, django_capture_on_commit_callbacks
):
    icp = ICPFactory(owner=salesperson, name="Enterprise")

    with django_capture_on_commit_callbacks(execute=True):
        services.icp_update(icp=icp, description="Big logos only")
    assert enqueued == []

    with django_capture_on_commit_callbacks(execute=True):
        services.icp_update(icp=icp, is_active=False)
    assert enqueued == [rescore_of(icp)]
    icp.refresh_from_db()
    assert (icp.description, icp.is_active) == ("Big logos only", False)


def test_icp_update_refuses_fields_it_does_not_edit(salesperson, other_salesperson):
    icp = ICPFactory(owner=salesperson)

    with pytest.raises(TypeError, match="owner"):
        services.icp_update(icp=icp, owner=other_salesperson)


def test_icp_update_refuses_a_blank_name_and_keeps_the_old_one(salesperson):
    icp = ICPFactory(owner=salesperson, name="Enterprise")

    with pytest.raises(ValidationError) as refused:
        services.icp_update(icp=icp, name="   ")

    assert "name" in refused.value.message_dict
    assert icp.name == "Enterprise"
    assert ICP.objects.get(pk=icp.pk).name == "Enterprise"


def test_icp_delete_rescores_the_owners_leads(
    salesperson, enqueued, django_capture_on_commit_callbacks
):
    icp = ICPFactory(owner=salesperson)
    CriterionFactory(icp=icp)

    with django_capture_on_commit_callbacks(execute=True):
        services.icp_delete(icp=icp)

    assert not ICP.objects.exists()
    assert not Criterion.objects.exists()
    assert enqueued == [("icp.tasks.rescore_owner_leads", (salesperson.id,), {"countdown": 2})]


# --- criteria --------------------------------------------------------------------------------


def test_criterion_create_saves_and_rescores(
    salesperson, enqueued, django_capture_on_commit_callbacks
):
    icp = ICPFactory(owner=salesperson)

    with django_capture_on_commit_callbacks(execute=True):
        criterion = services.criterion_create(
            icp=icp,
            field="employee_count",
            operator="range",
            value={"min": 50, "max": 500},
            weight=20,
            required=True,
        )

    assert criterion.label == "Employee count is between 50 and 500"
    assert Criterion.objects.get().required is True
    assert enqueued == [rescore_of(icp)]


@pytest.mark.parametrize(
    ("field", "operator", "value", "weight", "errors"),
    [
        (
            "employee_count",
            "contains",
            "50",
            10,
            {"operator": ["Employee count can be tested with “equals”, “is between” only."]},
        ),
        (
            "tags",
            "equals",
            "b2b",
            10,
            {"operator": ["Tags can be tested with “contains”, “is one of” only."]},
        ),
        (
            "annual_revenue",
            "range",
            {"min": 500, "max": 100},
            10,
            {"value": ["The minimum must not be greater than the maximum."]},
        ),
        (
            "annual_revenue",
            "range",
            {},
            10,
            {"value": ["A range needs a minimum, a maximum or both."]},
        ),
        (
            "employee_count",
            "range",
            {"min": "fifty"},
            10,
            {"value": ["Range bounds must be numbers."]},
        ),
        ("industry", "one_of", [], 10, {"value": ["List at least one value."]}),
        ("industry", "equals", "  ", 10, {"value": ["Enter a value."]}),
        ("employee_count", "equals", "many", 10, {"value": ["Enter a number."]}),
        ("industry", "equals", "SaaS", 0, {"weight": ["Weight must be greater than 0."]}),
    ],
)
def test_criterion_create_refuses_bad_input_and_writes_nothing(
    salesperson, django_capture_on_commit_callbacks, field, operator, value, weight, errors
):
    icp = ICPFactory(owner=salesperson)

    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(ValidationError) as refused,
    ):
        services.criterion_create(
            icp=icp, field=field, operator=operator, value=value, weight=weight
        )

    # An empty list or range is also "blank" to the JSON field; the specific reason comes last.
    for name, messages in errors.items():
        assert refused.value.message_dict[name][-1:] == messages
    assert refused.value.message_dict.keys() == errors.keys()
    assert not Criterion.objects.exists()
    assert callbacks == []


def test_a_negative_weight_is_refused(salesperson):
    icp = ICPFactory(owner=salesperson)

    with pytest.raises(ValidationError) as refused:
        services.criterion_create(
            icp=icp, field="industry", operator="equals", value="x", weight=-5
        )

    assert "Weight must be greater than 0." in refused.value.message_dict["weight"]
    assert not Criterion.objects.exists()


def test_criterion_update_rescores(salesperson, enqueued, django_capture_on_commit_callbacks):
    criterion = CriterionFactory(icp=ICPFactory(owner=salesperson))

    with django_capture_on_commit_callbacks(execute=True):
        services.criterion_update(criterion=criterion, operator="one_of", value=["SaaS", "Retail"])

    criterion.refresh_from_db()
    assert criterion.label == "Industry is one of SaaS, Retail"
    assert enqueued == [rescore_of(criterion.icp)]


def test_criterion_update_refused_leaves_the_criterion_as_it_was(
    salesperson, django_capture_on_commit_callbacks
):
    criterion = CriterionFactory(
        icp=ICPFactory(owner=salesperson),
        field="employee_count",
        operator="range",
        value={"min": 10},
        weight=5,
    )

    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(ValidationError) as refused,
    ):
        services.criterion_update(criterion=criterion, value={"min": 10, "max": 1}, weight=3)

    assert refused.value.message_dict == {
        "value": ["The minimum must not be greater than the maximum."]
    }
    assert (criterion.value, criterion.weight) == ({"min": 10}, 5)
    assert Criterion.objects.values_list("value", "weight").get() == ({"min": 10}, 5)
    assert callbacks == []


def test_criterion_update_without_a_change_does_not_rescore(
    salesperson, django_capture_on_commit_callbacks
):
    criterion = CriterionFactory(icp=ICPFactory(owner=salesperson), weight=10)

    with django_capture_on_commit_callbacks() as callbacks:
        services.criterion_update(criterion=criterion, weight=10)

    assert callbacks == []


def test_criterion_delete_rescores(salesperson, enqueued, django_capture_on_commit_callbacks):
    criterion = CriterionFactory(icp=ICPFactory(owner=salesperson))
    icp = criterion.icp

    with django_capture_on_commit_callbacks(execute=True):
        services.criterion_delete(criterion=criterion)

    assert not Criterion.objects.exists()
    assert enqueued == [rescore_of(icp)]


def test_a_new_criterion_rescores_the_owners_leads_end_to_end(
    salesperson, other_salesperson, monkeypatch, django_capture_on_commit_callbacks
):
    # Run the enqueued task in place of the broker, to see the whole chain work.
    monkeypatch.setattr(
        tasks.rescore_icp_leads,
        "apply_async",
        lambda args, **options: tasks.rescore_icp_leads(*args),
    )
    icp = ICPFactory(owner=salesperson, name="Retail")
    retail = LeadFactory(
        owner=salesperson, company=CompanyFactory(owner=salesperson, industry="Retail")
    )
    software = LeadFactory(owner=salesperson, company=CompanyFactory(owner=salesperson))
    someone_elses = LeadFactory(
        owner=other_salesperson, company=CompanyFactory(owner=other_salesperson, industry="Retail")
    )

    with django_capture_on_commit_callbacks(execute=True):
        services.criterion_create(
            icp=icp, field="industry", operator="equals", value="retail", weight=5
        )

    fits = dict(Lead.objects.values_list("id", "fit_score"))
    assert fits == {retail.id: 100, software.id: 0, someone_elses.id: 0}
    assert Lead.objects.get(pk=retail.id).score_explanation["icp"] == "Retail"
