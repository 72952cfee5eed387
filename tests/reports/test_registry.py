"""How the report registry prints a median wait on the page and in the CSV."""

from __future__ import annotations

import pytest

from reports.registry import display, export


@pytest.mark.parametrize(
    ("minutes", "shown"),
    [
        (0, "0 s"),
        (0.5, "30 s"),
        (1, "1 min"),
        (12.4, "12 min"),
        (59.4, "59 min"),
        (59.6, "1 h"),
        (60, "1 h"),
        (125, "2 h 5 min"),
        (24 * 60 - 1, "23 h 59 min"),
        (24 * 60, "1.0 days"),
        (36 * 60, "1.5 days"),
        (None, "—"),
    ],
)
def test_a_median_wait_reads_in_seconds_minutes_hours_or_days(minutes, shown):
    assert display(minutes, "minutes") == shown


def test_a_median_wait_exports_as_minutes_a_spreadsheet_can_sum():
    assert export(60 + 1 / 120, "minutes") == 60.0
    assert export(None, "minutes") == ""
