from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from leads.models import Lead
from referrals import selectors
from tests.factories import LeadFactory, ReferralSourceFactory

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("UTC"))  # a Monday


@pytest.mark.django_db
def test_who_to_ask_this_week_is_ranked_and_scoped(salesperson, other_salesperson):
    strong = ReferralSourceFactory(
        owner=salesperson, name="Strong", strength=5, next_ask_at=NOW - timedelta(days=3)
    )
    proven = ReferralSourceFactory(
        owner=salesperson, name="Proven", strength=3, next_ask_at=NOW - timedelta(days=1)
    )
    LeadFactory.create_batch(3, owner=salesperson, referred_by=proven)
    weak = ReferralSourceFactory(
        owner=salesperson, name="Weak", strength=1, next_ask_at=NOW + timedelta(days=2)
    )
    ReferralSourceFactory(owner=salesperson, name="Opted out", opted_out=True, next_ask_at=NOW)
    ReferralSourceFactory(
        owner=salesperson, name="Next month", next_ask_at=NOW + timedelta(days=30)
    )
    ReferralSourceFactory(owner=other_salesperson, name="Not mine", strength=5, next_ask_at=NOW)

    ranked = selectors.referral_asks_due(salesperson, now=NOW)

    assert [item.source for item in ranked] == [strong, proven, weak]
    assert [item.referrals_given for item in ranked] == [0, 3, 0]


@pytest.mark.django_db
def test_referral_tree_follows_the_chain_and_sums_won_value(salesperson):
    root = ReferralSourceFactory(owner=salesperson, name="Ana")
    bea = LeadFactory(
        owner=salesperson,
        first_name="Bea",
        last_name="",
        referred_by=root,
        stage="won",
        expected_value=Decimal(1000),
    )
    bea_as_source = ReferralSourceFactory(owner=salesperson, name="Bea", lead=bea)
    LeadFactory(
        owner=salesperson,
        first_name="Cy",
        last_name="",
        referred_by=bea_as_source,
        stage="won",
        expected_value=Decimal(500),
    )
    LeadFactory(
        owner=salesperson,
        first_name="Di",
        last_name="",
        referred_by=bea_as_source,
        stage="qualified",
        expected_value=Decimal(900),
    )

    tree = selectors.referral_tree(root)
    stats = selectors.referral_source_stats([salesperson.pk])

    assert [(node.name, [child.name for child in node.children]) for node in tree] == [
        ("Bea", ["Cy", "Di"])
    ]
    assert stats[root.pk].referrals_given == 1
    assert stats[root.pk].won_value_of_tree == Decimal(1500)
    assert stats[bea_as_source.pk].won_value_of_tree == Decimal(500)
    # A page asks about its own sources only: their whole trees, nobody else's.
    page = selectors.referral_source_stats([salesperson.pk], source_ids=[root.pk])
    assert page == {root.pk: stats[root.pk]}


@pytest.mark.django_db
def test_the_won_value_of_each_tree_is_what_the_tree_itself_totals(salesperson):
    """The stats walk the graph without drawing the tree; a loop (Ana referred Bea, who
    referred Ana) stops where the tree stops."""
    root = ReferralSourceFactory(owner=salesperson, name="Root")
    ana = LeadFactory(owner=salesperson, referred_by=root, stage="won", expected_value=700)
    ana_source = ReferralSourceFactory(owner=salesperson, name="Ana", lead=ana)
    bea = LeadFactory(owner=salesperson, referred_by=ana_source, stage="won", expected_value=300)
    bea_source = ReferralSourceFactory(owner=salesperson, name="Bea", lead=bea)
    ana.referred_by = bea_source
    ana.save()
    LeadFactory(owner=salesperson, referred_by=bea_source, stage="won", expected_value=None)
    LeadFactory(owner=salesperson, referred_by=bea_source, stage="lost", expected_value=5000)
    LeadFactory(owner=salesperson, referred_by=root, stage="won", expected_value=40)
    sources = [root, ana_source, bea_source]

    stats = selectors.referral_source_stats([salesperson.pk])

    totals = {
        source.pk: selectors.referral_tree_totals(selectors.referral_tree(source)).won_value
        for source in sources
    }
    assert {source.pk: stats[source.pk].won_value_of_tree for source in sources} == totals
    assert totals[bea_source.pk] == Decimal(1000)  # Ana 700 + Bea 300, each once


@pytest.mark.django_db
@pytest.mark.parametrize("seed", range(1, 9))
def test_every_sources_stats_match_its_tree_in_a_random_referral_graph(
    salesperson, other_salesperson, seed
):
    """The stats sum won values over the sources a tree reaches; the tree walks every lead.
    On random graphs (chains, branches, loops, leads that became sources of another owner,
    sources that referred nobody) the two agree for every source."""
    chance = random.Random(seed)
    sources = [ReferralSourceFactory(owner=salesperson, name=f"Root {n}") for n in range(3)]
    for number in range(40):
        owner = salesperson if chance.random() < 0.85 else other_salesperson
        lead = LeadFactory(
            owner=owner,
            referred_by=chance.choice(sources),
            stage=chance.choice(["won", "won", "lost", "qualified", "new"]),
            expected_value=chance.choice([None, Decimal("0.50"), Decimal(1200), Decimal(75)]),
        )
        if chance.random() < 0.4:
            source_owner = salesperson if chance.random() < 0.9 else other_salesperson
            sources.append(
                ReferralSourceFactory(owner=source_owner, name=f"Lead {number}", lead=lead)
            )
    # Loops: some leads that became sources are credited to a source further down.
    for source in chance.sample(sources[3:], k=min(4, len(sources) - 3)):
        source.lead.referred_by = chance.choice(sources)
        source.lead.save()
    mine = [source for source in sources if source.owner_id == salesperson.pk]

    stats = selectors.referral_source_stats([salesperson.pk])

    no_stats = selectors.SourceStats(referrals_given=0, won_value_of_tree=Decimal(0))
    for source in mine:
        # The tree is the won value's oracle only: a loop back through the source's own lead
        # draws some of its referrals under that lead, not at the top.
        tree = selectors.referral_tree(source)
        expected = selectors.SourceStats(
            referrals_given=Lead.objects.filter(owner=salesperson, referred_by=source).count(),
            won_value_of_tree=selectors.referral_tree_totals(tree).won_value,
        )
        assert stats.get(source.pk, no_stats) == expected, source.name
    assert any(value.won_value_of_tree for value in stats.values())


@pytest.mark.django_db
def test_sources_are_visible_to_their_owner_and_managers(salesperson, other_salesperson, manager):
    mine = ReferralSourceFactory(owner=salesperson)
    theirs = ReferralSourceFactory(owner=other_salesperson)

    assert list(selectors.referral_sources_visible_to(salesperson)) == [mine]
    assert set(selectors.referral_sources_visible_to(manager)) == {mine, theirs}
