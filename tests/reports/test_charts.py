from __future__ import annotations

import re
from xml.etree import ElementTree

import pytest

from reports import charts
from reports.charts import Series

SCRIPT = "<script>alert(1)</script>"


def _parse(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(svg)  # noqa: S314 — our own markup; proves it is well-formed


@pytest.mark.parametrize(
    "draw",
    [
        lambda: charts.bar_chart(
            title=f"Leads {SCRIPT}",
            categories=[SCRIPT, "B & C"],
            series=[Series(SCRIPT, [1, 2]), Series("Other", [3, None])],
            x_label=SCRIPT,
            y_label=SCRIPT,
        ),
        lambda: charts.bar_chart(
            title=SCRIPT, categories=[SCRIPT], series=[Series(SCRIPT, [1])], stacked=True
        ),
        lambda: charts.hbar_chart(
            title=SCRIPT, categories=[SCRIPT, "x"], series=[Series(SCRIPT, [5, 0])], x_label=SCRIPT
        ),
        lambda: charts.line_chart(
            title=SCRIPT,
            categories=[SCRIPT, "b", "c"],
            series=[Series(SCRIPT, [1, None, 3])],
            reference=(100, SCRIPT),
        ),
    ],
)
def test_every_chart_escapes_text_and_is_well_formed_accessible_svg(draw):
    svg = str(draw())

    assert "<script" not in svg
    assert "&lt;script&gt;" in svg
    root = _parse(svg)
    assert root.get("role") == "img"
    assert "&lt;script&gt;" in svg.split(">", 1)[0]  # in the aria-label, escaped
    assert root.find("{http://www.w3.org/2000/svg}title") is not None


def test_a_bar_chart_has_a_bar_per_value_with_a_tooltip_and_a_legend():
    svg = str(
        charts.bar_chart(
            title="New leads",
            categories=["Jan", "Feb"],
            series=[Series("Self-sourced", [3, 1]), Series("Marketing", [1, 0])],
            stacked=True,
            y_label="New leads",
        )
    )

    assert "<title>Self-sourced, Jan: 3</title>" in svg
    assert "<title>Marketing, Feb: 0</title>" in svg
    assert svg.count("<rect") == 4 + 2  # bars + legend swatches
    assert ">New leads</text>" in svg


def test_a_missing_value_is_a_dash_not_a_bar_at_zero():
    svg = str(
        charts.hbar_chart(
            title="Win rate by source",
            categories=["Referral", "Event"],
            series=[Series("Win rate", [0, None])],
            fmt=charts.percent,
        )
    )

    assert "<title>Win rate, Referral: 0%</title>" in svg
    assert "<title>Win rate, Event: none</title>" in svg
    assert svg.count("<rect") == 1 + 1  # the bar at 0% and the legend swatch
    _parse(svg)


@pytest.mark.parametrize(
    ("value", "label"),
    [(54.5, "54.5%"), (62.5, "62.5%"), (100.0, "100%"), (0, "0%"), (20.0, "20%")],
)
def test_a_percentage_reads_as_the_tables_print_it(value, label):
    assert charts.percent(value) == label


def test_a_missing_value_breaks_the_line():
    svg = str(
        charts.line_chart(
            title="Goal", categories=list("abcde"), series=[Series("Sam", [1, 2, None, 4, 5])]
        )
    )

    assert svg.count("<polyline") == 2
    assert svg.count("<circle") == 4


@pytest.mark.parametrize(
    ("largest", "expected"),
    [(0, (4.0, 1.0)), (3, (3, 1)), (9, (10, 2)), (100, (100, 20)), (61_000, (80_000, 20_000))],
)
def test_axis_scale_is_round(largest, expected):
    assert charts._scale(largest) == pytest.approx(expected)


def test_colours_do_not_repeat_when_some_are_given():
    coloured = charts._coloured([Series("a", [1], charts.PALETTE[1]), Series("b", [1])])

    assert coloured[0].colour != coloured[1].colour
    assert re.fullmatch(r"#[0-9a-f]{6}", coloured[1].colour)


def test_a_long_legend_wraps_and_makes_room_above_the_plot():
    reps = [Series(f"Rep number {n}", [n]) for n in range(12)]

    short = _parse(str(charts.line_chart(title="t", categories=["a"], series=reps[:2])))
    long = _parse(str(charts.line_chart(title="t", categories=["a"], series=reps)))

    assert short.get("viewBox") == "0 0 960 300"
    assert long.get("viewBox") in {"0 0 960 318", "0 0 960 336"}
