from __future__ import annotations

import pytest

from icp.models import Criterion
from tests.factories import CriterionFactory, ICPFactory

pytestmark = pytest.mark.django_db


def test_the_icp_list_counts_criteria(client_of, manager, salesperson):
    icp = ICPFactory(owner=salesperson, name="Retail chains")
    CriterionFactory.create_batch(3, icp=icp)

    response = client_of(manager).get("/admin/icp/icp/")

    assert response.status_code == 200
    assert response.context["cl"].result_list.get().criterion_count == 3
    assert "Retail chains" in response.text


def test_a_criterion_saved_in_the_admin_is_validated_and_rescores(
    client_of, manager, salesperson, enqueued, django_capture_on_commit_callbacks
):
    icp = ICPFactory(owner=salesperson, name="Retail chains")
    form = {
        "owner": salesperson.id,
        "name": "Retail chains",
        "description": "",
        "is_active": "on",
        "criteria-TOTAL_FORMS": "1",
        "criteria-INITIAL_FORMS": "0",
        "criteria-0-field": "employee_count",
        "criteria-0-operator": "range",
        "criteria-0-value": '{"min": 500, "max": 50}',
        "criteria-0-weight": "10",
    }

    with django_capture_on_commit_callbacks(execute=True):
        refused = client_of(manager).post(f"/admin/icp/icp/{icp.id}/change/", form)
    assert refused.status_code == 200
    assert "The minimum must not be greater than the maximum." in refused.text
    assert (Criterion.objects.count(), enqueued) == (0, [])

    form["criteria-0-value"] = '{"min": 50, "max": 500}'
    with django_capture_on_commit_callbacks(execute=True):
        saved = client_of(manager).post(f"/admin/icp/icp/{icp.id}/change/", form)
    assert saved.status_code == 302
    assert Criterion.objects.get().label == "Employee count is between 50 and 500"
    assert enqueued == [("icp.tasks.rescore_icp_leads", (icp.id,), {"countdown": 2})]
