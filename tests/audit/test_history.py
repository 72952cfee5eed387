"""Every change to a lead, an ICP, a criterion or a referral source is recorded with who made
it, when, and each field's old and new value, by whichever way it was made: a page, the API
(under the token's user), the admin, a Celery task or a one-click email link (no login)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from icp.models import ICP, Criterion
from icp.rescoring import leads_rescore
from imports import services as import_services
from leads import services as lead_services
from leads.models import Lead, Stage
from leads.selectors import lead_history
from referrals.models import ReferralSource
from reminders import links
from tests.factories import (
    CriterionFactory,
    FollowUpFactory,
    ICPFactory,
    LeadFactory,
    ReferralSourceFactory,
    UserFactory,
)
from tests.waiting import wait_for

pytestmark = pytest.mark.django_db


def latest_change(record) -> tuple:
    """(who, when, {field: (old, new)}) of a record's newest history row."""
    newer, older = record.history.order_by("-history_date", "-history_id")[:2]
    delta = newer.diff_against(older)
    return (
        newer.history_user,
        newer.history_date,
        {change.field: (change.old, change.new) for change in delta.changes},
    )


def test_a_change_on_the_lead_page_records_who_when_and_old_to_new(client_of, salesperson):
    lead = lead_services.lead_create(owner=salesperson, first_name="Dana", title="CTO")
    before = timezone.now()

    client_of(salesperson).post(
        reverse("lead-edit", args=[lead.pk, "contact"]),
        # As the Contact card posts it: the seniority inferred from "CTO" (C-level) stays.
        {"first_name": "Dana", "title": "CEO", "seniority": "c_level", "email": "dana@example.com"},
    )

    who, when, changes = latest_change(lead)
    assert who == salesperson
    assert before <= when <= timezone.now()
    assert changes == {"title": ("CTO", "CEO"), "email": ("", "dana@example.com")}


@pytest.mark.parametrize(
    ("url", "make", "body", "expected"),
    [
        (
            "/api/v1/leads/{pk}/",
            lambda owner: LeadFactory(owner=owner, title="CTO"),
            {"title": "CFO"},
            # The factory leaves seniority empty; the new title fills it in (leads/seniority.py).
            {"title": ("CTO", "CFO"), "seniority": ("", "c_level")},
        ),
        (
            "/api/v1/icps/{pk}/",
            lambda owner: ICPFactory(owner=owner, name="SaaS"),
            {"name": "SaaS scale-ups"},
            {"name": ("SaaS", "SaaS scale-ups")},
        ),
        (
            "/api/v1/criteria/{pk}/",
            lambda owner: CriterionFactory(icp=ICPFactory(owner=owner), weight=10),
            {"weight": 30},
            {"weight": (10, 30)},
        ),
        (
            "/api/v1/referral-sources/{pk}/",
            lambda owner: ReferralSourceFactory(owner=owner, strength=2),
            {"strength": 5},
            {"strength": (2, 5)},
        ),
    ],
    ids=["lead", "icp", "criterion", "referral-source"],
)
def test_an_api_change_is_recorded_under_the_tokens_user(
    api_of, salesperson, url, make, body, expected
):
    record = make(salesperson)

    response = api_of(salesperson).patch(url.format(pk=record.pk), body)

    assert response.status_code == 200, response.content
    who, _, changes = latest_change(type(record).objects.get(pk=record.pk))
    assert who == salesperson
    assert changes == expected


def test_an_admin_change_to_an_icp_is_recorded_under_the_manager(client_of, manager, salesperson):
    icp = ICPFactory(owner=salesperson, name="SaaS", is_active=True)

    response = client_of(manager).post(
        reverse("admin:icp_icp_change", args=[icp.pk]),
        {
            "name": "SaaS, EU",
            "owner": salesperson.pk,
            "description": "",
            "is_active": "on",
            "criteria-TOTAL_FORMS": "0",
            "criteria-INITIAL_FORMS": "0",
            "criteria-MIN_NUM_FORMS": "0",
            "criteria-MAX_NUM_FORMS": "1000",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    who, _, changes = latest_change(ICP.objects.get(pk=icp.pk))
    assert (who, changes) == (manager, {"name": ("SaaS", "SaaS, EU")})


def test_a_one_click_email_link_records_the_links_user_without_a_login(client, salesperson):
    lead = LeadFactory(owner=salesperson, stage=Stage.NEW)
    follow_up = FollowUpFactory(lead=lead, due_at=timezone.now() - timedelta(hours=1))
    url = links.make_link(salesperson, links.FOLLOW_UP_LOG_CALL, follow_up.pk)

    response = client.post(urlsplit(url).path)

    assert response.status_code == 200
    who, _, changes = latest_change(Lead.objects.get(pk=lead.pk))
    assert who == salesperson
    assert changes["stage"] == ("new", "contacted")


def test_a_change_made_by_a_service_outside_any_request_names_its_user(salesperson, manager):
    lead = LeadFactory(owner=salesperson)

    lead_services.lead_change_stage(lead=lead, to_stage=Stage.QUALIFIED, user=manager)

    who, _, changes = latest_change(lead)
    assert (who, changes["stage"]) == (manager, ("new", "qualified"))


@pytest.mark.worker
def test_leads_imported_by_a_celery_worker_name_the_importer(
    celery_worker, settings, tmp_path, monkeypatch
):
    settings.DATA_DIR = tmp_path
    monkeypatch.setattr(import_services, "SYNC_ROW_LIMIT", 1)
    owner = UserFactory(username="importer")
    data = (
        b"First Name,Last Name,Email\nAda,Lovelace,ada@example.com\nAlan,Turing,alan@example.com\n"
    )
    job = import_services.import_job_create(owner=owner, data=data, filename="people.csv")

    assert import_services.import_job_start(job=job).status == "queued"
    assert wait_for(lambda: (job.refresh_from_db() or job.status) == "done", timeout=60)

    records = Lead.history.filter(owner=owner)
    assert records.count() == 2
    assert {record.history_user for record in records} == {owner}
    assert [row.who for row in lead_history(Lead.objects.get(email="ada@example.com"))] == [owner]


def test_rescoring_writes_no_history_rows(salesperson):
    icp = ICPFactory(owner=salesperson)
    CriterionFactory(icp=icp)
    LeadFactory.create_batch(3, owner=salesperson)
    rows = (Lead.history.count(), ICP.history.count(), Criterion.history.count())

    summary = leads_rescore(owner_id=salesperson.pk)

    assert summary.changed == 3
    assert (Lead.history.count(), ICP.history.count(), Criterion.history.count()) == rows
    assert ReferralSource.history.count() == 0
