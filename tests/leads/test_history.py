from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from icp.rescoring import lead_rescore, leads_rescore
from leads import services
from leads.selectors import lead_history
from tests.factories import CriterionFactory, ICPFactory, ReferralSourceFactory

pytestmark = pytest.mark.django_db

CONTACT = {"first_name": "Dana", "last_name": "Smith", "title": "Head of Sales"}


@pytest.fixture
def lead(salesperson):
    return services.lead_create(owner=salesperson, **CONTACT, email="dana@example.com")


def edit_contact(client, lead, **changes):
    data = {**CONTACT, "email": lead.email, **changes}
    return client.post(reverse("lead-edit", args=[lead.pk, "contact"]), data)


def test_an_edit_on_the_lead_page_is_recorded_with_who_and_what(client_of, salesperson, lead):
    response = edit_contact(client_of(salesperson), lead, title="VP Sales")

    assert response.status_code == 302
    # The new title also brings its seniority (leads/seniority.py), recorded beside it.
    changes = {(row.field, row.old, row.new, row.who) for row in lead_history(lead)[:2]}
    assert ("Job title", "Head of Sales", "VP Sales", salesperson) in changes
    assert {row[0] for row in changes} == {"Job title", "Seniority"}


def test_the_history_names_choices_and_related_records(salesperson, lead):
    company = services.company_create(owner=salesperson, name="Acme")

    services.lead_update(lead=lead, user=salesperson, source="event", company=company)

    changes = {(row.field, row.old, row.new) for row in lead_history(lead)[:2]}
    assert changes == {("Source", "Other", "Event"), ("Company", "", "Acme")}


def test_a_deleted_company_is_named_by_its_id(salesperson, lead):
    company = services.company_create(owner=salesperson, name="Acme")
    services.lead_update(lead=lead, user=salesperson, company=company)
    company_id = company.pk

    company.delete()

    latest = lead_history(lead)[0]
    assert (latest.field, latest.new) == ("Company", f"#{company_id} (deleted)")


def test_a_change_made_outside_a_request_names_the_services_user(salesperson, lead):
    # A Celery task (an import, an email link) has no request: the service's user is the author.
    services.lead_update(lead=lead, user=salesperson, title="CTO")

    assert lead_history(lead)[0].who == salesperson


def test_a_stage_move_is_one_row_not_its_timestamps(salesperson, lead):
    services.lead_change_stage(lead=lead, to_stage="won", user=salesperson)

    assert [(row.field, row.old, row.new) for row in lead_history(lead)] == [
        ("Stage", "New", "Won"),
        ("Created", "", ""),
    ]


def test_rescoring_adds_no_history(salesperson, lead):
    CriterionFactory(icp=ICPFactory(owner=salesperson), field="title", value="Head of Sales")
    before = lead.history.count()

    lead_rescore(lead_id=lead.pk)
    leads_rescore(lead_ids=[lead.pk], now=timezone.now() + timedelta(days=1))

    lead.refresh_from_db()
    assert lead.fit_score == 100  # the score was written
    assert lead.history.count() == before


def test_follow_up_bookkeeping_adds_no_history(salesperson, lead):
    services.lead_change_stage(lead=lead, to_stage="contacted", user=salesperson)
    before = lead.history.count()

    services.activity_log(lead=lead, user=salesperson, kind="call", outcome="no_answer")

    lead.refresh_from_db()
    assert lead.unanswered_touches == 1
    assert lead.history.count() == before


def test_the_history_is_read_in_one_query_and_capped(salesperson, lead, django_assert_num_queries):
    for number in range(60):
        services.lead_update(lead=lead, user=salesperson, title=f"Title {number}")

    with django_assert_num_queries(1):
        rows = lead_history(lead, limit=50)

    assert len(rows) == 50
    assert (rows[0].old, rows[0].new) == ("Title 58", "Title 59")
    assert not any(row.is_creation for row in rows)  # the creation is beyond the cap


def test_the_lead_page_asks_for_the_history_card_which_shows_the_change(
    client_of, salesperson, lead, django_assert_num_queries
):
    client = client_of(salesperson)
    edit_contact(client, lead, title="VP Sales")
    history_url = reverse("lead-history", args=[lead.pk])

    page = client.get(reverse("lead-detail", args=[lead.pk])).content.decode()
    placeholder = page[page.index('id="lead-history"') :]
    placeholder = placeholder[: placeholder.index("</section>")]
    with django_assert_num_queries(5):  # session, user, lead, merges, history
        card = client.get(history_url, headers={"HX-Request": "true"}).content.decode()
    whole_page = client.get(history_url).content.decode()

    assert f'hx-get="{history_url}" hx-trigger="revealed"' in placeholder
    assert f'href="{history_url}"' in placeholder  # without JavaScript
    assert "Job title" not in placeholder
    assert card.lstrip().startswith('<section class="card history-card" id="lead-history"')
    assert 'hx-trigger="leadChanged from:body' in card  # reloads itself after an edit
    for html in (card, whole_page):
        assert "Job title" in html
        assert "VP Sales" in html
        assert str(salesperson) in html
    assert "Back to the lead" in whole_page


def test_only_who_sees_the_lead_sees_its_history(client_of, other_salesperson, lead):
    response = client_of(other_salesperson).get(reverse("lead-history", args=[lead.pk]))

    assert response.status_code == 404


def test_managers_read_the_history_in_the_admin_but_cannot_revert(client_of, manager, lead):
    services.lead_update(lead=lead, user=manager, title="VP Sales")
    client = client_of(manager)
    version = lead.history.earliest()

    history_page = client.get(reverse("admin:leads_lead_history", args=[lead.pk]))
    revert = client.post(
        reverse("admin:leads_lead_simple_history", args=[lead.pk, version.history_id]),
        {"first_name": "Reverted"},
    )

    assert history_page.status_code == 200
    assert "VP Sales" in history_page.content.decode()
    assert revert.status_code == 403
    lead.refresh_from_db()
    assert lead.title == "VP Sales"


@pytest.mark.parametrize(
    ("admin_url", "factory", "owned_by"),
    [
        ("admin:icp_icp_history", ICPFactory, "owner"),
        ("admin:icp_criterion_history", CriterionFactory, "icp__owner"),
        ("admin:referrals_referralsource_history", ReferralSourceFactory, "owner"),
    ],
)
def test_icps_criteria_and_referral_sources_have_a_history_in_the_admin(
    client_of, manager, salesperson, admin_url, factory, owned_by
):
    record = factory(**{owned_by: salesperson})

    response = client_of(manager).get(reverse(admin_url, args=[record.pk]))

    assert response.status_code == 200
    assert record.history.count() == 1
