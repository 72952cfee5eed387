"""Warm-path strength and ranking (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leads.models import Source, Stage
from prospecting.paths import Kind, Path, lead_strength, ranked, source_strength, teammate_strength

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("stage", "source", "days", "expected"),
    [
        (Stage.WON, Source.OTHER, None, (Kind.CUSTOMER, 5)),
        (Stage.NEW, Source.OWN_NETWORK, None, (Kind.CONNECTION, 2)),
        (Stage.CONTACTED, Source.OWN_NETWORK, 100, (Kind.CONNECTION, 3)),
        (Stage.NEW, Source.MARKETING, None, (Kind.LEAD, 1)),
        (Stage.CONTACTED, Source.MARKETING, 200, (Kind.LEAD, 2)),
        (Stage.ENGAGED, Source.MARKETING, 200, (Kind.LEAD, 3)),
        (Stage.PROPOSAL, Source.MARKETING, 10, (Kind.LEAD, 4)),
        (Stage.LOST, Source.OWN_NETWORK, None, (Kind.LEAD, 1)),
    ],
)
def test_the_strength_of_your_own_leads(stage, source, days, expected):
    last = NOW - timedelta(days=days) if days is not None else None
    assert lead_strength(stage=stage, source=source, last_contact=last, now=NOW) == expected


def test_a_teammates_contact_is_one_step_weaker_and_a_referrer_one_less_than_a_source():
    assert teammate_strength(stage=Stage.WON, last_contact=None, now=NOW) == 4
    assert teammate_strength(stage=Stage.NEW, last_contact=NOW, now=NOW) == 2
    assert teammate_strength(stage=Stage.NEW, last_contact=None, now=NOW) == 1
    assert source_strength(4, works_there=True) == 4
    assert source_strength(4, works_there=False) == 3
    assert source_strength(1, works_there=False) == 1


def _path(key, strength, name="X", **kwargs):
    return Path(
        key=key, name=name, title="", kind=Kind.LEAD, strength=strength, reasons=(), **kwargs
    )


def test_one_person_reached_two_ways_is_one_row_with_both_reasons_and_the_strongest():
    rows = ranked(
        [
            Path("lead:1", "Dana", "VP", Kind.LEAD, 2, ("Your lead at Acme",), lead_id=1),
            Path("lead:1", "Dana", "", Kind.REFERRER, 4, ("Referred Eve at Acme",), source_id=9),
        ]
    )
    assert len(rows) == 1
    (row,) = rows
    assert (row.strength, row.title, row.lead_id, row.source_id) == (4, "VP", 1, 9)
    assert row.reasons == ("Your lead at Acme", "Referred Eve at Acme")
    assert row.kinds == {Kind.LEAD, Kind.REFERRER}


def test_strongest_first_then_own_before_teammates_then_most_recent():
    rows = ranked(
        [
            _path("a", 3, "Old", last_contact=NOW - timedelta(days=300)),
            _path("b", 3, "Recent", last_contact=NOW - timedelta(days=3)),
            _path("c", 3, "Teammate's", teammate="Jordan Lee"),
            _path("d", 5, "Customer"),
        ]
    )
    assert [row.name for row in rows] == ["Customer", "Recent", "Old", "Teammate's"]
    assert rows[-1].action_label == "Ask Jordan for an intro"
    assert rows[0].action_label == "Ask for an intro"


@given(st.lists(st.tuples(st.integers(1, 5), st.text(max_size=5)), max_size=12), st.integers(1, 5))
def test_an_unrelated_path_does_not_reorder_the_others(rows, strength):
    paths = [_path(f"lead:{i}", s, name) for i, (s, name) in enumerate(rows)]
    before = [p.key for p in ranked(paths)]
    after = [p.key for p in ranked([*paths, _path("lead:9999", strength, "zz")])]
    assert [key for key in after if key != "lead:9999"] == before
