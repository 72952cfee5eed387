"""The forecast's reads: closed deals from the stage history, per owner, in few queries."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from forecast.probability import DAYS_TO_CLOSE, PRIOR_WIN_RATE, win_probability
from forecast.selectors import lead_forecast, owner_history, pipeline_forecast
from leads import services
from leads.models import Lead, Stage
from tests.factories import LeadFactory
from tests.forecast.deals import deal

pytestmark = pytest.mark.django_db

Q = (Stage.NEW, Stage.CONTACTED, Stage.QUALIFIED)


def test_the_history_counts_the_stages_each_closed_deal_went_through(salesperson):
    deal(salesperson, outcome=Stage.WON, through=Q)
    deal(salesperson, outcome=Stage.LOST, through=(Stage.NEW, Stage.CONTACTED))
    deal(salesperson, outcome=Stage.QUALIFIED, through=Q)  # open: not a closed deal
    history = owner_history(salesperson.pk)
    assert history.deals == 2
    assert (history.by_stage[Stage.CONTACTED].won, history.by_stage[Stage.CONTACTED].lost) == (1, 1)
    assert (history.by_stage[Stage.QUALIFIED].won, history.by_stage[Stage.QUALIFIED].lost) == (1, 0)
    # Engaged was skipped but lies between stages the won deal was in: it counts as passed.
    assert history.by_stage[Stage.ENGAGED].won == 1
    assert Stage.PROPOSAL not in history.by_stage


def test_the_history_reads_what_the_lead_services_record(salesperson):
    lead = services.lead_create(owner=salesperson, first_name="Ada", source="referral")
    for stage in (Stage.CONTACTED, Stage.PROPOSAL, Stage.WON):
        services.lead_change_stage(lead=lead, to_stage=stage, user=salesperson)
    history = owner_history(salesperson.pk)
    assert history.by_cell[(Stage.PROPOSAL, "referral")].won == 1
    assert history.by_stage[Stage.NEW].won == 1


def test_a_lead_forecast_rests_on_its_owners_deals_only(salesperson, other_salesperson):
    for _ in range(6):
        deal(salesperson, outcome=Stage.WON, through=Q)
    for _ in range(6):
        deal(other_salesperson, outcome=Stage.LOST, through=Q)
    mine = LeadFactory(owner=salesperson, stage=Stage.QUALIFIED, expected_value=Decimal(10_000))
    theirs = LeadFactory(owner=other_salesperson, stage=Stage.QUALIFIED)
    high = lead_forecast(Lead.objects.select_related("owner").get(pk=mine.pk))
    low = lead_forecast(Lead.objects.select_related("owner").get(pk=theirs.pk))
    assert high.chance.deals == 6
    assert low.chance.deals == 6
    assert high.chance.probability > PRIOR_WIN_RATE[Stage.QUALIFIED] > low.chance.probability
    assert high.weighted_value == Decimal(round(10_000 * high.chance.probability))
    assert high.close_date_estimated
    today = timezone.localdate(timezone=salesperson.zone)
    assert high.close_date == today + timedelta(days=DAYS_TO_CLOSE[Stage.QUALIFIED])


def test_a_closed_lead_has_no_forecast(salesperson):
    won = deal(salesperson, outcome=Stage.WON)
    assert lead_forecast(Lead.objects.select_related("owner").get(pk=won.pk)) is None


def test_a_lead_forecast_is_one_query_however_long_the_history(
    salesperson, django_assert_num_queries
):
    lead = LeadFactory(owner=salesperson, stage=Stage.PROPOSAL)
    lead = Lead.objects.select_related("owner").get(pk=lead.pk)
    with django_assert_num_queries(1):
        lead_forecast(lead)
    for _ in range(15):
        deal(salesperson, outcome=Stage.WON, through=(Stage.NEW, Stage.PROPOSAL))
    with django_assert_num_queries(1):
        assert lead_forecast(lead).chance.deals == 15


def test_the_pipeline_forecast_weighs_each_month(salesperson):
    today = date(2026, 12, 6)
    for _ in range(4):
        deal(salesperson, outcome=Stage.WON, through=(Stage.NEW, Stage.PROPOSAL))
    deal(salesperson, outcome=Stage.LOST, through=(Stage.NEW, Stage.PROPOSAL))
    LeadFactory(
        owner=salesperson,
        stage=Stage.PROPOSAL,
        expected_value=Decimal(20_000),
        expected_close_date=date(2027, 2, 14),
    )
    LeadFactory(
        owner=salesperson,
        stage=Stage.PROPOSAL,
        expected_value=Decimal(5_000),
        expected_close_date=date(2026, 11, 1),  # passed, still open: counts this month
    )
    forecast = pipeline_forecast(salesperson, today=today)
    history = owner_history(salesperson.pk)
    chance = win_probability(history, stage=Stage.PROPOSAL, source="own_network")
    assert [m.month for m in forecast.months] == [date(2026, 12, 1), date(2027, 2, 1)]
    december, february = forecast.months
    assert february.weighted_value == Decimal(round(20_000 * chance.probability))
    assert december.weighted_value == Decimal(round(5_000 * chance.probability))
    assert 0 <= february.low < february.weighted_value < february.high <= 20_000
    assert (forecast.open_leads, forecast.closed_deals, forecast.estimated) == (2, 5, 0)


def test_a_missing_close_date_falls_in_the_month_the_stage_suggests(salesperson):
    today = timezone.localdate(timezone=salesperson.zone)
    LeadFactory(owner=salesperson, stage=Stage.NEW, expected_value=Decimal(1_000))
    forecast = pipeline_forecast(salesperson, today=today)
    expected = (today + timedelta(days=DAYS_TO_CLOSE[Stage.NEW])).replace(day=1)
    assert [m.month for m in forecast.months] == [expected]
    assert forecast.estimated == 1


@pytest.mark.parametrize("stage", [Stage.NEW, Stage.CONTACTED, Stage.ENGAGED, Stage.QUALIFIED])
def test_a_stage_entered_weeks_ago_suggests_the_month_its_estimate_still_falls_in(
    salesperson, stage
):
    # Entered long enough ago that a shorter stage's estimate (the proposal's 21 days) would
    # have passed already; its own ends 35 days after "today", in the next month.
    today = date(2027, 3, 2)
    entered = today - timedelta(days=DAYS_TO_CLOSE[stage] - 35)
    LeadFactory(
        owner=salesperson,
        stage=stage,
        stage_changed_at=datetime.combine(entered, time(12), tzinfo=salesperson.zone),
        expected_value=Decimal(1_000),
    )
    forecast = pipeline_forecast(salesperson, today=today)
    assert [m.month for m in forecast.months] == [date(2027, 4, 1)]


def test_a_salesperson_forecasts_their_own_leads_a_manager_the_teams(
    salesperson, other_salesperson, manager
):
    LeadFactory(owner=salesperson, stage=Stage.QUALIFIED, expected_value=Decimal(1_000))
    LeadFactory(owner=other_salesperson, stage=Stage.QUALIFIED, expected_value=Decimal(3_000))
    assert pipeline_forecast(salesperson).open_leads == 1
    assert pipeline_forecast(manager).open_leads == 2
    one_rep = pipeline_forecast(manager, owner_id=other_salesperson.pk)
    assert one_rep.months[0].pipeline_value == Decimal(3_000)


def test_the_pipeline_forecast_is_three_queries_two_once_the_history_is_cached(
    salesperson, other_salesperson, manager, django_assert_num_queries
):
    LeadFactory(owner=salesperson, stage=Stage.QUALIFIED, expected_value=Decimal(1_000))
    deal(salesperson, outcome=Stage.WON)
    assert manager.is_manager  # read once per request (the menu), cached on the user
    with django_assert_num_queries(3):
        pipeline_forecast(manager)
    with django_assert_num_queries(2):
        pipeline_forecast(manager)
    for owner in (salesperson, other_salesperson):
        for stage in (Stage.NEW, Stage.ENGAGED, Stage.PROPOSAL):
            LeadFactory(owner=owner, stage=stage, expected_value=Decimal(2_000), source="event")
        deal(owner, outcome=Stage.LOST, source="event")
    with django_assert_num_queries(3):
        assert pipeline_forecast(manager).open_leads == 7
    with django_assert_num_queries(2):
        assert pipeline_forecast(manager).closed_deals == 3


def test_a_deal_that_closes_or_reopens_refreshes_the_cached_history(salesperson):
    lead = services.lead_create(owner=salesperson, first_name="Ada", stage=Stage.PROPOSAL)
    assert pipeline_forecast(salesperson).closed_deals == 0
    services.lead_change_stage(lead=lead, to_stage=Stage.WON, user=salesperson)
    LeadFactory(owner=salesperson, stage=Stage.NEW)
    assert pipeline_forecast(salesperson).closed_deals == 1
    services.lead_change_stage(lead=lead, to_stage=Stage.PROPOSAL, user=salesperson)
    assert pipeline_forecast(salesperson).closed_deals == 0
