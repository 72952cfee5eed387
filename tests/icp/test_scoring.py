from __future__ import annotations

import json
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from icp.scoring import (
    CriterionSpec,
    IcpSpec,
    LeadFacts,
    _tenths_half_up,
    grade_for,
    score_lead,
)
from tests.icp.conftest import NOW

SAAS_FACTS = LeadFacts(
    industry="SaaS",
    employee_count=120,
    annual_revenue=8_000_000,
    country="DE",
    region="Bavaria",
    city="Munich",
    title="Head of Sales",
    seniority="vp",
    tags=frozenset({"b2b", "hiring"}),
    source="own_network",
)


def criterion(field, operator, value, weight=10, *, required=False, id=None, label=None):
    return CriterionSpec(
        id=id,
        field=field,
        operator=operator,
        value=value,
        weight=weight,
        required=required,
        label=label or f"{field} {operator} {value}",
    )


def icp(id, *criteria, name=None):
    return IcpSpec(id=id, name=name or f"ICP {id}", criteria=tuple(criteria))


def demo_days_ago(days: float):
    return ("asked_for_demo", NOW - timedelta(days=days))


# --- fit -------------------------------------------------------------------------------------


def test_without_an_active_icp_fit_is_zero_and_the_explanation_says_so():
    score = score_lead(SAAS_FACTS, [], now=NOW)

    assert (score.fit, score.total, score.grade, score.best_icp_id) == (0, 0, "D", None)
    assert score.explanation["icp"] is None
    assert score.explanation["icp_id"] is None
    assert "No active ICP" in score.explanation["note"]


def test_fit_is_matched_weight_over_total_weight():
    scale_up = icp(
        1,
        criterion("industry", "equals", "saas", 30, label="Industry equals SaaS"),
        criterion("employee_count", "range", {"min": 50, "max": 500}, 20, label="50-500 staff"),
        criterion("country", "one_of", ["GB", "IE"], 10, label="Country is GB or IE"),
    )

    score = score_lead(SAAS_FACTS, [scale_up], now=NOW)

    # 50 of 60 → 83.33 → 83; total 0.6 × 83 = 49.8 → 50 → B
    assert (score.fit, score.intent, score.total, score.grade) == (83, 0, 50, "B")
    assert score.best_icp_id == 1
    assert score.explanation["matched"] == ["Industry equals SaaS", "50-500 staff"]
    assert score.explanation["unmatched"] == ["Country is GB or IE"]
    assert score.explanation["unknown"] == []
    assert score.explanation["knocked_out_by"] == []


def test_fit_rounds_half_up_not_to_even():
    # 1 of 8 → 12.5; Python's round() would give 12
    narrow = icp(
        1, criterion("industry", "equals", "SaaS", 1), criterion("country", "equals", "GB", 7)
    )

    assert score_lead(SAAS_FACTS, [narrow], now=NOW).fit == 13


def test_missing_data_counts_as_not_matched_but_is_listed_as_unknown_only():
    no_company = LeadFacts(title="CTO", source="referral", country="DE")
    profile = icp(
        1,
        criterion("industry", "equals", "SaaS", 30, label="Industry"),
        criterion("employee_count", "range", {"min": 50}, 20, label="Staff"),
        criterion("title", "contains", "cto", 50, label="Title"),
        criterion("tags", "contains", "b2b", 10, label="Tags"),
        criterion("country", "equals", "GB", 10, label="Country"),
    )

    explanation = score_lead(no_company, [profile], now=NOW).explanation

    assert explanation["fit"] == 42  # 50 of 120 → 41.67: unknown weighs as not matched
    assert explanation["matched"] == ["Title"]
    # The score card shows "Not matched" and "Unknown — worth researching": one list each.
    assert explanation["unmatched"] == ["Country"]
    assert explanation["unknown"] == ["Industry", "Staff", "Tags"]


_FIELD_VALUES = {
    "industry": ("equals", "SaaS"),
    "employee_count": ("range", {"min": 50, "max": 500}),
    "annual_revenue": ("range", {"min": 1_000_000}),
    "country": ("one_of", ["GB", "DE"]),
    "region": ("contains", "bav"),
    "title": ("contains", "sales"),
    "seniority": ("one_of", ["vp", "c_level"]),
    "tags": ("contains", "b2b"),
    "source": ("equals", "referral"),
}


