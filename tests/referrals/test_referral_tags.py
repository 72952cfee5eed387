from __future__ import annotations

import pytest

from referrals.templatetags.referral_tags import days_ago, strength_dots


@pytest.mark.parametrize(
    ("strength", "on", "off"), [(0, "", "○○○○○"), (2, "●●", "○○○"), (5, "●●●●●", "")]
)
def test_strength_dots_colour_the_dots_on_and_off(strength, on, off):
    html = strength_dots(strength)

    assert f'aria-label="Relationship strength {strength} of 5"' in html
    assert f'<span class="strength-on">{on}</span><span class="strength-off">{off}</span>' in html


@pytest.mark.parametrize(
    ("days", "text"), [(None, "never"), (0, "today"), (1, "yesterday"), (43, "43 days ago")]
)
def test_days_ago_reads_as_words(days, text):
    assert days_ago(days) == text
