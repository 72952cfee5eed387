from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache

from icp import tasks as icp_tasks
from icp.models import RescoreRequest
from icp.rescoring import RescoreSummary, icp_rescore_key, lead_rescore_key, request_rescore
from icp.tasks import (
    rescore_all_leads,
    rescore_icp_leads,
    rescore_lead,
    rescore_owner_leads,
    sweep_rescore_requests,
)
from leads.models import ActivityKind, Lead
from tests.factories import (
    ActivityFactory,
    CompanyFactory,
    CriterionFactory,
    ICPFactory,
    LeadFactory,
)
from tests.icp.conftest import NOW
from tests.waiting import wait_for


def retail_icp(owner):
    icp = ICPFactory(owner=owner, name="Retail")
    CriterionFactory(icp=icp, field="industry", operator="equals", value="Retail", weight=30)
    CriterionFactory(icp=icp, field="country", operator="equals", value="GB", weight=10)
    return icp


def retail_lead(owner, **company):
    fields = {"industry": "Retail", "country": "GB", **company}
    return LeadFactory(owner=owner, company=CompanyFactory(owner=owner, **fields))


@pytest.mark.django_db
def test_rescore_lead_takes_its_request_and_scores(salesperson, enqueued):
    retail_icp(salesperson)
    lead = retail_lead(salesperson, country="FR")
    other = LeadFactory(owner=salesperson)
    RescoreRequest.objects.all().delete()
    request_rescore(lead.id)
    request_rescore(other.id)
    cache.set(lead_rescore_key(lead.id), 1)

    rescore_lead(lead.id)

    lead.refresh_from_db()
    assert cache.get(lead_rescore_key(lead.id)) is None
    assert list(RescoreRequest.objects.values_list("target_id", flat=True)) == [other.id]
    assert (lead.fit_score, lead.total_score, lead.grade) == (75, 45, "C")


@pytest.mark.django_db
def test_rescore_lead_is_idempotent(salesperson):
    retail_icp(salesperson)
    lead = retail_lead(salesperson)
    ActivityFactory(lead=lead, kind=ActivityKind.ASKED_FOR_INFO, occurred_at=NOW)

    with time_machine.travel(NOW, tick=False):
        rescore_lead(lead.id)
        first = Lead.objects.values("total_score", "score_explanation").get(pk=lead.id)
        rescore_lead(lead.id)
        second = Lead.objects.values("total_score", "score_explanation").get(pk=lead.id)

    assert first == second
    assert first["total_score"] == 72  # 60 + 0.4 × 30


@pytest.mark.django_db
def test_rescore_lead_does_nothing_when_the_lead_is_gone():
    assert rescore_lead(987654) is None


@pytest.mark.django_db
def test_rescore_icp_leads_rescores_the_icp_owners_leads_only(salesperson, other_salesperson):
    icp = retail_icp(salesperson)
    mine = retail_lead(salesperson)
    theirs = retail_lead(other_salesperson)
    cache.set(icp_rescore_key(icp.id), 1)
    RescoreRequest.objects.create(kind="icp", target_id=icp.id, requested_at=NOW)

    rescore_icp_leads(icp.id)

    assert cache.get(icp_rescore_key(icp.id)) is None
    assert not RescoreRequest.objects.exists()
    assert Lead.objects.get(pk=mine.id).fit_score == 100
    assert Lead.objects.get(pk=theirs.id).scored_at is None


@pytest.mark.django_db
def test_rescore_icp_leads_does_nothing_when_the_icp_is_gone(salesperson):
    lead = retail_lead(salesperson)

    rescore_icp_leads(987654)

    assert Lead.objects.get(pk=lead.id).scored_at is None


