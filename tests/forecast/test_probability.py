"""The win probability engine: pure functions, checked with examples and properties."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from forecast.probability import (
    CELL_PRIOR_DEALS,
    PRIOR_WIN_RATE,
    ClosedDeals,
    History,
    PipelineGroup,
    calibration,
    estimated_close_date,
    forecast_by_month,
    history_from,
    win_probability,
)
from leads.models import OPEN_STAGES, Source, Stage

stages = st.sampled_from(OPEN_STAGES)
sources = st.sampled_from(Source.values)


@st.composite
def closed_deals(draw) -> ClosedDeals:
    first, furthest = sorted(draw(st.lists(stages, min_size=2, max_size=2)), key=OPEN_STAGES.index)
    return ClosedDeals(
        source=draw(sources),
        first_stage=first,
        furthest_stage=furthest,
        won=draw(st.booleans()),
        count=draw(st.integers(1, 30)),
    )


histories = st.lists(closed_deals(), max_size=12)


def test_without_history_the_probability_is_the_stages_usual_rate():
    chance = win_probability(History(), stage=Stage.PROPOSAL, source=Source.REFERRAL)
    assert chance.probability == pytest.approx(PRIOR_WIN_RATE[Stage.PROPOSAL])
    assert chance.deals == 0
    assert "No closed deal of yours reached Proposal yet" in chance.basis
    assert chance.low < 0.3
    assert chance.high > 0.75


def test_a_deal_reached_every_stage_from_its_first_to_its_furthest():
    history = history_from([ClosedDeals(Source.EVENT, Stage.CONTACTED, Stage.QUALIFIED, True)])
    assert set(history.by_stage) == {Stage.CONTACTED, Stage.ENGAGED, Stage.QUALIFIED}
    assert history.deals == 1


def test_the_owners_history_moves_the_probability_and_narrows_the_range():
    deals = [ClosedDeals(Source.REFERRAL, Stage.NEW, Stage.PROPOSAL, True, 18)]
    deals.append(ClosedDeals(Source.REFERRAL, Stage.NEW, Stage.PROPOSAL, False, 2))
    chance = win_probability(history_from(deals), stage=Stage.PROPOSAL, source=Source.REFERRAL)
    prior = win_probability(History(), stage=Stage.PROPOSAL, source=Source.REFERRAL)
    assert chance.probability > 0.8
    assert chance.high - chance.low < prior.high - prior.low
    assert chance.basis.startswith(
        "Based on 20 of your deals that reached Proposal (18 won, 2 lost)"
    )


def test_a_thin_source_leans_on_the_stage():
    # Many wins from referrals, one loss from an event: the event's rate stays near the stage's.
    deals = [
        ClosedDeals(Source.REFERRAL, Stage.QUALIFIED, Stage.QUALIFIED, True, 20),
        ClosedDeals(Source.EVENT, Stage.QUALIFIED, Stage.QUALIFIED, False, 1),
    ]
    history = history_from(deals)
    event = win_probability(history, stage=Stage.QUALIFIED, source=Source.EVENT)
    stage_rate = (4 * PRIOR_WIN_RATE[Stage.QUALIFIED] + 20) / (4 + 21)
    assert event.probability == pytest.approx(
        CELL_PRIOR_DEALS * stage_rate / (CELL_PRIOR_DEALS + 1)
    )
    assert event.probability > 0.6
    assert "1 of them from Event (0 won)" in event.basis


@given(histories, stages, sources)
def test_a_probability_is_in_its_range_and_in_zero_to_one(deals, stage, source):
    chance = win_probability(history_from(deals), stage=stage, source=source)
    assert 0 <= chance.low <= chance.probability <= chance.high <= 1


@given(histories, closed_deals(), stages, sources)
def test_more_wins_never_lower_a_probability(deals, extra, stage, source):
    before = win_probability(history_from(deals), stage=stage, source=source)
    won = ClosedDeals(extra.source, extra.first_stage, extra.furthest_stage, True, extra.count)
    after = win_probability(history_from([*deals, won]), stage=stage, source=source)
    assert after.probability >= before.probability - 1e-12


@given(histories, st.integers(0, 11), stages, sources)
def test_a_loss_that_turns_into_a_win_never_lowers_a_probability(deals, pick, stage, source):
    if not deals:
        return
    index = pick % len(deals)
    lost = ClosedDeals(**{**deals[index].__dict__, "won": False})
    won = ClosedDeals(**{**deals[index].__dict__, "won": True})
    with_loss = [*deals[:index], lost, *deals[index + 1 :]]
    with_win = [*deals[:index], won, *deals[index + 1 :]]
    before = win_probability(history_from(with_loss), stage=stage, source=source)
    after = win_probability(history_from(with_win), stage=stage, source=source)
    assert after.probability >= before.probability - 1e-12


def test_a_missing_close_date_is_estimated_from_the_stage_never_in_the_past():
    today = date(2026, 12, 6)
    assert estimated_close_date(Stage.PROPOSAL, date(2026, 12, 1), today=today) == date(
        2026, 12, 22
    )
    assert estimated_close_date(Stage.PROPOSAL, date(2025, 1, 1), today=today) == today


groups = st.builds(
    PipelineGroup,
    owner_id=st.integers(1, 3),
    stage=stages,
    source=sources,
    month=st.sampled_from([date(2026, 10, 1), date(2026, 12, 1), date(2027, 2, 1)]),
    leads=st.integers(1, 20),
    value=st.integers(0, 500_000).map(Decimal),
    value_squared=st.just(0.0),
    estimated=st.just(0),
)


@given(st.lists(groups, max_size=10), histories)
def test_a_months_range_holds_its_weighted_value_within_the_pipeline(pipeline, deals):
    history = history_from(deals)
    fixed = [
        PipelineGroup(**{**g.__dict__, "value_squared": float(g.value) ** 2 / g.leads})
        for g in pipeline
    ]
    months = forecast_by_month(
        fixed,
        lambda owner, stage, source: win_probability(history, stage=stage, source=source),
        this_month=date(2026, 12, 1),
    )
    assert [m.month for m in months] == sorted({max(g.month, date(2026, 12, 1)) for g in fixed})
    for month in months:
        assert 0 <= month.low <= month.weighted_value <= month.high <= month.pipeline_value + 1


def test_calibration_bins_and_brier_score():
    result = calibration([(0.05, False), (0.15, False), (0.95, True), (0.9, True), (0.9, False)])
    assert result.predictions == 5
    assert result.brier == pytest.approx((0.05**2 + 0.15**2 + 0.05**2 + 0.1**2 + 0.9**2) / 5)
    top = result.bins[-1]
    assert (top.predictions, top.observed) == (3, pytest.approx(2 / 3))
