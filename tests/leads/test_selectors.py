from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from leads import selectors
from leads.models import Lead
from tests.factories import ActivityFactory, CompanyFactory, FollowUpFactory, LeadFactory

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("UTC"))


@pytest.mark.django_db
def test_salespeople_see_their_own_rows_and_managers_the_team(
    salesperson, other_salesperson, manager
):
    mine = LeadFactory(owner=salesperson)
    theirs = LeadFactory(owner=other_salesperson)
    ActivityFactory(lead=mine)
    ActivityFactory(lead=theirs)
    FollowUpFactory(lead=theirs)

    assert list(selectors.leads_visible_to(salesperson)) == [mine]
    assert set(selectors.leads_visible_to(manager)) == {mine, theirs}
    assert {a.lead for a in selectors.activities_visible_to(salesperson)} == {mine}
    assert not selectors.follow_ups_visible_to(salesperson).exists()
    assert selectors.follow_ups_visible_to(manager).count() == 1
    assert {c.owner for c in selectors.companies_visible_to(salesperson)} == {salesperson}


@pytest.mark.django_db
def test_going_cold_uses_each_stages_limit(salesperson):
    cold_new = LeadFactory(owner=salesperson, stage="new", stage_changed_at=NOW - timedelta(days=4))
    LeadFactory(owner=salesperson, stage="new", stage_changed_at=NOW - timedelta(days=2))
    LeadFactory(owner=salesperson, stage="proposal", stage_changed_at=NOW - timedelta(days=20))
    cold_proposal = LeadFactory(
        owner=salesperson, stage="proposal", stage_changed_at=NOW - timedelta(days=31)
    )
    LeadFactory(owner=salesperson, stage="won", stage_changed_at=NOW - timedelta(days=300))

    cold = set(Lead.objects.filter(selectors.going_cold_condition(NOW)))

    assert cold == {cold_new, cold_proposal}
    assert selectors.is_going_cold(cold_new, NOW)


@pytest.mark.django_db
def test_follow_ups_due_are_the_users_own_up_to_the_moment(salesperson, other_salesperson):
    overdue = FollowUpFactory(lead=LeadFactory(owner=salesperson), due_at=NOW - timedelta(days=2))
    today = FollowUpFactory(lead=LeadFactory(owner=salesperson), due_at=NOW + timedelta(hours=3))
    FollowUpFactory(lead=LeadFactory(owner=salesperson), due_at=NOW + timedelta(days=3))
    FollowUpFactory(lead=LeadFactory(owner=other_salesperson), due_at=NOW - timedelta(days=1))
    FollowUpFactory(
        lead=LeadFactory(owner=salesperson), due_at=NOW - timedelta(days=1), done_at=NOW
    )

    due = list(selectors.follow_ups_due(salesperson, until=NOW + timedelta(hours=6)))

    assert due == [overdue, today]


@pytest.mark.django_db
def test_new_hand_raisers_are_those_not_yet_answered(salesperson):
    waiting = LeadFactory(
        owner=salesperson, stage="engaged", last_inbound_at=NOW - timedelta(hours=5)
    )
    LeadFactory(
        owner=salesperson,
        stage="engaged",
        last_inbound_at=NOW - timedelta(hours=5),
        last_contacted_at=NOW - timedelta(hours=1),
    )
    LeadFactory(owner=salesperson, stage="engaged", last_inbound_at=NOW - timedelta(days=5))

    assert list(selectors.hand_raisers_new(salesperson, since=NOW - timedelta(days=1))) == [waiting]


# --- Search (leads_filtered's q) ---------------------------------------------------------


@pytest.fixture(params=["few matches", "many matches"])
def search_path(request, monkeypatch):
    """lead_search turns few matches into lists of ids; with the limits at 0 every search
    takes the subquery path that many matches take (PostgreSQL only; SQLite has one path)."""
    if request.param == "many matches":
        monkeypatch.setattr(selectors, "SEARCH_FEW_LEADS", 0)
        monkeypatch.setattr(selectors, "SEARCH_FEW_COMPANIES", 0)
    return request.param


@pytest.mark.django_db
def test_search_matches_names_email_and_company_in_any_case(
    salesperson, other_salesperson, search_path
):
    acme = CompanyFactory(owner=salesperson, name="Acme Logistics")
    plain = CompanyFactory(owner=salesperson, name="Plain Co")
    mine = {"owner": salesperson, "company": plain}
    by_first = LeadFactory(**mine, first_name="Ngugi", last_name="Adeyemi")
    by_last = LeadFactory(**mine, first_name="Tom", last_name="Nguyen")
    by_email = LeadFactory(**mine, first_name="Ann", last_name="Poe", email="ngu.s@example.org")
    by_company = LeadFactory(owner=salesperson, first_name="Bo", last_name="Li", company=acme)
    LeadFactory(owner=salesperson, first_name="Ann", last_name="Smith", company=None)
    LeadFactory(
        owner=other_salesperson,
        first_name="Ngu",
        last_name="Hidden",
        company=CompanyFactory(owner=other_salesperson, name="Acme Logistics"),
    )

    def found(query: str) -> set[Lead]:
        return set(selectors.leads_filtered(salesperson, {"q": query}))

    assert found("NGU") == {by_first, by_last, by_email}
    assert found("gistic") == {by_company}
    assert found("nguyen tom") == {by_last}
    assert found("nguyen acme") == set()
    assert found("zzqx") == set()


@pytest.mark.django_db
def test_a_search_word_never_spans_two_fields(salesperson):
    # The index covers "Ann Aker a@…" joined by spaces: "nnak" must not match across them.
    LeadFactory(
        owner=salesperson,
        first_name="Ann",
        last_name="Aker",
        email="a@example.org",
        company=CompanyFactory(owner=salesperson, name="Plain Co"),
    )

    assert not selectors.leads_filtered(salesperson, {"q": "nnak"}).exists()
    assert selectors.leads_filtered(salesperson, {"q": "ann"}).count() == 1


@pytest.mark.django_db
def test_search_uses_the_trigram_indexes_on_postgresql_and_plain_like_on_sqlite(
    salesperson, search_path
):
    LeadFactory(
        owner=salesperson,
        first_name="Nguyen",
        last_name="Poe",
        company=CompanyFactory(owner=salesperson, name="Plain Co"),
    )
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            # Tiny test tables would be scanned; forbid that to see which indexes can serve.
            cursor.execute("SET LOCAL enable_seqscan = off")
            with CaptureQueriesContext(connection) as lookups:
                leads = selectors.leads_filtered(salesperson, {"q": "nguyen"})
            plan = leads.explain()
            # The id look-ups lead_search makes first (the user's role is looked up too).
            id_lookups = [
                query["sql"] for query in lookups.captured_queries if "LIKE" in query["sql"]
            ]
            lookup_plans = []
            for lookup in id_lookups:
                cursor.execute(f"EXPLAIN {lookup}")
                lookup_plans.append("\n".join(row[0] for row in cursor.fetchall()))
        assert len(id_lookups) == 2
        assert "lead_search_trgm" in lookup_plans[0]
        assert "company_name_trgm" in lookup_plans[1]
        if search_path == "many matches":  # the list's own query searches by subquery
            assert "lead_search_trgm" in plan
            assert "company_name_trgm" in plan
    else:
        leads = selectors.leads_filtered(salesperson, {"q": "nguyen"})
        sql = str(leads.query).upper()
        assert "LIKE" in sql
        assert "LEADS_COMPANY" in sql
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM sqlite_master WHERE name LIKE '%trgm%'")
            assert cursor.fetchall() == []
    assert [lead.first_name for lead in leads] == ["Nguyen"]
