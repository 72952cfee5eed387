from __future__ import annotations

import dataclasses
import re
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leads import selectors, services
from leads.models import Activity, FollowUp, Lead
from leads.templatetags.lead_tags import lead_row
from referrals.services import referral_ask_record
from tests.factories import (
    ActivityFactory,
    CompanyFactory,
    FollowUpFactory,
    LeadFactory,
    ReferralSourceFactory,
    UserFactory,
)

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("UTC"))
WEEK = timedelta(days=7)
HOUR = timedelta(hours=1)


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


# --- Today ---------------------------------------------------------------------------------

# NOW is a Monday, 10:00 in London: the salesperson's day runs from 00:00 to midnight UTC.


def lead_of(owner, **fields) -> Lead:
    return LeadFactory(owner=owner, **fields)


@pytest.mark.django_db
def test_today_ranks_every_due_item_best_first_not_the_soonest_due(salesperson):
    # 60 weak leads due since last week (the soonest due) and three strong ones due this
    # afternoon: the old queue took the 40 soonest and never saw the strong three.
    for days in range(60):
        lead = lead_of(salesperson, total_score=20 + days % 5)
        FollowUpFactory(lead=lead, due_at=NOW - timedelta(days=3, hours=days))
    strong = [lead_of(salesperson, total_score=score) for score in (80, 90, 85)]
    for lead in strong:
        FollowUpFactory(lead=lead, due_at=NOW + timedelta(hours=4))

    queue = selectors.today_queue(salesperson, now=NOW)

    assert [item.lead for item in queue.items[:3]] == [strong[1], strong[2], strong[0]]
    assert len(queue.items) == selectors.TODAY_QUEUE_LIMIT
    assert queue.total == 63
    assert queue.more_due == 63 - selectors.TODAY_QUEUE_LIMIT
    assert [item.priority for item in queue.items] == sorted(
        (item.priority for item in queue.items), reverse=True
    )
    everything = selectors.today_queue(salesperson, now=NOW, limit=100)
    assert len(everything.items) == 63
    assert everything.more_due == 0
    assert not everything.total_capped


@pytest.mark.django_db
def test_today_stops_counting_at_the_cap(salesperson, monkeypatch):
    monkeypatch.setattr(selectors, "TODAY_COUNT_CAP", 4)
    for _ in range(6):
        FollowUpFactory(lead=lead_of(salesperson), due_at=NOW)

    queue = selectors.today_queue(salesperson, now=NOW, limit=2)

    assert (queue.total, queue.total_capped, queue.more_due) == (4, True, 2)


@pytest.mark.django_db
def test_a_lead_going_cold_leaves_today_once_it_is_worked(salesperson):
    """Found by a new user: a lead called this morning came back after a reload as "Going cold"
    (time in the stage). Touched lately, it is being worked; untouched, it is Today's work."""
    stuck = NOW - timedelta(days=30)  # Qualified goes cold after 21 days
    worked = lead_of(salesperson, stage="qualified", stage_changed_at=stuck)
    worked.last_contacted_at = NOW - timedelta(hours=2)
    worked.save()
    touched_last_week = lead_of(salesperson, stage="qualified", stage_changed_at=stuck)
    touched_last_week.last_contacted_at = NOW - timedelta(days=8)
    touched_last_week.save()

    items = {item.lead for item in selectors.today_queue(salesperson, now=NOW).items}

    assert items == {touched_last_week}
    assert selectors.is_going_cold(worked, NOW)  # still shown as cold on its own page


