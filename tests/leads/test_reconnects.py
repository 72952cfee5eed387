"""The network pool's plan (`leads.reconnects`) and the services that keep it in the database."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import services as account_services
from leads import reconnects, services
from leads.models import FollowUp, FollowUpKind, Lead, Stage
from leads.reconnects import PoolEntry, Slots
from leads.selectors import (
    going_cold_condition,
    is_going_cold,
    leads_filtered,
    network_pool,
    pipeline_cards,
    today_queue,
)
from leads.tasks import schedule_follow_ups
from tests.factories import LeadFactory

LONDON = ZoneInfo("Europe/London")
AUCKLAND = ZoneInfo("Pacific/Auckland")
# Monday 7 December 2026, mid-afternoon in London.
MONDAY = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
TUE, WED, THU, FRI = (date(2026, 12, day) for day in (8, 9, 10, 11))
NEXT_MON, NEXT_TUE = date(2026, 12, 14), date(2026, 12, 15)


# Where an import left a contact before the pool was planned: some day well ahead.
LATER = MONDAY + timedelta(days=60)


def entry(n: int, *, fit: int = 0, total: int = 0, due: datetime = LATER, snoozed=False):
    return PoolEntry(
        follow_up_id=1000 + n,
        lead_id=n,
        due_at=due,
        fit_score=fit,
        total_score=total,
        snoozed=snoozed,
    )


def days_of(moves: dict[int, datetime], zone: ZoneInfo = LONDON) -> Counter:
    return Counter(due.astimezone(zone).date() for due in moves.values())


# --- The plan, pure ----------------------------------------------------------------------


def test_the_plan_fills_business_days_from_tomorrow_at_most_n_a_day():
    moves = reconnects.plan([entry(n) for n in range(25)], per_day=10, now=MONDAY, zone=LONDON)

    assert days_of(moves) == {TUE: 10, WED: 10, THU: 5}
    # Due at the start of the working day, in the owner's time zone.
    assert {due.astimezone(LONDON).time().hour for due in moves.values()} == {9}


def test_the_plan_skips_the_weekend():
    thursday = MONDAY + timedelta(days=3)

    moves = reconnects.plan([entry(n) for n in range(25)], per_day=10, now=thursday, zone=LONDON)

    assert days_of(moves) == {FRI: 10, NEXT_MON: 10, NEXT_TUE: 5}


def test_the_plan_puts_the_best_fit_first_then_the_best_total_then_the_first_added():
    pool = [
        entry(1, fit=10, total=90),
        entry(2, fit=80, total=80),
        entry(3, fit=80, total=85),
        entry(4, fit=50),
        entry(5, fit=50),
    ]

    moves = reconnects.plan(pool, per_day=2, now=MONDAY, zone=LONDON)

    day_of = {
        follow_up_id - 1000: due.astimezone(LONDON).date() for follow_up_id, due in moves.items()
    }
    assert day_of == {3: TUE, 2: TUE, 4: WED, 5: WED, 1: THU}


def test_the_day_in_the_owners_time_zone_decides_what_tomorrow_is():
    # Sunday 20:00 in London is already Monday 09:00 in Auckland: its tomorrow is Tuesday.
    sunday_evening = datetime(2026, 12, 13, 20, 0, tzinfo=UTC)

    london = reconnects.plan([entry(1)], per_day=10, now=sunday_evening, zone=LONDON)
    auckland = reconnects.plan([entry(1)], per_day=10, now=sunday_evening, zone=AUCKLAND)

    assert london[1001] == datetime(2026, 12, 14, 9, 0, tzinfo=LONDON)
    assert auckland[1001] == datetime(2026, 12, 15, 9, 0, tzinfo=AUCKLAND)


def test_todays_reconnects_stay_and_snoozed_ones_keep_their_day_and_count_towards_it():
    today = datetime(2026, 12, 7, 9, 0, tzinfo=LONDON)
    snoozed_to_tuesday = datetime(2026, 12, 8, 9, 0, tzinfo=LONDON)
    pool = [
        entry(1, fit=99, due=today),
        entry(2, fit=99, due=snoozed_to_tuesday, snoozed=True),
        *[entry(n, fit=50, due=today + timedelta(days=30)) for n in range(3, 8)],
    ]

    moves = reconnects.plan(pool, per_day=3, now=MONDAY, zone=LONDON)

    assert 1001 not in moves
    assert 1002 not in moves
    # Tuesday had one place taken by the snoozed reconnect.
    assert days_of(moves) == {TUE: 2, WED: 3}


def test_reconnects_left_from_an_earlier_day_are_planned_again_not_piled_up():
    last_week = datetime(2026, 12, 1, 9, 0, tzinfo=LONDON)
    pool = [entry(n, fit=90, due=last_week) for n in range(4)]
    pool += [entry(n, fit=10, due=datetime(2026, 12, 8, 9, 0, tzinfo=LONDON)) for n in range(4, 8)]

    moves = reconnects.plan(pool, per_day=4, now=MONDAY, zone=LONDON)

    # The missed (and better) four take Tuesday; Tuesday's four move to Wednesday.
    assert {n + 1000 for n in range(4)} <= set(moves)
    assert days_of(moves) == {TUE: 4, WED: 4}


def test_planning_a_planned_pool_again_moves_nothing():
    pool = [entry(n, fit=n % 7) for n in range(23)]
    moves = reconnects.plan(pool, per_day=5, now=MONDAY, zone=LONDON)
    planned = [
        PoolEntry(e.follow_up_id, e.lead_id, moves[e.follow_up_id], e.fit_score, 0) for e in pool
    ]

    assert reconnects.plan(planned, per_day=5, now=MONDAY, zone=LONDON) == {}
    # A day later nothing moves either: each day's reconnects were already on their day.
    assert reconnects.plan(planned, per_day=5, now=MONDAY + timedelta(days=1), zone=LONDON) == {}


def test_slots_count_the_places_already_taken_and_give_back_what_a_refused_batch_took():
    slots = Slots(per_day=3, first_day=TUE, zone=LONDON, taken={TUE: 2, WED: 3})
    state = slots.state()

    first = slots.take(2)
    assert [due.date() for due in first] == [TUE, THU]

    slots.restore(state)
    assert [due.date() for due in slots.take(5)] == [TUE, THU, THU, THU, FRI]


# --- In the database ---------------------------------------------------------------------


def pool_leads(owner, fits: list[int]) -> list[Lead]:
    """Leads in the network pool, each with a reconnect planned far ahead and a fit."""
    leads = []
    for n, fit in enumerate(fits):
        lead = LeadFactory(owner=owner, fit_score=fit, total_score=fit, company=None)
        FollowUp.objects.filter(lead=lead).delete()
        FollowUp.objects.create(
            lead=lead,
            kind=FollowUpKind.RECONNECT,
            rule=services.RECONNECT_RULE,
            due_at=MONDAY + timedelta(days=60 + n),
        )
        leads.append(lead)
    return leads


def planned_days(owner) -> dict[int, date]:
    """Each pooled lead's id → the day of its pending reconnect."""
    return {
        follow_up.lead_id: follow_up.due_at.astimezone(owner.zone).date()
        for follow_up in FollowUp.objects.filter(
            lead__owner=owner, kind=FollowUpKind.RECONNECT, done_at__isnull=True
        ).select_related("lead")
    }


