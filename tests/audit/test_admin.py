"""The audit list in the admin: people's actions first, dates as the app prints them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from audit.models import AuditAction
from audit.services import audit_event_record
from leads.models import Lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def events(salesperson):
    by_a_person = audit_event_record(
        action=AuditAction.IMPORT, target=Lead, count=12, actor=salesperson
    )
    nightly = audit_event_record(action=AuditAction.RESCORE, target=Lead, count=900, actor=None)
    return by_a_person, nightly


def _listed_ids(response) -> set[int]:
    return {event.pk for event in response.context["cl"].result_list}


@pytest.mark.parametrize(
    ("made_by", "expected"),
    [(None, {"by_a_person"}), ("system", {"nightly"}), ("all", {"by_a_person", "nightly"})],
)
def test_the_list_shows_peoples_actions_unless_asked_for_scheduled_ones(
    client_of, manager, events, made_by, expected
):
    by_a_person, nightly = events
    params = {"made_by": made_by} if made_by else {}

    response = client_of(manager).get(reverse("admin:audit_auditevent_changelist"), params)

    names = {"by_a_person": by_a_person.pk, "nightly": nightly.pk}
    assert _listed_ids(response) == {names[name] for name in expected}


def test_the_default_filter_is_shown_as_chosen(client_of, manager, events):
    response = client_of(manager).get(reverse("admin:audit_auditevent_changelist"))

    [made_by] = [spec for spec in response.context["cl"].filter_specs if spec.title == "made by"]
    assert [
        choice["display"]
        for choice in made_by.choices(response.context["cl"])
        if choice["selected"]
    ] == ["People"]


def test_admin_dates_read_day_month_year_in_24_hours(client_of, manager, salesperson):
    event = audit_event_record(action=AuditAction.IMPORT, target=Lead, count=1, actor=salesperson)
    event.occurred_at = datetime(2026, 11, 29, 14, 5, tzinfo=UTC)
    event.save()

    page = client_of(manager).get(reverse("admin:audit_auditevent_changelist")).content.decode()

    assert "29 Nov 2026, 14:05" in page  # the manager's zone is London: UTC in November
    assert "p.m." not in page
    assert "Nov. 29" not in page