@pytest.mark.django_db
def test_today_has_one_row_per_lead_of_each_kind_of_work(salesperson, other_salesperson):
    week_ago = NOW - timedelta(days=8)
    due = lead_of(salesperson, stage="contacted")
    due_follow_up = FollowUpFactory(lead=due, due_at=NOW - timedelta(days=1))
    answer = lead_of(salesperson, stage="engaged", last_inbound_at=NOW - timedelta(days=2))
    answer_follow_up = FollowUpFactory(lead=answer, kind="respond", due_at=NOW)
    raised = lead_of(salesperson, stage="engaged", last_inbound_at=NOW - timedelta(hours=3))
    FollowUpFactory(lead=raised, kind="respond", due_at=NOW + timedelta(days=1))
    cold = lead_of(salesperson, stage="new", stage_changed_at=week_ago)
    unnamed = lead_of(salesperson, source="referral")
    unnamed_and_due = lead_of(salesperson, source="referral")
    FollowUpFactory(lead=unnamed_and_due, due_at=NOW)
    # Nothing to do for these: due tomorrow, done, closed, someone else's, named referrer.
    FollowUpFactory(lead=lead_of(salesperson), due_at=NOW + timedelta(days=1))
    FollowUpFactory(lead=lead_of(salesperson), due_at=NOW - timedelta(days=1), done_at=NOW)
    lead_of(salesperson, stage="lost", source="referral", stage_changed_at=week_ago)
    FollowUpFactory(lead=lead_of(other_salesperson), due_at=NOW - timedelta(days=1))
    source = ReferralSourceFactory(owner=salesperson)
    lead_of(salesperson, source="referral", referred_by=source)

    items = {item.lead: item for item in selectors.today_queue(salesperson, now=NOW).items}

    assert set(items) == {due, answer, raised, cold, unnamed, unnamed_and_due}
    assert (items[due].kind, items[due].follow_up, items[due].overdue) == (
        "follow_up",
        due_follow_up,
        True,
    )
    assert (items[answer].kind, items[answer].follow_up) == ("hand_raiser", answer_follow_up)
    assert items[answer].reason == "Respond to hand-raise"
    assert (items[raised].kind, items[raised].follow_up) == ("hand_raiser", None)
    assert items[raised].reason == "Raised a hand"
    assert (items[cold].kind, items[cold].reason) == ("going_cold", "Going cold in New")
    assert items[unnamed].kind == "missing_referrer"
    assert items[unnamed].needs_referrer
    assert items[unnamed_and_due].kind == "follow_up"
    assert items[unnamed_and_due].needs_referrer
    assert not items[due].needs_referrer


@pytest.mark.django_db
def test_today_weighs_score_value_overdue_and_kind_of_work(salesperson):
    def item_of(lead):
        queue = selectors.today_queue(salesperson, now=NOW)
        return next(item for item in queue.items if item.lead == lead)

    big_deal = lead_of(salesperson, total_score=50, expected_value=Decimal(5_000_000))
    FollowUpFactory(lead=big_deal, due_at=NOW)
    small_deal = lead_of(salesperson, total_score=50, expected_value=Decimal(10_000))
    FollowUpFactory(lead=small_deal, due_at=NOW - timedelta(days=1))
    # They wrote last week and are still waiting for an answer.
    answer = lead_of(salesperson, total_score=50, stage="engaged", last_inbound_at=NOW - WEEK)
    FollowUpFactory(lead=answer, kind="respond", due_at=NOW - timedelta(days=1))
    # They answered the last call: the follow-up is just the next step.
    answered = lead_of(
        salesperson,
        total_score=50,
        stage="engaged",
        last_inbound_at=NOW - WEEK,
        last_contacted_at=NOW - WEEK,
    )
    FollowUpFactory(lead=answered, due_at=NOW)
    cold = lead_of(salesperson, total_score=50, stage="new", stage_changed_at=NOW - timedelta(9))
    unnamed = lead_of(salesperson, total_score=50, source="referral")

    assert item_of(big_deal).priority == 50 + 20  # value counts, capped at 20 points
    assert item_of(small_deal).priority == 50 + 5 + 10  # €10k is 5 points; overdue 10
    assert item_of(answer).priority == 50 + 15 + 10  # a hand-raise waiting, overdue
    assert (item_of(answer).kind, item_of(answer).reason) == (
        "hand_raiser",
        "Respond to hand-raise",
    )
    assert (item_of(answered).kind, item_of(answered).priority) == ("follow_up", 50)
    assert item_of(cold).priority == 50 - 5
    assert item_of(unnamed).priority == 50 + 10


@pytest.mark.django_db
def test_a_hand_raise_of_the_last_day_tops_today_until_it_is_answered(salesperson):
    best = lead_of(salesperson, total_score=99, expected_value=Decimal(5_000_000))
    FollowUpFactory(lead=best, due_at=NOW - WEEK)
    asked = lead_of(salesperson, total_score=10, stage="engaged", last_inbound_at=NOW - HOUR)
    FollowUpFactory(lead=asked, kind="respond", due_at=NOW - HOUR)
    # Asked two days ago: still a hand-raise, but no longer above everything.
    older = lead_of(salesperson, total_score=10, stage="engaged", last_inbound_at=NOW - 48 * HOUR)

    def order():
        return [item.lead for item in selectors.today_queue(salesperson, now=NOW).items]

    assert order() == [asked, best, older]
    Lead.objects.filter(pk=asked.pk).update(last_contacted_at=NOW)  # answered
    assert order()[0] == best