@pytest.mark.django_db
def test_planning_the_pool_writes_the_days_and_the_leads_next_follow_up(salesperson):
    salesperson.reconnects_per_day = 2
    leads = pool_leads(salesperson, [10, 90, 50, 70, 30])

    with time_machine.travel(MONDAY, tick=False):
        moved = services.reconnects_plan(owner=salesperson)

    assert moved == 5
    by_fit = sorted(leads, key=lambda lead: -lead.fit_score)
    days = [
        FollowUp.objects.get(lead=lead, done_at__isnull=True).due_at.astimezone(LONDON).date()
        for lead in by_fit
    ]
    assert days == [TUE, TUE, WED, WED, THU]
    for lead in Lead.objects.filter(owner=salesperson):
        assert lead.next_follow_up_at == lead.follow_ups.get(done_at__isnull=True).due_at
    # Still one pending follow-up per lead, and planning again changes nothing.
    assert FollowUp.objects.filter(done_at__isnull=True).count() == 5
    with time_machine.travel(MONDAY, tick=False):
        assert services.reconnects_plan(owner=salesperson) == 0


@pytest.mark.django_db
def test_planning_costs_the_same_queries_for_30_reconnects_as_for_300(
    salesperson, other_salesperson
):
    pool_leads(salesperson, [n % 100 for n in range(30)])
    pool_leads(other_salesperson, [n % 100 for n in range(300)])

    def queries(owner) -> list[str]:
        with time_machine.travel(MONDAY, tick=False), CaptureQueriesContext(connection) as run:
            services.reconnects_plan(owner=owner)
        # An executemany is logged as "<n> times: <sql>".
        return [query["sql"].split(" times: ")[-1].split()[0] for query in run.captured_queries]

    assert queries(salesperson) == queries(other_salesperson)
    assert len(queries(salesperson)) < 10


