"""The duplicate finder's name similarity: rapidfuzz against the difflib ratio it replaces."""

from __future__ import annotations

from difflib import SequenceMatcher

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leads.merging import SIMILAR_NAME_RATIO
from leads.similarity import name_similarity


def difflib_ratio(one: str, other: str) -> float:
    return SequenceMatcher(None, one, other).ratio()


def longest_common_subsequence(one: str, other: str) -> int:
    lengths = [0] * (len(other) + 1)
    for char in one:
        previous_diagonal = 0
        for index, other_char in enumerate(other, start=1):
            above = lengths[index]
            if char == other_char:
                lengths[index] = previous_diagonal + 1
            else:
                lengths[index] = max(lengths[index], lengths[index - 1])
            previous_diagonal = above
    return lengths[-1]


# The names of tests/leads/test_merging.py's duplicate-finding cases, folded as merging folds
# them ("Zoë O'Brien" → "zoe obrien"), against the lead they are compared with.
SUGGESTED = [
    ("dana smith", "dana smith"),
    ("dana smith", "dana smyth"),
    ("dana smith", "danna smith"),
    ("dana smith", "dan smith"),
    ("jose garcia", "jose garcia"),
    ("zoe obrien", "zoe obrien"),
]
NOT_SUGGESTED = [("dana smith", "dina smart"), ("dana smith", "bea smith")]


@pytest.mark.parametrize(("one", "other"), SUGGESTED + NOT_SUGGESTED)
def test_the_duplicate_finders_cases_get_difflibs_ratio(one, other):
    assert name_similarity(one, other) == pytest.approx(difflib_ratio(one, other))


@pytest.mark.parametrize(("one", "other"), SUGGESTED)
def test_typos_and_namesakes_are_similar_names(one, other):
    assert name_similarity(one, other) >= SIMILAR_NAME_RATIO


@pytest.mark.parametrize(("one", "other"), NOT_SUGGESTED)
def test_merely_alike_names_are_not_similar(one, other):
    assert name_similarity(one, other) < SIMILAR_NAME_RATIO


def test_a_typo_that_difflib_undercounts_is_similar():
    """The one change: 'garcia' → 'grica' (a letter dropped, two swapped) keeps 9 of the
    characters in order, which rapidfuzz counts; difflib matches 'jose g' first, then only the
    final 'a' of 'arcia' against 'rica', and counts 7."""
    assert longest_common_subsequence("jose garcia", "jose grica") == 9
    assert name_similarity("jose garcia", "jose grica") == pytest.approx(18 / 21)
    assert difflib_ratio("jose garcia", "jose grica") == pytest.approx(14 / 21)
    assert difflib_ratio("jose garcia", "jose grica") < SIMILAR_NAME_RATIO
    assert name_similarity("jose garcia", "jose grica") >= SIMILAR_NAME_RATIO


names = st.text(alphabet="abcdeinorst ", max_size=14)


@given(one=names, other=names)
def test_the_ratio_is_exact_and_never_below_difflibs(one, other):
    exact = 2 * longest_common_subsequence(one, other) / (len(one) + len(other) or 1)
    assert name_similarity(one, other) == pytest.approx(exact if one or other else 1.0)
    assert name_similarity(one, other) >= difflib_ratio(one, other) - 1e-9
