"""Lookalike maths: bounded, explained, and stable in the ways a salesperson relies on."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from prospecting.similarity import (
    BAND_ORDER,
    SENIORITY_ORDER,
    Customer,
    Model,
    Profile,
    customer_weights,
    profile,
    rank,
    size_band,
)

INDUSTRIES = ["software", "retail", "health", ""]
COUNTRIES = ["gb", "de", "us", ""]
TAGS = ["saas", "b2b", "eu", "fintech"]

profiles = st.builds(
    Profile,
    industry=st.sampled_from(INDUSTRIES),
    size_band=st.sampled_from([*BAND_ORDER, ""]),
    country=st.sampled_from(COUNTRIES),
    region=st.sampled_from(["london", "bavaria", ""]),
    seniority=st.sampled_from([*map(str, SENIORITY_ORDER), ""]),
    tags=st.frozensets(st.sampled_from(TAGS), max_size=3),
)
values = st.one_of(st.none(), st.decimals(min_value=0, max_value=10**6, places=0))
customers = st.lists(st.tuples(profiles, values), min_size=1, max_size=8).map(
    lambda rows: [
        Customer(id=index, name=f"Customer {index}", facts=facts, value=value)
        for index, (facts, value) in enumerate(rows, start=1)
    ]
)


@given(customers, profiles)
def test_similarity_lies_between_0_and_1(won, candidate):
    assert 0.0 <= Model(won).score(candidate) <= 1.0


@given(customers)
def test_a_copy_of_every_customer_scores_1_when_all_are_alike(won):
    same = [replace(customer, facts=won[0].facts) for customer in won]
    facts = won[0].facts
    complete = all([facts.industry, facts.size_band, facts.country, facts.region, facts.seniority])
    if complete and facts.tags:
        assert abs(Model(same).score(facts) - 1.0) < 1e-9


@given(customers, st.lists(profiles, min_size=2, max_size=10), profiles)
def test_the_order_is_the_same_when_an_unrelated_contact_joins(won, candidates, stranger):
    """Another owner's lead, or a company nobody works at, is scored alone and moves nobody."""
    model = Model(won)
    before = rank({pk: model.score(facts) for pk, facts in enumerate(candidates)})
    scores = {pk: model.score(facts) for pk, facts in enumerate(candidates)}
    scores[10_000] = model.score(stranger)
    after = [pk for pk in rank(scores) if pk != 10_000]
    assert after == before


FACTS_TO_GAIN = ["industry", "size_band", "country", "region", "seniority"]


@given(customers, st.lists(profiles, min_size=1, max_size=8), st.data())
def test_matching_more_facts_never_lowers_a_rank(won, candidates, data):
    """Give one candidate a customer's value for a fact it did not know: it never drops."""
    model = Model(won)
    target = data.draw(st.integers(min_value=0, max_value=len(candidates) - 1))
    fact = data.draw(st.sampled_from([*FACTS_TO_GAIN, "tags"]))
    customer = data.draw(st.sampled_from(won))
    facts = candidates[target]
    if fact == "tags":
        better = replace(facts, tags=facts.tags | customer.facts.tags)
    elif not getattr(facts, fact):
        better = replace(facts, **{fact: getattr(customer.facts, fact)})
    else:
        better = facts
    before = rank({pk: model.score(f) for pk, f in enumerate(candidates)})
    improved = [better if pk == target else f for pk, f in enumerate(candidates)]
    after = rank({pk: model.score(f) for pk, f in enumerate(improved)})
    assert model.score(better) >= model.score(facts) - 1e-12
    assert after.index(target) <= before.index(target)


@given(customers, profiles)
def test_the_score_does_not_depend_on_the_customers_order(won, candidate):
    assert abs(Model(won).score(candidate) - Model(won[::-1]).score(candidate)) < 1e-9


def test_bigger_customers_pull_harder():
    software = profile(industry="Software", employee_count=120, country="GB")
    retail = profile(industry="Retail", employee_count=120, country="GB")
    model = Model(
        [
            Customer(1, "Big", software, Decimal(90_000)),
            Customer(2, "Small", retail, Decimal(5_000)),
        ]
    )
    assert model.score(software) > model.score(retail)


def test_customer_weights_fill_unknown_values_with_the_median():
    assert customer_weights([Decimal(10), None, Decimal(30)]) == [10.0, 20.0, 30.0]
    assert customer_weights([None, None]) == [1.0, 1.0]


def test_the_explanation_says_which_facts_and_how_many_customers():
    saas = profile(industry="Software", employee_count=120, country="GB", seniority="vp")
    won = [
        Customer(1, "Ana", saas, Decimal(100)),
        Customer(2, "Ben", saas, Decimal(100)),
        Customer(3, "Cy", profile(industry="Software", employee_count=120, country="DE"), None),
        Customer(4, "Di", profile(industry="Software", employee_count=120, seniority="vp"), None),
        Customer(5, "Ed", profile(industry="Retail", employee_count=9000), None),
        Customer(6, "Flo", profile(industry="Health", employee_count=3), None),
    ]
    explanation = Model(won).explain(
        profile(industry="software", employee_count=150, country="FR", seniority="vp")
    )
    assert explanation.headline == (
        "Same industry and size band as 4 of your 6 won customers; title seniority matches"
    )
    texts = [reason.text for reason in explanation.reasons]
    assert "Industry Software: 4 of your 6 won customers" in texts
    assert "Size band 51–200: 4 of your 6 won customers" in texts
    assert "Title seniority VP: 3 of your 6 won customers" in texts
    assert explanation.closest[:2] == ("Ana", "Ben")


def test_a_candidate_with_nothing_in_common_says_so():
    model = Model([Customer(1, "Ana", profile(industry="Software"), None)])
    candidate = profile(industry="Retail")
    assert model.score(candidate) == 0.0
    assert model.explain(candidate).headline == "Little in common with your 1 won customer"


def test_size_bands():
    assert [size_band(n) for n in (None, 0, 1, 10, 11, 200, 201, 5000, 5001)] == [
        "",
        "",
        "1–10",
        "1–10",
        "11–50",
        "51–200",
        "201–1,000",
        "1,001–5,000",
        "5,000+",
    ]


def test_neighbouring_size_band_and_seniority_count_half():
    model = Model([Customer(1, "Ana", profile(employee_count=100, seniority="director"), None)])
    same = model.score(profile(employee_count=100, seniority="director"))
    near = model.score(profile(employee_count=300, seniority="vp"))
    assert near == same / 2