@pytest.mark.django_db
def test_a_person_s_snooze_and_done_reconnects_are_left_alone(salesperson):
    salesperson.reconnects_per_day = 1
    leads = pool_leads(salesperson, [90, 80, 70])
    with time_machine.travel(MONDAY, tick=False):
        services.reconnects_plan(owner=salesperson)
    tuesday = MONDAY + timedelta(days=1)
    with time_machine.travel(tuesday, tick=False):
        first, second = (
            FollowUp.objects.get(lead=lead, done_at__isnull=True) for lead in leads[:2]
        )
        # Tuesday's reconnect snoozed a week, and Wednesday's done a day early.
        snoozed = services.follow_up_snooze(follow_up=first, user=salesperson, days=7)
        services.follow_up_complete(follow_up=second, user=salesperson)
        services.reconnects_plan(owner=salesperson)

    snoozed.refresh_from_db()
    second.refresh_from_db()
    assert snoozed.due_at.astimezone(LONDON).date() == NEXT_TUE
    assert second.due_at.astimezone(LONDON).date() == WED
    assert second.done_at is not None
    # The third comes up on the first free day after today.
    assert planned_days(salesperson) == {leads[0].pk: NEXT_TUE, leads[2].pk: WED}


@pytest.mark.django_db
def test_a_new_number_per_day_in_settings_plans_the_pool_again_at_once(salesperson):
    pool_leads(salesperson, list(range(20)))
    with time_machine.travel(MONDAY, tick=False):
        services.reconnects_plan(owner=salesperson)
        assert Counter(planned_days(salesperson).values()) == {TUE: 10, WED: 10}

        account_services.user_update_settings(
            user=salesperson,
            time_zone="Europe/London",
            daily_touch_goal=20,
            reconnects_per_day=5,
            weekly_referral_email=True,
            daily_digest_email=False,
        )

        assert Counter(planned_days(salesperson).values()) == {TUE: 5, WED: 5, THU: 5, FRI: 5}


@pytest.mark.django_db
def test_the_beat_job_rolls_a_missed_day_forward_for_every_owner(salesperson, other_salesperson):
    pool_leads(salesperson, [50] * 4)
    pool_leads(other_salesperson, [50] * 2)
    with time_machine.travel(MONDAY, tick=False):
        schedule_follow_ups()
    assert set(planned_days(salesperson).values()) == {TUE}

    # Tuesday passes without reconnecting; on Wednesday the four come up again, not overdue.
    with time_machine.travel(MONDAY + timedelta(days=2), tick=False):
        schedule_follow_ups()
    assert set(planned_days(salesperson).values()) == {THU}
    assert set(planned_days(other_salesperson).values()) == {THU}


@pytest.mark.django_db
def test_bulk_created_leads_can_join_the_pool_with_a_reconnect_each(salesperson):
    leads = [
        services.lead_new(owner=salesperson, first_name=f"P{n}", source="own_network")
        for n in range(3)
    ]
    with time_machine.travel(MONDAY, tick=False):
        slots = services.reconnect_slots(owner=salesperson).take(3)
        created = services.leads_bulk_create(
            leads=leads, created_by=salesperson, reconnects_due=slots
        )

    pending = FollowUp.objects.filter(lead__in=created, done_at__isnull=True)
    assert {(f.kind, f.rule) for f in pending} == {(FollowUpKind.RECONNECT, "reconnect")}
    assert sorted(f.due_at for f in pending) == slots
    assert [Lead.objects.get(pk=lead.pk).next_follow_up_at for lead in created] == slots


@pytest.mark.django_db
def test_pool_contacts_not_yet_due_stay_off_today(salesperson):
    leads = pool_leads(salesperson, [90, 80, 70, 60])
    salesperson.reconnects_per_day = 2
    with time_machine.travel(MONDAY, tick=False):
        services.reconnects_plan(owner=salesperson)
    Lead.objects.filter(owner=salesperson).update(stage_changed_at=MONDAY - timedelta(days=10))

    tuesday_noon = datetime(2026, 12, 8, 12, 0, tzinfo=UTC)
    queue = today_queue(salesperson, now=tuesday_noon)

    # Only Tuesday's two reconnects: the rest of the pool is neither "going cold" (it sat in
    # New for ten days) nor among the best leads never contacted.
    assert [item.lead for item in queue.items] == leads[:2]
    assert {item.reason for item in queue.items} == {"Reconnect"}
    assert queue.not_contacted == []


