"""Bulk operations, imports, rescoring and erasures leave one summary audit event each: who,
when, what, on which model, how many rows, and ids with the changed field's old → new values
(never a name or an email)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import transaction
from django.urls import reverse

from audit.models import AuditAction, AuditEvent
from audit.services import audit_event_record
from icp.rescoring import leads_rescore
from imports import services as import_services
from leads import services as lead_services
from leads.models import Lead
from tests.factories import CriterionFactory, ICPFactory, LeadFactory

pytestmark = pytest.mark.django_db


def no_personal_data(event: AuditEvent, *leads: Lead) -> bool:
    text = json.dumps(event.details)
    return not any(
        value and value in text
        for lead in leads
        for value in (lead.first_name, lead.last_name, lead.email)
    )


# --- Bulk actions ----------------------------------------------------------------------------


def test_a_bulk_stage_change_from_the_list_is_one_event_with_old_and_new_stages(
    client_of, salesperson
):
    new = LeadFactory(owner=salesperson, stage="new")
    contacted = LeadFactory(owner=salesperson, stage="contacted")
    already = LeadFactory(owner=salesperson, stage="qualified")

    client_of(salesperson).post(
        reverse("lead-bulk"),
        {
            "action": "stage",
            "to_stage": "qualified",
            "lead_ids": [new.pk, contacted.pk, already.pk],
        },
    )

    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.target, event.count) == (
        AuditAction.BULK_STAGE_CHANGE,
        salesperson,
        "leads.Lead",
        2,
    )
    assert event.details["lead_ids"] == sorted([new.pk, contacted.pk])
    assert event.details["stage"] == {
        "to": "qualified",
        "from": {str(new.pk): "new", str(contacted.pk): "contacted"},
    }
    assert no_personal_data(event, new, contacted, already)
    # Each lead's own history holds its change too.
    assert Lead.history.filter(id=new.pk, stage="qualified").get().history_user == salesperson


def test_a_bulk_follow_up_is_one_event(client_of, salesperson):
    leads = LeadFactory.create_batch(3, owner=salesperson)

    client_of(salesperson).post(
        reverse("lead-bulk"),
        {
            "action": "follow_up",
            "due_date": "2031-01-06",
            "lead_ids": [lead.pk for lead in leads],
        },
    )

    event = AuditEvent.objects.get()
    assert (event.action, event.count) == (AuditAction.BULK_FOLLOW_UP, 3)
    assert event.details == {
        "lead_ids": sorted(lead.pk for lead in leads),
        "follow_up_due_date": "2031-01-06",
    }


def test_a_bulk_action_that_changed_nothing_records_nothing(salesperson):
    lead = LeadFactory(owner=salesperson, stage="won")

    lead_services.leads_bulk_action(leads=[lead], user=salesperson, action="stage", to_stage="won")

    assert not AuditEvent.objects.exists()


def test_a_reassignment_from_the_admin_is_one_event_with_old_and_new_owners(
    client_of, manager, salesperson, other_salesperson
):
    leads = LeadFactory.create_batch(2, owner=salesperson, company=None)
    selected = [lead.pk for lead in leads]

    client_of(manager).post(
        reverse("admin:leads_lead_changelist"),
        {
            "action": "reassign_owner",
            ACTION_CHECKBOX_NAME: selected,
            "to_owner": other_salesperson.pk,
            "apply": 1,
        },
    )

    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.count) == (AuditAction.BULK_REASSIGN, manager, 2)
    assert event.details["lead_ids"] == sorted(selected)
    assert event.details["owner"] == {
        "to": other_salesperson.pk,
        "from": {str(pk): salesperson.pk for pk in selected},
    }
    assert str(event).startswith("2 × lead reassigned by morgan at ")


# --- Imports ---------------------------------------------------------------------------------


def test_an_import_is_one_event_for_its_owner(salesperson, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    LeadFactory(owner=salesperson, email="ada@example.com", title="")
    data = (
        b"First Name,Last Name,Email,Title\n"
        b"Ada,Lovelace,ada@example.com,Countess\n"
        b"Alan,Turing,alan@example.com,\n"
        b",,,\n"
    )
    job = import_services.import_job_create(owner=salesperson, data=data, filename="people.csv")

    job = import_services.import_job_start(job=job)

    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.target) == (
        AuditAction.IMPORT,
        salesperson,
        "leads.Lead",
    )
    assert event.count == job.created + job.updated == 2
    assert event.details["job_id"] == str(job.pk)
    assert (event.details["created"], event.details["updated"]) == (1, 1)
    assert event.details["status"] == "done"
    assert "Lovelace" not in json.dumps(event.details)


# --- Rescoring -------------------------------------------------------------------------------


def test_a_bulk_rescore_that_changed_scores_is_one_event(
    salesperson, django_capture_on_commit_callbacks
):
    CriterionFactory(icp=ICPFactory(owner=salesperson))
    LeadFactory.create_batch(3, owner=salesperson)

    with django_capture_on_commit_callbacks(execute=True):
        summary = leads_rescore(owner_id=salesperson.pk)

    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.count) == (AuditAction.RESCORE, None, 3)
    assert event.details == {
        "scored": summary.scored,
        "changed": 3,
        "owner_id": salesperson.pk,
        "icp_id": None,
    }
    assert str(event).startswith("3 × lead rescored by the system at ")


def test_a_rescore_that_changed_nothing_or_was_rolled_back_records_nothing(
    salesperson, django_capture_on_commit_callbacks
):
    CriterionFactory(icp=ICPFactory(owner=salesperson))
    LeadFactory.create_batch(2, owner=salesperson)
    with django_capture_on_commit_callbacks(execute=True):
        leads_rescore(owner_id=salesperson.pk)
    AuditEvent.objects.all().delete()

    with django_capture_on_commit_callbacks(execute=True):
        assert leads_rescore(owner_id=salesperson.pk).changed == 0
    Lead.objects.update(fit_score=1)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        rescore_then_roll_back(salesperson)

    assert not AuditEvent.objects.exists()


def rescore_then_roll_back(owner) -> None:
    with transaction.atomic():
        assert leads_rescore(owner_id=owner.pk).changed == 2
        raise RuntimeError


def test_a_rescore_from_the_admin_names_the_manager(
    client_of, manager, salesperson, django_capture_on_commit_callbacks
):
    CriterionFactory(icp=ICPFactory(owner=salesperson))
    leads = LeadFactory.create_batch(2, owner=salesperson)

    with django_capture_on_commit_callbacks(execute=True):
        client_of(manager).post(
            reverse("admin:leads_lead_changelist"),
            {"action": "rescore", ACTION_CHECKBOX_NAME: [lead.pk for lead in leads]},
        )

    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.count) == (AuditAction.RESCORE, manager, 2)


# --- The record itself -----------------------------------------------------------------------


def test_an_event_outside_a_request_without_an_actor_is_the_systems(salesperson):
    event = audit_event_record(action=AuditAction.MERGE, target=Lead, count=1, details={"id": 7})

    assert event.actor is None
    assert str(event).startswith("lead #7 merged by the system at ")


def test_an_unknown_action_is_refused():
    with pytest.raises(ValueError, match="Unknown audit action"):
        audit_event_record(action="shred", target=Lead, count=1)


def test_managers_read_the_events_in_the_admin_and_cannot_change_them(
    client_of, manager, salesperson
):
    event = audit_event_record(
        action=AuditAction.IMPORT,
        target=Lead,
        count=4,
        actor=salesperson,
        details={"job_id": "x"},
    )
    client = client_of(manager)

    listing = client.get(reverse("admin:audit_auditevent_changelist"), {"action": "import"})
    detail = client.get(reverse("admin:audit_auditevent_change", args=[event.pk]))
    add = client.get(reverse("admin:audit_auditevent_add"))
    delete = client.post(reverse("admin:audit_auditevent_delete", args=[event.pk]), {"post": "yes"})
    edit = client.post(reverse("admin:audit_auditevent_change", args=[event.pk]), {"count": 99})

    assert listing.status_code == 200
    assert "Import" in listing.content.decode()
    assert detail.status_code == 200
    assert (add.status_code, delete.status_code, edit.status_code) == (403, 403, 403)
    event.refresh_from_db()
    assert event.count == 4


def test_a_salesperson_has_no_audit_admin(client_of, salesperson):
    salesperson.is_staff = True
    salesperson.save()

    response = client_of(salesperson).get(reverse("admin:audit_auditevent_changelist"))

    assert response.status_code == 403


def test_bulk_due_dates_are_recorded_as_dates(salesperson):
    lead = LeadFactory(owner=salesperson)

    lead_services.leads_bulk_action(
        leads=[lead], user=salesperson, action="follow_up", due_date=date(2031, 2, 3)
    )

    assert AuditEvent.objects.get().details["follow_up_due_date"] == "2031-02-03"