@pytest.mark.django_db
@pytest.mark.parametrize("due", [3, 300])
def test_today_queue_takes_the_same_queries_for_3_or_300_items_due(
    salesperson, django_assert_num_queries, due
):
    leads = Lead.objects.bulk_create(
        Lead(
            owner=salesperson,
            first_name=f"Lead {number}",
            stage="contacted",
            stage_changed_at=NOW,
            total_score=number % 100,
        )
        for number in range(due)
    )
    for lead in leads:
        lead.next_follow_up_at = NOW - timedelta(hours=lead.pk % 72)
    Lead.objects.bulk_update(leads, ["next_follow_up_at"])
    FollowUp.objects.bulk_create(
        FollowUp(lead=lead, kind="follow_up", due_at=lead.next_follow_up_at) for lead in leads
    )

    # The ranking with how many are due, the ranked page of leads with their follow-ups and
    # companies, the best uncontacted leads, the touches today.
    with django_assert_num_queries(4):
        queue = selectors.today_queue(salesperson, now=NOW)
        rows = [(item.lead.company, item.follow_up.due_at, item.reason) for item in queue.items]

    assert len(rows) == min(due, selectors.TODAY_QUEUE_LIMIT)
    assert queue.total == due


@pytest.mark.django_db
def test_todays_ranking_built_once_ranks_as_the_orm_at_any_moment(salesperson, other_salesperson):
    """Today's ranking query is built once per process (`TODAY_RANKING`) and run with each
    Today's owner, moment and day: its answer must be the ORM's for the same values."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only (CI runs it on PostgreSQL): SQLite runs the ORM's query")
    for owner in (salesperson, other_salesperson):
        for hours in (-30, -2, 0, 5, 20, 60):
            lead_of(
                owner, total_score=40 + hours % 50, next_follow_up_at=NOW + timedelta(hours=hours)
            )
            lead_of(
                owner,
                total_score=50 - hours % 40,
                last_inbound_at=NOW + timedelta(hours=hours - 12),
                last_contacted_at=NOW - timedelta(days=2) if hours % 2 else None,
                expected_value=Decimal(hours * 1000 + 30000),
            )
        for days in (5, 15, 40):
            lead_of(owner, stage="contacted", stage_changed_at=NOW - timedelta(days=days))
        lead_of(owner, source="referral", total_score=35)
        snoozed = lead_of(owner, last_inbound_at=NOW - timedelta(hours=3))
        FollowUpFactory(lead=snoozed, due_at=NOW + timedelta(days=2), snooze_count=1)

    answers = []
    for owner in (salesperson, other_salesperson, salesperson):
        for zone in ("Pacific/Auckland", "America/Los_Angeles"):
            owner.time_zone = zone
            for moment in (NOW, NOW + timedelta(hours=13), NOW + timedelta(days=3, hours=1)):
                start, end = selectors.local_day_bounds(owner, moment)
                for limit in (selectors.TODAY_QUEUE_LIMIT, 3):
                    values = {
                        "owner_id": owner.pk,
                        "now": moment,
                        "start": start,
                        "end": end,
                        "limit": limit,
                    }
                    answers.append(
                        (
                            selectors.TODAY_RANKING.rows(**values),
                            list(selectors.today_ranking(**values)),
                        )
                    )

    for prepared, expected in answers:
        assert prepared == expected
    # The moments, days and owners give different rankings (the check above has teeth).
    assert len({tuple(expected) for _prepared, expected in answers}) >= 12


@pytest.mark.django_db
def test_referral_asks_count_towards_the_touch_goal_once_each(salesperson, other_salesperson):
    customer = lead_of(salesperson, stage="won")
    customer_source = ReferralSourceFactory(owner=salesperson, kind="customer", lead=customer)
    partner = ReferralSourceFactory(owner=salesperson, kind="partner")
    ActivityFactory(lead=lead_of(salesperson), user=salesperson, kind="email", occurred_at=NOW)
    # The customer's ask also leaves a "referral ask" activity on their lead: still one touch.
    referral_ask_record(source=customer_source, user=salesperson, channel="call", asked_at=NOW)
    referral_ask_record(source=partner, user=salesperson, channel="meeting", asked_at=NOW)
    yesterday = NOW - timedelta(days=1)
    referral_ask_record(source=partner, user=salesperson, asked_at=yesterday)
    theirs = ReferralSourceFactory(owner=other_salesperson)
    referral_ask_record(source=theirs, user=other_salesperson, asked_at=NOW)

    assert Activity.objects.filter(lead=customer, kind="referral_ask").count() == 1
    assert selectors.touches_today(salesperson, now=NOW) == 3
    assert selectors.today_queue(salesperson, now=NOW).touches_today == 3
    assert selectors.touches_today(other_salesperson, now=NOW) == 1


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
def test_one_salespersons_search_counts_their_matches_only(
    salesperson, other_salesperson, manager, monkeypatch
):
    monkeypatch.setattr(selectors, "SEARCH_FEW_LEADS", 2)
    theirs = LeadFactory.create_batch(3, owner=other_salesperson, last_name="Nguyen")
    mine = LeadFactory(owner=salesperson, last_name="Nguyen")
    team = {"q": "nguyen"}
    one_rep = {"q": "nguyen", "owner": other_salesperson.pk}

    def searched_by_subquery(leads) -> bool:
        return "leads_lead_search" in str(leads.query)

    assert set(selectors.leads_filtered(salesperson, team)) == {mine}
    assert set(selectors.leads_filtered(manager, team)) == {mine, *theirs}
    assert set(selectors.leads_filtered(manager, one_rep)) == set(theirs)
    if connection.vendor == "postgresql":  # SQLite searches the columns themselves
        # Three matches in the team are "many"; one of the salesperson's is "few".
        assert not searched_by_subquery(selectors.leads_filtered(salesperson, team))
        assert searched_by_subquery(selectors.leads_filtered(manager, team))
        assert searched_by_subquery(selectors.leads_filtered(manager, one_rep))


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
def test_search_follows_a_lead_renamed_emailed_updated_in_bulk_and_deleted(
    salesperson, search_path
):
    plain = CompanyFactory(owner=salesperson, name="Plain Co")
    lead = LeadFactory(owner=salesperson, first_name="Ann", last_name="Poe", company=plain)

    def found(query: str) -> list[int]:
        return [found.pk for found in selectors.leads_filtered(salesperson, {"q": query})]

    assert found("poe") == [lead.pk]
    lead.last_name = "Okafor"
    lead.save()
    assert (found("poe"), found("okafor")) == ([], [lead.pk])
    Lead.objects.filter(pk=lead.pk).update(email="zed.q@example.org")
    assert found("zed.q") == [lead.pk]
    Lead.objects.filter(pk=lead.pk).update(first_name="Bea")
    assert (found("ann"), found("bea"), found("zed.q")) == ([], [lead.pk], [lead.pk])
    Lead.objects.filter(pk=lead.pk).delete()
    assert found("bea") == []


@pytest.mark.django_db
def test_search_finds_leads_created_many_at_once_and_forgets_those_deleted_together(
    salesperson, search_path
):
    # An import writes its leads 1,000 to a statement (COPY on PostgreSQL), and the search
    # text of a whole statement's leads is written, or removed, at once.
    names = [("Ann", "Poe"), ("Bo", "Okafor"), ("Cy", "Poe"), ("Di", "Lund")]
    created = services.leads_bulk_create(
        leads=[
            services.lead_new(owner=salesperson, first_name=first, last_name=last)
            for first, last in names
        ],
        created_by=salesperson,
    )
    ann, bo, cy, di = (lead.pk for lead in created)

    def found(query: str) -> set[int]:
        return {found.pk for found in selectors.leads_filtered(salesperson, {"q": query})}

    assert (found("poe"), found("okafor"), found("lund")) == ({ann, cy}, {bo}, {di})
    Lead.objects.filter(pk__in=[ann, bo, di]).delete()
    assert (found("poe"), found("okafor"), found("lund")) == ({cy}, set(), set())
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT lead_id FROM leads_lead_search WHERE lead_id = ANY(%s)", [[ann, bo, cy, di]]
            )
            assert cursor.fetchall() == [(cy,)]


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the table is PostgreSQL's only")
def test_the_search_text_is_the_leads_own_and_a_score_write_leaves_it_alone(salesperson):
    lead = LeadFactory(owner=salesperson, first_name="Ann", last_name="Poe", email="a@b.org")
    other = LeadFactory(owner=salesperson, first_name="Bo", last_name="", email="bo@b.org")

    def search_rows() -> list[tuple]:
        with connection.cursor() as cursor:
            # xmin: the transaction that last wrote the row, i.e. whether anything rewrote it.
            cursor.execute("SELECT lead_id, text, xmin::text FROM leads_lead_search ORDER BY 1")
            return cursor.fetchall()

    before = search_rows()
    assert [(lead_id, text) for lead_id, text, _ in before] == [
        (lead.pk, "Ann Poe a@b.org"),
        (other.pk, "Bo  bo@b.org"),
    ]
    with transaction.atomic():  # a new transaction id for whatever it writes
        Lead.objects.filter(pk=lead.pk).update(total_score=77, fit_score=80, grade="A")
        lead.refresh_from_db()
        lead.save()  # every column set, the text unchanged
    assert search_rows() == before


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the table is PostgreSQL's only")
def test_emptying_the_leads_table_empties_the_search_text(salesperson):
    LeadFactory(owner=salesperson, first_name="Ann")
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE leads_lead CASCADE")  # what `manage.py flush` does
        cursor.execute("SELECT COUNT(*) FROM leads_lead_search")
        assert cursor.fetchone() == (0,)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the table is PostgreSQL's only")
def test_the_search_table_migration_carries_the_text_there_and_back(salesperson):
    lead = LeadFactory(owner=salesperson, first_name="Ann", last_name="Poe", email="")
    before, after = ("leads", "0016_lead_email_bounced_at"), ("leads", "0017_lead_search_table")

    def where_the_index_is() -> tuple:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT to_regclass('leads_lead_search') IS NOT NULL, "
                "(SELECT indrelid::regclass::text FROM pg_index "
                " WHERE indexrelid = to_regclass('lead_search_trgm'))"
            )
            return cursor.fetchone()

    try:
        MigrationExecutor(connection).migrate([before])
        assert where_the_index_is() == (False, "leads_lead")
        Lead.objects.filter(pk=lead.pk).update(last_name="Okafor")  # no trigger any more
        MigrationExecutor(connection).migrate([after])
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert where_the_index_is() == (True, "leads_lead_search")
    assert [lead.pk for lead in selectors.leads_filtered(salesperson, {"q": "okafor"})] == [lead.pk]
    assert not selectors.leads_filtered(salesperson, {"q": "poe"}).exists()


@pytest.mark.django_db
def test_search_uses_the_trigram_indexes_on_postgresql_and_plain_like_on_sqlite(
    salesperson, manager, search_path
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
            # The team's search: one salesperson's look-ups join their leads, which in tables
            # this small PostgreSQL reads by owner instead (at 100k: docs/performance.md, 21).
            with CaptureQueriesContext(connection) as lookups:
                leads = selectors.leads_filtered(manager, {"q": "nguyen"})
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


@pytest.mark.django_db
def test_a_hand_raise_whose_answer_was_snoozed_waits_for_the_day_it_was_snoozed_to(salesperson):
    """Seen in a new-user trial: snoozed to tomorrow, it came back at once as "Raised a hand"."""
    raised = lead_of(salesperson, stage="engaged", last_inbound_at=NOW - timedelta(hours=3))
    answer = FollowUpFactory(lead=raised, kind="respond", due_at=NOW - timedelta(hours=1))
    assert raised in {item.lead for item in selectors.today_queue(salesperson, now=NOW).items}

    services.follow_up_snooze(follow_up=answer, user=salesperson, days=1, now=NOW)

    assert raised not in {item.lead for item in selectors.today_queue(salesperson, now=NOW).items}
    tomorrow = NOW + timedelta(days=1, hours=1)
    [item] = [i for i in selectors.today_queue(salesperson, now=tomorrow).items if i.lead == raised]
    assert item.kind == "hand_raiser"
    assert item.follow_up == answer


@pytest.mark.django_db
def test_today_shows_how_long_a_hand_raiser_has_waited_since_the_first_unanswered_hand_raise(
    salesperson,
):
    def log(lead, kind, ago, direction=None):
        services.activity_log(
            lead=lead,
            user=salesperson,
            kind=kind,
            direction=direction,
            occurred_at=NOW - ago,
            now=NOW - ago,
        )

    twice = lead_of(salesperson, first_name="Twice", stage="contacted")
    log(twice, "replied", timedelta(hours=3, minutes=20))
    log(twice, "asked_for_demo", timedelta(minutes=30))  # the clock keeps running from the first
    answered = lead_of(salesperson, first_name="Answered", stage="contacted")
    log(answered, "asked_for_info", timedelta(days=3))
    log(answered, "call", timedelta(days=2))  # answered the first…
    log(answered, "was_introduced", timedelta(minutes=12, seconds=30))  # …waits for this one
    days = lead_of(salesperson, first_name="Days", stage="engaged")
    log(days, "attended_event", timedelta(days=2, hours=5))
    follow_up = lead_of(salesperson, first_name="Due", next_follow_up_at=NOW - timedelta(hours=1))
    FollowUpFactory(lead=follow_up, due_at=NOW - timedelta(hours=1))

    waits = {
        item.lead.first_name: (item.kind, item.waiting)
        for item in selectors.today_queue(salesperson, now=NOW).items
    }

    assert waits == {
        "Twice": ("hand_raiser", timedelta(hours=3, minutes=20)),
        "Answered": ("hand_raiser", timedelta(minutes=12, seconds=30)),
        "Days": ("hand_raiser", timedelta(days=2, hours=5)),
        "Due": ("follow_up", None),
    }


@pytest.mark.django_db
def test_a_deep_page_starts_the_index_scan_at_its_cursor_on_postgresql(manager, salesperson):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only (CI runs it on PostgreSQL): the plan is PostgreSQL's")
    LeadFactory.create_batch(3, owner=salesperson)
    leads = selectors.leads_visible_to(manager)
    first = selectors.lead_page(leads, sort="score", size=1)
    with transaction.atomic(), connection.cursor() as cursor:
        # Tiny test tables would be scanned and sorted; forbid that to see what the index serves.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        with CaptureQueriesContext(connection) as queries:
            second = selectors.lead_page(leads, sort="score", after=first.next_cursor, size=1)
        page_sql = next(
            q["sql"]
            for q in queries.captured_queries
            if "ROW(" in q["sql"].upper() or ") < (" in q["sql"]
        )
        cursor.execute(f"EXPLAIN {page_sql}")
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert second.leads
    assert second.leads[0].pk != first.leads[0].pk
    # The cursor is where the scan of the score index starts (an Index Cond), not a Filter
    # applied to every row before it.
    assert "lead_score" in plan
    assert "Index Cond: (ROW(" in plan


def _page_plan(
    leads, *, sort: str = "score", settings: tuple[str, ...] = ()
) -> tuple[str, selectors.LeadPage]:
    """The EXPLAIN of the second page's query (one lead a page), with scans of the tiny test
    tables (and any `settings`) forbidden to see what the indexes serve."""
    first = selectors.lead_page(leads, sort=sort, size=1)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("ANALYZE leads_lead")
        for setting in ("enable_seqscan", "enable_bitmapscan", *settings):
            cursor.execute(f"SET LOCAL {setting} = off")
        with CaptureQueriesContext(connection) as queries:
            second = selectors.lead_page(leads, sort=sort, after=first.next_cursor, size=1)
        [page_sql] = [q["sql"] for q in queries.captured_queries]
        cursor.execute(f"EXPLAIN {page_sql}")
        return "\n".join(row[0] for row in cursor.fetchall()), second


@pytest.mark.django_db
def test_a_filtered_deep_page_can_read_its_ids_from_the_index_alone_on_postgresql(
    manager, salesperson
):
    """Issue 20: a list by stage + source, best first. The ids' query reads only columns that
    lead_stage_score (the manager's) and lead_owner_stage_score (a salesperson's) hold, so
    PostgreSQL can answer it with an index-only scan that starts at the cursor and tests the
    source on index entries. (Which index a tiny test table gets is the planner's whim; the
    plans at 100k leads are in docs/performance.md, section 17.d.)"""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only (CI runs it on PostgreSQL): the indexes are PostgreSQL's")
    for source in ("referral", "referral", "referral", "marketing", "event"):
        LeadFactory(owner=salesperson, stage="contacted", source=source)
    filters = {"stage": "contacted", "source": "referral"}
    first = selectors.lead_page(selectors.leads_filtered(manager, filters), sort="score", size=1)
    with CaptureQueriesContext(connection) as queries:
        second = selectors.lead_page(
            selectors.leads_filtered(manager, filters),
            sort="score",
            after=first.next_cursor,
            size=1,
        )
    [page_sql] = [query["sql"] for query in queries.captured_queries]
    ids_sql = page_sql[page_sql.index("IN (SELECT") :]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE indexname IN "
            "('lead_stage_score', 'lead_owner_stage_score')"
        )
        definitions = dict(cursor.fetchall())

    # The ids' query: the id, compared from the cursor with the score; stage and source.
    assert ids_sql.startswith('IN (SELECT U0."id" AS "pk" FROM "leads_lead" U0 WHERE')
    assert '(U0."total_score", U0."id") < (' in ids_sql
    assert {"stage", "source"} <= set(re.findall(r'U0\."(\w+)" =', ids_sql))
    assert definitions["lead_stage_score"].endswith(
        "(stage, total_score DESC, id DESC) INCLUDE (expected_value, source)"
    )
    assert definitions["lead_owner_stage_score"].endswith(
        "(owner_id, stage, total_score DESC, id DESC) INCLUDE (source)"
    )
    assert [(lead.source, lead.stage) for lead in second.leads] == [("referral", "contacted")]


@pytest.mark.django_db
def test_a_deep_page_by_date_added_can_start_at_its_cursor_in_an_index_on_postgresql(
    manager, salesperson
):
    """Issue 20: sorted by date added, a salesperson's list walks lead_owner_created and the
    team's lead_created, each ending in the id, from the cursor on: the bench's salesperson
    whose leads are the oldest read 90,000 others' before its first page when the sort was by
    id alone (70 ms); the plans at 100k leads are in docs/performance.md, section 19."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only (CI runs it on PostgreSQL): the indexes are PostgreSQL's")
    LeadFactory.create_batch(3, owner=salesperson)
    for user in (salesperson, manager):
        first = selectors.lead_page(selectors.leads_visible_to(user), sort="created", size=1)
        with CaptureQueriesContext(connection) as queries:
            selectors.lead_page(
                selectors.leads_visible_to(user), sort="created", after=first.next_cursor, size=1
            )
        [page_sql] = [query["sql"] for query in queries.captured_queries]
        assert '(U0."created_at", U0."id") < (' in page_sql
        assert 'ORDER BY U0."created_at" DESC, U0."id" DESC' in page_sql
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE indexname IN "
            "('lead_owner_created', 'lead_created')"
        )
        definitions = dict(cursor.fetchall())

    assert definitions["lead_owner_created"].endswith("(owner_id, created_at DESC, id DESC)")
    assert definitions["lead_created"].endswith("(created_at, id) INCLUDE (stage, furthest_stage)")


