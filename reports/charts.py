"""Server-side SVG charts: no JavaScript, no CDN, readable in any browser and in a screenshot.

Each chart is an inline `<svg role="img">` named by `aria-label` and `<title>`, with axis labels,
a legend and a tooltip (`<title>`) on every bar and point; the table under each chart holds the
same numbers for screen readers and spreadsheets. Every piece of text goes through
`format_html`, so a referral source called "<script>" stays text.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

Number = int | float | Decimal
Formatter = Callable[[float], str]

# The app's accent first (self-sourced, the thesis), then colours that stay apart for the
# common forms of colour blindness.
PALETTE = ("#1f6f5c", "#3a7bd5", "#a15c07", "#5b3a99", "#b42318", "#7b8595", "#2f9e8f")
INK, FAINT, GRID = "#1b2430", "#4a5566", "#e6e9ef"
WIDTH = 960
LEGEND_ROW = 18


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[Number | None]
    colour: str = ""


def compact(value: float) -> str:
    """12500 → '12.5k': tick labels stay short."""
    for limit, suffix in ((1_000_000, "M"), (1_000, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.1f}".rstrip("0").rstrip(".") + suffix
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def percent(value: float) -> str:
    """As the report tables print a percentage (one decimal) but without a trailing ".0": a
    bar labelled 54% beside a table saying 54.5% read as two different numbers."""
    return f"{round(value, 1):g}%"


def bar_chart(
    *,
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    stacked: bool = False,
    x_label: str = "",
    y_label: str = "",
    fmt: Formatter = compact,
) -> SafeString:
    """Vertical bars per category: side by side, or stacked to show a whole and its parts."""
    series = _coloured(series)
    legend, extra = _legend(series)
    frame = _Frame(height=300 + extra, top=40 + extra)
    if stacked:
        totals = [sum(float(s.values[i] or 0) for s in series) for i in range(len(categories))]
    else:
        totals = [float(v or 0) for s in series for v in s.values]
    top, step = _scale(max(totals, default=0))
    band = frame.plot_width / max(len(categories), 1)
    parts = [_y_axis(frame, top, step, fmt, y_label)]
    for i, category in enumerate(categories):
        x = frame.left + i * band
        base = 0.0
        for j, one in enumerate(series):
            value = float(one.values[i] or 0)
            if stacked:
                bar_x, bar_w, bottom = x + band * 0.2, band * 0.6, base
                base += value
            else:
                bar_w = band * 0.8 / len(series)
                bar_x, bottom = x + band * 0.1 + j * bar_w, 0.0
            y_top, y_bottom = frame.y(bottom + value, top), frame.y(bottom, top)
            parts.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}">'
                    "<title>{}, {}: {}</title></rect>",
                    _n(bar_x),
                    _n(y_top),
                    _n(max(bar_w - 1, 1)),
                    _n(y_bottom - y_top),
                    one.colour,
                    one.name,
                    category,
                    fmt(value),
                )
            )
    centres = [frame.left + (i + 0.5) * band for i in range(len(categories))]
    parts.append(_x_labels(frame, categories, centres))
    parts.append(_x_title(frame, x_label))
    parts.append(legend)
    return _svg(title, frame, parts)


def hbar_chart(
    *,
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    x_label: str = "",
    fmt: Formatter = compact,
) -> SafeString:
    """Horizontal bars, one row per category: for long names (sources, people) and funnels."""
    series = _coloured(series)
    legend, extra = _legend(series)
    label_width, bar_height = 190, 14
    row_height = bar_height * len(series) + 12
    frame = _Frame(
        height=44 + extra + len(categories) * row_height + 40,
        left=label_width,
        top=44 + extra,
        right=56,
        bottom_space=40,
    )
    top, step = _scale(max((float(v or 0) for s in series for v in s.values), default=0))
    parts = []
    ticks = round(top / step)
    for n in range(ticks + 1):
        x = frame.left + frame.plot_width * n / ticks
        parts.append(
            format_html(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}"/>'
                '<text x="{}" y="{}" text-anchor="middle" font-size="11" fill="{}">{}</text>',
                _n(x),
                _n(x),
                frame.top,
                frame.bottom,
                GRID,
                _n(x),
                frame.bottom + 14,
                FAINT,
                fmt(step * n),
            )
        )
    for i, category in enumerate(categories):
        y = frame.top + i * row_height + 6
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="end" font-size="12" fill="{}">{}<title>{}</title>'
                "</text>",
                frame.left - 8,
                _n(y + row_height / 2),
                INK,
                _shorten(category, 26),
                category,
            )
        )
        for j, one in enumerate(series):
            bar_y = y + j * bar_height
            if one.values[i] is None:
                # Nothing to measure (a win rate with no deals closed): a dash, as the table
                # shows, rather than a bar at 0 that reads as "never wins".
                parts.append(
                    format_html(
                        '<text x="{}" y="{}" font-size="11" fill="{}">—<title>{}, {}: none'
                        "</title></text>",
                        frame.left + 4,
                        _n(bar_y + bar_height - 4),
                        FAINT,
                        one.name,
                        category,
                    )
                )
                continue
            value = float(one.values[i])
            width = frame.plot_width * value / top
            parts.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}">'
                    "<title>{}, {}: {}</title></rect>"
                    '<text x="{}" y="{}" font-size="11" fill="{}">{}</text>',
                    frame.left,
                    _n(bar_y),
                    _n(max(width, 1)),
                    bar_height - 2,
                    one.colour,
                    one.name,
                    category,
                    fmt(value),
                    _n(frame.left + width + 4),
                    _n(bar_y + bar_height - 4),
                    FAINT,
                    fmt(value),
                )
            )
    parts.append(_x_title(frame, x_label))
    parts.append(legend)
    return _svg(title, frame, parts)


def line_chart(
    *,
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    x_label: str = "",
    y_label: str = "",
    fmt: Formatter = compact,
    reference: tuple[float, str] | None = None,
) -> SafeString:
    """A line per series over the categories (weeks, months); `reference` draws a dashed
    target line, e.g. (100, "Goal"). A missing value breaks the line instead of faking a 0."""
    series = _coloured(series)
    legend, extra = _legend(series)
    frame = _Frame(height=300 + extra, top=40 + extra)
    values = [float(v) for s in series for v in s.values if v is not None]
    top, step = _scale(max([*values, reference[0] if reference else 0], default=0))
    count = len(categories)
    xs = [
        frame.left + (frame.plot_width * i / (count - 1) if count > 1 else frame.plot_width / 2)
        for i in range(count)
    ]
    parts = [_y_axis(frame, top, step, fmt, y_label)]
    if reference:
        y = frame.y(reference[0], top)
        parts.append(
            format_html(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}" stroke-dasharray="6 4"/>'
                '<text x="{}" y="{}" text-anchor="end" font-size="11" fill="{}">{}</text>',
                frame.left,
                _n(frame.right_edge),
                _n(y),
                _n(y),
                INK,
                _n(frame.right_edge),
                _n(y - 4),
                INK,
                reference[1],
            )
        )
    for one in series:
        segment: list[str] = []
        segments = [segment]
        for x, value, category in zip(xs, one.values, categories, strict=True):
            if value is None:
                segment = []
                segments.append(segment)
                continue
            y = frame.y(float(value), top)
            segment.append(f"{_n(x)},{_n(y)}")
            parts.append(
                format_html(
                    '<circle cx="{}" cy="{}" r="3" fill="{}"><title>{}, {}: {}</title></circle>',
                    _n(x),
                    _n(y),
                    one.colour,
                    one.name,
                    category,
                    fmt(float(value)),
                )
            )
        parts.extend(
            format_html(
                '<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>',
                " ".join(points),
                one.colour,
            )
            for points in segments
            if len(points) > 1
        )
    parts.append(_x_labels(frame, categories, xs))
    parts.append(_x_title(frame, x_label))
    parts.append(legend)
    return _svg(title, frame, parts)


# --- Geometry and pieces -------------------------------------------------------------------


@dataclass(frozen=True)
class _Frame:
    height: int
    left: int = 64
    top: int = 40
    right: int = 20
    bottom_space: int = 56

    @property
    def plot_width(self) -> float:
        return WIDTH - self.left - self.right

    @property
    def bottom(self) -> float:
        return self.height - self.bottom_space

    @property
    def right_edge(self) -> float:
        return WIDTH - self.right

    def y(self, value: float, top: float) -> float:
        return self.bottom - (self.bottom - self.top) * value / top


def _scale(largest: float) -> tuple[float, float]:
    """A round axis maximum and a tick step of 1, 2 or 5 × 10ⁿ giving at most five ticks."""
    if largest <= 0:
        return 4.0, 1.0
    magnitude = 10 ** math.floor(math.log10(largest / 5))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude * 5 >= largest)
    return math.ceil(largest / step) * step, step


def _coloured(series: Sequence[Series]) -> list[Series]:
    """Series without a colour take the palette's next colour no other series uses."""
    free = [colour for colour in PALETTE if colour not in {one.colour for one in series}]
    free = free or list(PALETTE)
    coloured = []
    for one in series:
        colour = one.colour
        if not colour:
            colour = free.pop(0) if free else PALETTE[len(coloured) % len(PALETTE)]
        coloured.append(Series(one.name, one.values, colour))
    return coloured