@given(
    facts=st.builds(
        LeadFacts,
        industry=st.sampled_from([None, "SaaS", "Retail"]),
        employee_count=st.sampled_from([None, 10, 120]),
        annual_revenue=st.sampled_from([None, 5_000, 8_000_000]),
        country=st.sampled_from([None, "GB", "FR"]),
        region=st.sampled_from([None, "Bavaria"]),
        city=st.sampled_from([None, "Lyon"]),
        title=st.sampled_from([None, "Head of Sales", "Engineer"]),
        seniority=st.sampled_from([None, "vp", "individual"]),
        tags=st.sampled_from([frozenset(), frozenset({"b2b"}), frozenset({"b2c"})]),
        source=st.sampled_from([None, "referral", "marketing"]),
    ),
    fields=st.lists(st.sampled_from(sorted(_FIELD_VALUES)), min_size=1, unique=True),
    required=st.lists(st.booleans(), min_size=9, max_size=9),
)
def test_each_criterion_is_listed_exactly_once(facts, fields, required):
    criteria = [
        criterion(name, *_FIELD_VALUES[name], required=must, label=f"Label {name}")
        for name, must in zip(fields, required, strict=False)
    ]

    explanation = score_lead(facts, [icp(1, *criteria)], now=NOW).explanation

    listed = explanation["matched"] + explanation["unmatched"] + explanation["unknown"]
    assert sorted(listed) == sorted(spec.label for spec in criteria)
    assert set(explanation["knocked_out_by"]) <= set(explanation["unmatched"]) | set(
        explanation["unknown"]
    )


def test_an_unmet_required_criterion_knocks_the_fit_out():
    profile = icp(
        1,
        criterion("industry", "equals", "SaaS", 90, label="Industry"),
        criterion("country", "equals", "GB", 10, required=True, label="Country is GB"),
    )

    score = score_lead(SAAS_FACTS, [profile], now=NOW)

    assert score.fit == 0
    assert score.explanation["knocked_out_by"] == ["Country is GB"]
    assert score.explanation["matched"] == ["Industry"]
    assert score.best_icp_id == 1


def test_a_required_criterion_without_data_knocks_out_and_is_unknown():
    profile = icp(
        1,
        criterion("industry", "equals", "SaaS", 90, label="Industry"),
        criterion("annual_revenue", "range", {"min": 1}, 10, required=True, label="Revenue"),
    )

    explanation = score_lead(LeadFacts(industry="SaaS"), [profile], now=NOW).explanation

    assert explanation["fit"] == 0
    assert explanation["knocked_out_by"] == ["Revenue"]
    assert explanation["unknown"] == ["Revenue"]


def test_the_best_of_several_icps_is_named():
    enterprise = icp(1, criterion("employee_count", "range", {"min": 1000}), name="Enterprise")
    scale_up = icp(
        2,
        criterion("industry", "equals", "SaaS", 30),
        criterion("country", "equals", "DE", 10),
        criterion("seniority", "equals", "c_level", 20),
        name="Scale-ups",
    )

    score = score_lead(SAAS_FACTS, [enterprise, scale_up], now=NOW)

    assert (score.fit, score.best_icp_id) == (67, 2)  # 40 of 60
    assert score.explanation["icp"] == "Scale-ups"
    assert score.explanation["icp_id"] == 2


def test_a_tie_goes_to_the_icp_with_the_lowest_id():
    later = icp(7, criterion("industry", "equals", "SaaS"), name="Later")
    earlier = icp(3, criterion("country", "equals", "DE"), name="Earlier")

    score = score_lead(SAAS_FACTS, [later, earlier], now=NOW)

    assert (score.fit, score.best_icp_id, score.explanation["icp"]) == (100, 3, "Earlier")


def test_an_icp_without_criteria_fits_zero_with_a_note():
    score = score_lead(SAAS_FACTS, [icp(4, name="Draft")], now=NOW)

    assert (score.fit, score.best_icp_id) == (0, 4)
    assert score.explanation["note"] == "ICP “Draft” has no criteria yet."