@pytest.mark.django_db
def test_a_search_can_walk_the_score_index_alone_on_postgresql(manager, salesperson):
    """A manager's search matching many leads tests each lead's id and company; lead_score
    includes the company, so the walk in score order reads index entries, not table rows."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only (CI runs it on PostgreSQL): the indexes are PostgreSQL's")
    acme = CompanyFactory(owner=salesperson, name="Nguyen Logistics")
    LeadFactory(owner=salesperson, company=acme)
    LeadFactory(owner=salesperson, last_name="Nguyen")
    LeadFactory(owner=salesperson, last_name="Other")
    with CaptureQueriesContext(connection) as queries:
        page = selectors.lead_page(selectors.leads_filtered(manager, {"q": "nguyen"}), sort="score")
    page_sql = queries.captured_queries[-1]["sql"]
    ids_sql = page_sql[page_sql.index("IN (SELECT") : page_sql.index("LIMIT")]
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'lead_score'")
        [(definition,)] = cursor.fetchall()

    # The ids' query reads, of its own leads, only what lead_score holds (the words' look-ups
    # are subqueries of their own, under other aliases).
    ids_select = re.match(r'IN \(SELECT (\w+)\."id"', ids_sql)
    assert ids_select is not None
    assert set(re.findall(rf'\b{ids_select.group(1)}\."(\w+)"', ids_sql)) == {
        "id",
        "company_id",
        "total_score",
    }
    assert definition.endswith("(total_score DESC, id DESC) INCLUDE (company_id)")
    assert len(page.leads) == 2


@pytest.mark.django_db
@pytest.mark.parametrize("sort", list(selectors.LEAD_SORTS))
def test_every_sort_pages_through_each_lead_once(salesperson, sort):
    """The page's ids come from a subquery and its rows from a second read of them: the
    order and the cursors must still agree, missing values (no follow-up, no value) last."""
    for number in range(7):
        lead = LeadFactory(
            owner=salesperson,
            last_name=f"Poe{number % 3}",
            total_score=number % 2 * 50,
            expected_value=None if number % 3 == 0 else Decimal(1000 * (number % 2)),
            next_follow_up_at=None if number % 2 else NOW + timedelta(days=number % 3),
        )
        # Ties, as an import's leads share their moment, and dates out of id order.
        Lead.objects.filter(pk=lead.pk).update(created_at=NOW - timedelta(days=number % 3))
    leads = selectors.leads_visible_to(salesperson)
    expected = [lead.pk for lead in selectors.lead_page(leads, sort=sort, size=100).leads]

    seen, after = [], ""
    while True:
        page = selectors.lead_page(leads, sort=sort, after=after, size=2)
        seen += [lead.pk for lead in page.leads]
        if page.next_cursor is None:
            break
        after = page.next_cursor

    assert seen == expected
    assert sorted(seen) == sorted(
        Lead.objects.filter(owner=salesperson).values_list("pk", flat=True)
    )


def test_a_lead_rows_fields_are_the_columns_it_is_read_from_in_their_order():
    """`LeadRow(*values)` takes the columns by position: a swap of two columns of one type
    would print one in the other's place."""
    columns = [
        {"id": "pk", "company__name": "company_name"}.get(column, column)
        for column in selectors.LEAD_ROW_FIELDS
    ]

    names = [field.name for field in dataclasses.fields(selectors.LeadRow)]

    assert names[: len(columns)] == columns
    assert names[len(columns) :] == ["sort_key", "owner"]