@pytest.mark.django_db
def test_rescore_owner_leads_drops_a_deleted_icp(salesperson):
    icp = retail_icp(salesperson)
    lead = retail_lead(salesperson)
    rescore_owner_leads(salesperson.id)
    assert Lead.objects.get(pk=lead.id).best_icp_id == icp.id

    icp.delete()
    RescoreRequest.objects.create(kind="owner", target_id=salesperson.id, requested_at=NOW)
    rescore_owner_leads(salesperson.id)
    assert not RescoreRequest.objects.exists()

    lead.refresh_from_db()
    assert (lead.fit_score, lead.best_icp_id, lead.score_explanation["icp"]) == (0, None, None)


@pytest.mark.django_db
def test_the_nightly_rescore_lets_intent_decay(salesperson, other_salesperson):
    demo = LeadFactory(owner=salesperson)
    ActivityFactory(lead=demo, kind=ActivityKind.ASKED_FOR_DEMO, occurred_at=NOW)
    quiet = LeadFactory(owner=other_salesperson)

    with time_machine.travel(NOW, tick=False):
        rescore_all_leads()
    with time_machine.travel(NOW + timedelta(days=14), tick=False):
        rescore_all_leads()

    assert Lead.objects.get(pk=demo.id).intent_score == 20
    # Unchanged scores are not written again, so the quiet lead keeps its first scoring time.
    assert Lead.objects.get(pk=quiet.id).scored_at == NOW


def test_tasks_have_stable_names_and_retry_only_database_errors():
    assert [task.name for task in (rescore_lead, rescore_icp_leads, rescore_all_leads)] == [
        "icp.tasks.rescore_lead",
        "icp.tasks.rescore_icp_leads",
        "icp.tasks.rescore_all_leads",
    ]
    assert rescore_lead.acks_late is True
    assert [exc.__name__ for exc in rescore_lead.autoretry_for] == ["OperationalError"]
    assert rescore_all_leads.time_limit == 1800
    assert sweep_rescore_requests.name == "icp.tasks.sweep_rescore_requests"
    assert sweep_rescore_requests.time_limit == 60  # never longer than its one-minute interval


@pytest.mark.worker
def test_a_real_worker_rescores_a_lead(celery_worker, salesperson):
    retail_icp(salesperson)
    lead = retail_lead(salesperson, country="IE")  # fit 75 → total 45

    rescore_lead.delay(lead.id)

    assert wait_for(lambda: Lead.objects.get(pk=lead.id).total_score == 45)
    lead.refresh_from_db()
    assert (lead.fit_score, lead.grade, lead.score_explanation["icp"]) == (75, "C", "Retail")


def test_a_bulk_rescore_logs_one_summary_line_and_a_no_op_rerun_none(salesperson, caplog):
    for _ in range(3):
        LeadFactory(owner=salesperson)
    Lead.objects.filter(owner=salesperson).update(total_score=99, scored_at=None)

    with caplog.at_level(logging.INFO, logger="icp.tasks"):
        rescore_owner_leads(salesperson.pk)
        rescore_owner_leads(salesperson.pk)

    lines = [record.getMessage() for record in caplog.records if record.levelno >= logging.INFO]
    assert len(lines) == 1
    assert re.fullmatch(
        rf"Rescored owner {salesperson.pk}: 3 leads, 3 changed, in \d+\.\d s", lines[0]
    )


@pytest.mark.django_db
@pytest.mark.parametrize("task", ["rescore_all_leads", "rescore_owner_leads", "rescore_icp"])
def test_the_bulk_tasks_ask_for_background_writers(salesperson, monkeypatch, task):
    icp = retail_icp(salesperson)
    calls = []
    nothing = RescoreSummary(0, 0, 0.0)
    monkeypatch.setattr(icp_tasks, "leads_rescore", lambda **kw: calls.append(kw) or nothing)

    {
        "rescore_all_leads": lambda: icp_tasks.rescore_all_leads(),
        "rescore_owner_leads": lambda: icp_tasks.rescore_owner_leads(salesperson.pk),
        "rescore_icp": lambda: icp_tasks.rescore_icp_leads(icp.pk),
    }[task]()

    assert [call["background_writer"] for call in calls] == [True]