@pytest.mark.django_db
def test_the_pool_summary_and_the_lead_list_filter(salesperson, other_salesperson):
    leads = pool_leads(salesperson, [90, 80, 70])
    LeadFactory(owner=salesperson)  # a lead with a first touch, not in the pool
    pool_leads(other_salesperson, [50])
    salesperson.reconnects_per_day = 2
    with time_machine.travel(MONDAY, tick=False):
        services.reconnects_plan(owner=salesperson)
        pool = network_pool(salesperson)

    assert (pool.size, pool.per_day) == (3, 2)
    assert pool.first_at == datetime(2026, 12, 8, 9, 0, tzinfo=LONDON)
    assert pool.last_at == datetime(2026, 12, 9, 9, 0, tzinfo=LONDON)
    assert set(leads_filtered(salesperson, {"follow_up": "network"})) == set(leads)


@pytest.mark.django_db
def test_pool_contacts_are_not_going_cold_on_the_list_the_board_or_their_page(salesperson, client):
    """They sit in New by plan; a lead outside the pool that sat as long is going cold."""
    [waiting] = pool_leads(salesperson, [90])
    with time_machine.travel(MONDAY, tick=False):
        services.reconnects_plan(owner=salesperson)
    forgotten = LeadFactory(owner=salesperson, first_name="Forgotten")
    Lead.objects.filter(owner=salesperson).update(stage_changed_at=MONDAY - timedelta(days=10))
    waiting.refresh_from_db()
    forgotten.refresh_from_db()

    assert not is_going_cold(waiting, MONDAY)
    assert is_going_cold(forgotten, MONDAY)
    cold = Lead.objects.filter(going_cold_condition(MONDAY))
    assert list(cold) == [forgotten]
    with time_machine.travel(MONDAY, tick=False):
        cards = {
            card.pk: card.is_cold
            for stage in Stage
            for card in pipeline_cards(salesperson, stage=stage).cards
        }
        client.force_login(salesperson)
        page = client.get(f"/leads/{waiting.pk}/").content.decode()
    assert cards == {waiting.pk: False, forgotten.pk: True}
    assert "Going cold</span>" not in page


# --- One lead into the pool (prospecting's "Add to reconnects") -----------------------------


@pytest.mark.django_db
def test_a_lead_added_to_the_pool_takes_the_next_free_place_and_replaces_its_first_touch(
    salesperson,
):
    salesperson.reconnects_per_day = 2
    salesperson.save()
    pool_leads(salesperson, [50, 40])
    with time_machine.travel(MONDAY, tick=False):
        services.reconnects_plan(owner=salesperson)  # Tuesday is full
        lead = LeadFactory(owner=salesperson, company=None)
        first_touch = FollowUp.objects.create(
            lead=lead, kind=FollowUpKind.FIRST_TOUCH, due_at=MONDAY, rule="first_touch"
        )
        follow_up = services.lead_reconnect_add(lead=lead, user=salesperson)
        again = services.lead_reconnect_add(lead=lead, user=salesperson)

    assert (follow_up.kind, follow_up.rule, follow_up.created_by) == (
        FollowUpKind.RECONNECT,
        services.RECONNECT_RULE,
        None,
    )
    assert follow_up.due_at.astimezone(LONDON).date() == WED
    assert again == follow_up
    first_touch.refresh_from_db()
    assert first_touch.resolution == "superseded"
    lead.refresh_from_db()
    assert lead.next_follow_up_at == follow_up.due_at
    assert FollowUp.objects.filter(lead=lead, done_at__isnull=True).count() == 1
    assert leads_filtered(salesperson, {"follow_up": "network"}).filter(pk=lead.pk).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("change", [{"stage": "won"}, {"stage": "lost"}, {"do_not_contact": True}])
def test_a_closed_or_do_not_contact_lead_is_not_added_to_the_pool(salesperson, change):
    from django.core.exceptions import ValidationError

    lead = LeadFactory(owner=salesperson, company=None, **change)
    with pytest.raises(ValidationError):
        services.lead_reconnect_add(lead=lead, user=salesperson)
    assert not FollowUp.objects.filter(lead=lead, kind=FollowUpKind.RECONNECT).exists()