@pytest.mark.django_db
@pytest.mark.parametrize("with_owner", [False, True])
def test_a_lead_list_row_holds_and_draws_what_its_lead_does(salesperson, with_owner):
    """The list's rows are plain values, not `Lead`s: each must read, and draw, as its lead."""
    nameless = UserFactory(username="nameless.rep", first_name="", last_name="")
    LeadFactory(owner=salesperson, first_name="Ada", title="", expected_value=Decimal("12000"))
    LeadFactory(owner=salesperson, first_name="", last_name="", email="who@example.org")
    LeadFactory(
        owner=nameless,
        company=None,
        stage="won",
        source="referral",
        currency="GBP",
        expected_value=Decimal("1234.56"),
        next_follow_up_at=NOW + timedelta(days=2),
        grade="A",
        total_score=91,
        fit_score=88,
        intent_score=95,
    )
    LeadFactory(owner=nameless, first_name="<b>", company=CompanyFactory(name="R&D <i>"))

    for sort in selectors.LEAD_SORTS:
        page = selectors.lead_page(Lead.objects.all(), sort=sort, with_owner=with_owner)
        leads = Lead.objects.select_related("company", "owner").in_bulk(
            [row.pk for row in page.leads]
        )
        assert len(page.leads) == 4
        for row in page.leads:
            lead = leads[row.pk]
            assert (str(row), row.get_stage_display(), row.get_source_display()) == (
                str(lead),
                lead.get_stage_display(),
                lead.get_source_display(),
            )
            assert row.owner == (str(lead.owner) if with_owner else "")
            if lead.company is None:
                assert row.company is None
            else:
                assert (row.company.pk, row.company.name) == (lead.company.pk, lead.company.name)
            with timezone.override("America/Los_Angeles"):
                assert lead_row(row, NOW, with_owner) == lead_row(lead, NOW, with_owner)


