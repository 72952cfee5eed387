"""ICP suggestions as pure functions: counts, honesty about small samples, stable ranks."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from icp.models import Field, Operator
from icp.scoring import LeadFacts
from icp.suggestions import (
    MIN_CLOSED_DEALS,
    WEAK_LABEL,
    Candidate,
    candidates_of,
    suggest,
)


def logistics(n: int) -> list[LeadFacts]:
    return [LeadFacts(industry="Logistics", country="GB") for _ in range(n)]


def retail(n: int) -> list[LeadFacts]:
    return [LeadFacts(industry="Retail", country="GB") for _ in range(n)]


def test_it_says_how_many_wins_and_losses_have_the_fact():
    result = suggest([*logistics(7), *retail(2)], [*logistics(2), *retail(9)])
    top = result.suggestions[0]
    assert top.candidate == Candidate(Field.INDUSTRY, Operator.EQUALS, "Logistics")
    assert top.sentence == "7 of 9 wins vs 2 of 11 losses are Logistics"
    assert top.confidence == "Strong signal"
    assert 0.3 < top.low < top.high <= 1
    # Every deal is in GB: no difference, no suggestion.
    assert all(s.candidate.field != Field.COUNTRY for s in result.suggestions)


def test_below_the_minimum_it_asks_for_more_deals_instead_of_guessing():
    result = suggest(logistics(5), retail(MIN_CLOSED_DEALS - 6))
    assert result.suggestions == []
    assert result.deals_missing == 1
    assert not result.enough


def test_without_a_loss_there_is_nothing_to_compare_with():
    result = suggest(logistics(12), [])
    assert result.suggestions == []
    assert result.deals_missing == 0
    assert not result.enough


def test_a_handful_of_deals_is_labelled_as_possibly_chance():
    # 3 of 5 wins vs 2 of 6 losses: looks like something, may well be chance.
    result = suggest([*logistics(3), *retail(2)], [*logistics(2), *retail(4)])
    top = next(s for s in result.suggestions if s.candidate.value == "Logistics")
    assert top.confidence == WEAK_LABEL
    assert top.low < 0 < top.high


def test_criteria_the_icps_already_have_are_not_suggested_again():
    existing = [Candidate(Field.INDUSTRY, Operator.EQUALS, "logistics ")]
    result = suggest([*logistics(7), *retail(2)], [*logistics(2), *retail(9)], exclude=existing)
    assert all(s.candidate.value != "Logistics" for s in result.suggestions)


def test_a_size_band_becomes_a_range_criterion():
    (band,) = [
        c for c in candidates_of(LeadFacts(employee_count=120)) if c.field == "employee_count"
    ]
    assert band.value == {"min": 51, "max": 200}
    assert band.form_data() == {
        "field": "employee_count",
        "operator": "range",
        "value": "",
        "minimum": "51",
        "maximum": "200",
    }


facts = st.builds(
    LeadFacts,
    industry=st.sampled_from(["Logistics", "Retail", "Software", None]),
    country=st.sampled_from(["GB", "DE", None]),
    seniority=st.sampled_from(["vp", "manager", None]),
    source=st.sampled_from(["referral", "marketing"]),
    tags=st.frozensets(st.sampled_from(["b2b", "warm"]), max_size=2),
)


@given(
    st.lists(facts, min_size=5, max_size=25),
    st.lists(facts, min_size=5, max_size=25),
    st.lists(st.booleans(), min_size=50, max_size=50),
)
def test_a_suggestions_rank_is_stable_under_unrelated_data(won, lost, marks):
    """Tagging some deals with a tag nothing else relates to never reorders the others."""
    before = suggest(won, lost, limit=100)
    tagged = [
        replace(f, tags=f.tags | {"unrelated"}) if marks[i] else f
        for i, f in enumerate([*won, *lost])
    ]
    after = suggest(tagged[: len(won)], tagged[len(won) :], limit=100)
    others = [s.candidate for s in after.suggestions if s.candidate.value != "unrelated"]
    assert others == [s.candidate for s in before.suggestions]


@given(st.lists(facts, min_size=5, max_size=25), st.lists(facts, min_size=5, max_size=25))
def test_every_suggestion_is_more_common_in_wins_with_an_ordered_range(won, lost):
    for suggestion in suggest(won, lost, limit=100).suggestions:
        assert suggestion.win_share > suggestion.loss_share
        assert -1 <= suggestion.low <= suggestion.win_share - suggestion.loss_share
        assert suggestion.win_share - suggestion.loss_share <= suggestion.high <= 1