@pytest.mark.parametrize(
    ("field", "operator", "value", "expected"),
    [
        ("industry", "equals", "  saas ", True),
        ("industry", "equals", "Software", False),
        ("industry", "one_of", ["Retail", "SAAS"], True),
        ("industry", "contains", "aa", True),
        ("title", "contains", "SALES", True),
        ("title", "contains", "engineer", False),
        ("country", "equals", "de", True),
        ("country", "one_of", ["GB", "FR"], False),
        ("region", "equals", "munich", True),  # a region criterion also matches the city
        ("region", "equals", "bavaria", True),
        ("region", "contains", "unic", True),
        ("region", "one_of", ["Berlin", "Hamburg"], False),
        ("seniority", "equals", "VP", True),  # the code or the label
        ("seniority", "one_of", ["director", "c_level"], False),
        ("source", "equals", "Own network", True),
        ("tags", "contains", "B2B", True),  # membership, not substring
        ("tags", "contains", "b2", False),
        ("tags", "one_of", ["saas", "hiring"], True),
        ("tags", "one_of", ["saas", "partner"], False),
        ("employee_count", "equals", 120, True),
        ("employee_count", "range", {"min": 120, "max": 120}, True),  # inclusive
        ("employee_count", "range", {"min": 121}, False),
        ("employee_count", "range", {"max": 119}, False),
        ("annual_revenue", "range", {"min": 8_000_000}, True),
        ("annual_revenue", "range", {"min": 1, "max": 7_999_999}, False),
    ],
)
def test_matching_rules(field, operator, value, expected):
    profile = icp(1, criterion(field, operator, value, label="the criterion"))

    explanation = score_lead(SAAS_FACTS, [profile], now=NOW).explanation

    assert explanation["fit"] == (100 if expected else 0)
    assert explanation["matched"] == (["the criterion"] if expected else [])


# --- intent, total and grade -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("signals", "intent"),
    [
        ([demo_days_ago(0)], 40),
        ([demo_days_ago(14)], 20),  # one half-life: half the points
        ([demo_days_ago(28)], 10),
        ([demo_days_ago(-3)], 40),  # in the future: counts as fresh, not more
        ([("was_introduced", NOW - timedelta(days=14))], 13),  # 12.5 rounds half up
        ([("replied", NOW), ("attended_event", NOW - timedelta(days=14))], 28),  # 20 + 7.5
        ([("call", NOW), ("meeting", NOW)], 0),  # touches are not hand-raises
        (
            [
                demo_days_ago(0),
                ("asked_for_info", NOW),
                ("was_introduced", NOW),
                ("replied", NOW),
            ],
            100,  # 115, capped
        ),
    ],
)
def test_intent_decays_with_a_half_life_and_is_capped(signals, intent):
    score = score_lead(LeadFacts(signals=tuple(signals)), [], now=NOW)

    assert score.intent == intent


def test_a_longer_half_life_decays_slower():
    facts = LeadFacts(signals=(demo_days_ago(28),))

    assert score_lead(facts, [], now=NOW, half_life_days=28).intent == 20


def test_signals_are_explained_newest_first_with_rounded_points():
    facts = LeadFacts(signals=(("replied", NOW - timedelta(days=7)), demo_days_ago(1)))

    explanation = score_lead(facts, [], now=NOW).explanation

    assert explanation["signals"] == [
        {
            "kind": "asked_for_demo",
            "label": "Asked for a demo",
            "at": "2026-11-29T09:00:00+00:00",
            "points": 38.1,  # 40 × 0.5^(1/14) = 38.07
        },
        {
            "kind": "replied",
            "label": "Replied",
            "at": "2026-11-23T09:00:00+00:00",
            "points": 14.1,  # 20 × 0.5^(7/14) = 14.14
        },
    ]
    assert explanation["intent"] == 52  # 52.21
    assert explanation["half_life_days"] == 14