def _n(value: float) -> str:
    """Coordinates to one decimal: smaller markup, no visible difference."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _join(parts: Sequence[SafeString]) -> SafeString:
    """Concatenate markup; anything not already safe would be escaped, never trusted."""
    return format_html_join("", "{}", ((part,) for part in parts))


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _y_axis(frame: _Frame, top: float, step: float, fmt: Formatter, label: str) -> SafeString:
    ticks = round(top / step)
    lines = format_html_join(
        "",
        '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}"/>'
        '<text x="{}" y="{}" text-anchor="end" font-size="11" fill="{}">{}</text>',
        (
            (
                frame.left,
                _n(frame.right_edge),
                _n(frame.y(step * n, top)),
                _n(frame.y(step * n, top)),
                GRID,
                frame.left - 6,
                _n(frame.y(step * n, top) + 4),
                FAINT,
                fmt(step * n),
            )
            for n in range(ticks + 1)
        ),
    )
    middle = (frame.top + frame.bottom) / 2
    title = format_html(
        '<text x="14" y="{}" transform="rotate(-90 14 {})" text-anchor="middle" font-size="12" '
        'fill="{}">{}</text>',
        _n(middle),
        _n(middle),
        FAINT,
        label,
    )
    return format_html("{}{}", lines, title)


def _x_labels(frame: _Frame, categories: Sequence[str], xs: Sequence[float]) -> SafeString:
    # Keep labels ~60px apart: every second or fourth one when there are many weeks.
    every = max(1, math.ceil(len(categories) * 60 / frame.plot_width))
    return format_html_join(
        "",
        '<text x="{}" y="{}" text-anchor="middle" font-size="11" fill="{}">{}<title>{}</title>'
        "</text>",
        (
            (_n(x), _n(frame.bottom + 16), FAINT, _shorten(category, 12), category)
            for i, (x, category) in enumerate(zip(xs, categories, strict=True))
            if i % every == 0
        ),
    )


def _x_title(frame: _Frame, label: str) -> SafeString:
    return format_html(
        '<text x="{}" y="{}" text-anchor="middle" font-size="12" fill="{}">{}</text>',
        _n(frame.left + frame.plot_width / 2),
        frame.height - 10,
        FAINT,
        label,
    )


def _legend(series: Sequence[Series]) -> tuple[SafeString, int]:
    """Swatches and names right-aligned above the plot, wrapping onto more rows when a team
    has many reps; returns the markup and the height the extra rows take."""
    rows: list[list[tuple[Series, float]]] = [[]]
    widths = [0.0]
    for one in series:
        width = 17 + len(one.name) * 7 + 18
        if rows[-1] and widths[-1] + width > WIDTH - 40:
            rows.append([])
            widths.append(0.0)
        rows[-1].append((one, widths[-1]))
        widths[-1] += width
    items = [
        format_html(
            '<rect x="{}" y="{}" width="12" height="12" rx="2" fill="{}"/>'
            '<text x="{}" y="{}" font-size="12" fill="{}">{}</text>',
            _n(offset + x),
            10 + row * LEGEND_ROW,
            one.colour,
            _n(offset + x + 17),
            20 + row * LEGEND_ROW,
            INK,
            one.name,
        )
        for row, (entries, width) in enumerate(zip(rows, widths, strict=True))
        for offset in [max(WIDTH - 20 - width, 0)]
        for one, x in entries
    ]
    return _join(items), (len(rows) - 1) * LEGEND_ROW


def _svg(title: str, frame: _Frame, parts: Sequence[SafeString]) -> SafeString:
    return format_html(
        '<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" role="img" '
        'aria-label="{}" font-family="system-ui, sans-serif"><title>{}</title>'
        "<desc>The table below holds the same numbers.</desc>{}"
        '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}"/></svg>',
        WIDTH,
        frame.height,
        title,
        title,
        _join(parts),
        frame.left,
        _n(frame.right_edge),
        _n(frame.bottom),
        _n(frame.bottom),
        FAINT,
    )
