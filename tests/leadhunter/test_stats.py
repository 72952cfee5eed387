"""The small-sample statistics the suggestions and the forecast share."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadhunter.stats import (
    beta_cdf,
    beta_interval,
    beta_quantile,
    difference_interval,
    wilson_interval,
)


@pytest.mark.parametrize(
    ("x", "a", "b", "expected"),
    [
        (0.5, 2, 3, 0.6875),  # 1 - (4·0.5^3·0.5 + 0.5^4) by hand
        (0.3, 1, 1, 0.3),  # uniform
        (0.2, 1, 2, 1 - 0.8**2),
        (0.9, 5, 1, 0.9**5),
        (0.1, 0.5, 0.5, 2 / math.pi * math.asin(math.sqrt(0.1))),  # arcsine
    ],
)
def test_beta_cdf_matches_closed_forms(x, a, b, expected):
    assert beta_cdf(x, a, b) == pytest.approx(expected, abs=1e-9)


def test_beta_quantile_inverts_the_cdf():
    assert beta_quantile(0.6875, 2, 3) == pytest.approx(0.5, abs=1e-9)
    low, high = beta_interval(1, 1, 0.8)
    assert (low, high) == (pytest.approx(0.1, abs=1e-9), pytest.approx(0.9, abs=1e-9))


@given(st.floats(0.5, 200), st.floats(0.5, 200), st.floats(0.01, 0.99, allow_nan=False))
def test_a_beta_interval_is_ordered_and_holds_its_mass(a, b, mass):
    low, high = beta_interval(a, b, mass)
    assert 0 <= low <= high <= 1
    assert beta_cdf(high, a, b) - beta_cdf(low, a, b) == pytest.approx(mass, abs=1e-6)


@given(st.floats(0.01, 0.5), st.floats(0.5, 200))
def test_very_skewed_betas_still_give_an_ordered_interval(a, b):
    # Quantiles below 1e-18 are found as 0 (the bisection's resolution): shown as 0%, right.
    low, high = beta_interval(a, b)
    assert 0 <= low <= high <= 1


@given(st.integers(0, 500), st.integers(1, 500))
def test_a_wilson_interval_holds_the_observed_share(successes, extra):
    trials = successes + extra
    low, high = wilson_interval(successes, trials)
    assert 0 <= low <= successes / trials <= high <= 1


def test_the_difference_interval_stays_wide_on_a_handful_of_deals():
    # 3 of 3 against 0 of 2 looks certain; it is not.
    low, high = difference_interval(3, 3, 0, 2)
    assert low < 0.5 < high
    many_low, _ = difference_interval(300, 300, 0, 200)
    assert many_low > 0.9