def test_total_combines_fit_and_intent():
    profile = icp(
        1, criterion("industry", "equals", "SaaS", 1), criterion("country", "equals", "GB", 1)
    )
    facts = LeadFacts(industry="SaaS", signals=(demo_days_ago(14),))

    score = score_lead(facts, [profile], now=NOW)

    # fit 50, intent 20 → 0.6 × 50 + 0.4 × 20 = 38 → C
    assert (score.fit, score.intent, score.total, score.grade) == (50, 20, 38, "C")


def test_a_referred_lead_gets_a_bonus():
    profile = icp(
        1, criterion("industry", "equals", "SaaS", 1), criterion("country", "equals", "GB", 1)
    )
    facts = LeadFacts(industry="SaaS", is_referred=True)

    score = score_lead(facts, [profile], now=NOW)

    assert (score.total, score.grade) == (40, "C")  # 30 + 10
    assert score.explanation["referral_bonus"] == 10


def test_the_total_is_capped_at_100_with_the_referral_bonus():
    facts = LeadFacts(
        industry="SaaS",
        is_referred=True,
        signals=(demo_days_ago(0), ("asked_for_info", NOW), ("was_introduced", NOW)),
    )

    score = score_lead(facts, [icp(1, criterion("industry", "equals", "SaaS"))], now=NOW)

    assert (score.fit, score.intent, score.total, score.grade) == (100, 95, 100, "A")


@pytest.mark.parametrize(
    ("total", "grade"),
    [(100, "A"), (75, "A"), (74, "B"), (50, "B"), (49, "C"), (25, "C"), (24, "D"), (0, "D")],
)
def test_grade_boundaries(total, grade):
    assert grade_for(total) == grade


# --- the explanation -------------------------------------------------------------------------


def test_the_explanation_is_complete_and_json_serialisable():
    facts = LeadFacts(industry="SaaS", is_referred=True, signals=(demo_days_ago(3),))
    profile = icp(5, criterion("industry", "equals", "SaaS", label="Industry is SaaS"), name="Core")

    explanation = score_lead(facts, [profile], now=NOW).explanation

    assert json.loads(json.dumps(explanation)) == explanation
    assert explanation == {
        "icp": "Core",
        "icp_id": 5,
        "fit": 100,
        "matched": ["Industry is SaaS"],
        "unmatched": [],
        "unknown": [],
        "knocked_out_by": [],
        "note": None,
        "signals": [
            {
                "kind": "asked_for_demo",
                "label": "Asked for a demo",
                "at": "2026-11-27T09:00:00+00:00",
                "points": 34.5,  # 40 × 0.5^(3/14) = 34.49
            }
        ],
        "intent": 34,
        "referral_bonus": 10,
        "total": 84,  # 60 + 13.6 = 73.6 → 74, + 10
        "grade": "A",
        "half_life_days": 14,
    }


@given(st.floats(min_value=0, max_value=100, allow_nan=False))
@example(0.05)
@example(12.25)
@example(34.45)
@example(0.15000000000000002)
def test_signal_points_round_half_up_to_tenths_exactly_like_decimal(points):
    expected = float(Decimal(points).quantize(Decimal("0.1"), ROUND_HALF_UP))

    assert _tenths_half_up(points) == expected


def test_the_same_facts_always_give_the_same_score_whatever_the_signal_order():
    signals = [("replied", NOW - timedelta(hours=h)) for h in (5, 50, 500)] + [demo_days_ago(2)]
    forwards = LeadFacts(signals=tuple(signals))
    backwards = LeadFacts(signals=tuple(reversed(signals)))

    assert score_lead(forwards, [], now=NOW) == score_lead(backwards, [], now=NOW)


def test_remembered_outcomes_are_kept_per_value_and_per_icp():
    # The specs remember outcomes between leads; each lead must still get its own answer.
    profile = icp(
        1,
        criterion("industry", "equals", "SaaS", 30),
        criterion("region", "equals", "Munich", 10),
    )
    munich_saas = SAAS_FACTS
    leeds_retail = LeadFacts(industry="Retail", city="Leeds")

    fits = [
        score_lead(facts, [profile], now=NOW).fit
        for facts in (munich_saas, leeds_retail, munich_saas, LeadFacts(industry=" saas "))
    ]

    assert fits == [100, 0, 100, 75]