@pytest.mark.django_db
def test_the_added_sort_follows_the_date_added_shown_not_the_order_of_creation(salesperson):
    # An import's "added on" date (and the demo's history) gives leads an earlier date than
    # leads created before them.
    newest = LeadFactory(owner=salesperson, last_name="Newest")
    backdated = LeadFactory(owner=salesperson, last_name="Backdated")
    Lead.objects.filter(pk=newest.pk).update(created_at=NOW)
    Lead.objects.filter(pk=backdated.pk).update(created_at=NOW - timedelta(days=400))
    middle = LeadFactory(owner=salesperson, last_name="Middle")
    Lead.objects.filter(pk=middle.pk).update(created_at=NOW - timedelta(days=30))

    page = selectors.lead_page(selectors.leads_visible_to(salesperson), sort="created")

    assert [lead.last_name for lead in page.leads] == ["Newest", "Middle", "Backdated"]


def test_a_hand_raiser_whose_last_word_was_an_email_reply_shows_replied(salesperson):
    replied = lead_of(salesperson, stage="engaged", last_inbound_at=NOW - timedelta(hours=1))
    ActivityFactory(
        lead=replied, kind="replied", direction="inbound", occurred_at=NOW - timedelta(hours=1)
    )
    asked = lead_of(salesperson, stage="engaged", last_inbound_at=NOW - timedelta(hours=2))
    ActivityFactory(
        lead=asked, kind="asked_for_info", direction="inbound", occurred_at=NOW - timedelta(hours=2)
    )

    items = {item.lead: item for item in selectors.today_queue(salesperson, now=NOW).items}

    assert items[replied].reason == "Replied"
    assert items[asked].reason == "Raised a hand"
