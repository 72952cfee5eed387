"""The five reports: for each, what it reads and how its rows become charts, tables and CSV.

A table's columns are declared once and drive both the HTML table and the CSV, so the download
always matches the page. Charts are drawn from the same rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.utils.dateformat import format as format_date
from django.utils.safestring import SafeString

from accounts.models import User
from forecast.selectors import PipelineForecast, pipeline_forecast
from leads.models import HAND_RAISE_KINDS, TOUCH_KINDS, ActivityKind
from reports import charts, selectors
from reports.charts import Series
from reports.selectors import Period

NUMERIC_KINDS = {"int", "money", "percent", "days", "minutes"}


@dataclass(frozen=True)
class Column:
    header: str  # the CSV's, complete on its own
    attr: str
    kind: str = "text"  # text | int | money | percent | days | minutes | month | date
    label: str = ""  # the page's, under its group's heading; the header when blank
    group: str = ""

    @property
    def numeric(self) -> bool:
        return self.kind in NUMERIC_KINDS

    @property
    def short_label(self) -> str:
        return self.label or self.header


@dataclass(frozen=True)
class Table:
    name: str  # the CSV's ?table=
    title: str
    columns: tuple[Column, ...]
    rows: Sequence[Any]
    total: Any = None  # a row summed over the period, shown last

    @property
    def header_groups(self) -> list[tuple[str, int]]:
        """(group, columns it spans) for a second heading row; empty when nothing is grouped."""
        if not any(column.group for column in self.columns):
            return []
        groups: list[tuple[str, int]] = []
        for column in self.columns:
            if groups and column.group and groups[-1][0] == column.group:
                groups[-1] = (column.group, groups[-1][1] + 1)
            else:
                groups.append((column.group, 1))
        return groups

    def csv_rows(self) -> Iterator[list[object]]:
        for row in self.rows:
            yield [export(getattr(row, column.attr), column.kind) for column in self.columns]
        if self.total is not None:
            cells = [export(getattr(self.total, c.attr), c.kind) for c in self.columns[1:]]
            yield ["Total", *cells]


@dataclass(frozen=True)
class Figure:
    """A headline number above the chart."""

    label: str
    value: str


@dataclass(frozen=True)
class Report:
    slug: str
    title: str
    description: str
    read: Callable[[User, Period, User | None], Any]
    tables: Callable[[Any], list[Table]]
    charts: Callable[[Any], list[SafeString]]
    figures: Callable[[Any], list[Figure]]
    is_empty: Callable[[Any], bool]
    empty_text: str
    help_text: tuple[str, ...] = ()  # how the numbers are counted, under the page's title
    # False for a report of what is open today (the forecast): the page hides the period.
    uses_period: bool = True


def display(value: object, kind: str) -> str:
    """A cell as the page shows it; a missing rate or median is a dash, not a zero."""
    if value is None:
        return "—"
    if kind == "int":
        return f"{value:,}"
    if kind == "money":
        return f"{Decimal(value):,.0f}"
    if kind == "percent":
        return f"{value:.1f}%"
    if kind == "days":
        return f"{value:.1f}"
    if kind == "minutes":
        return duration(value)
    if kind == "month":
        return format_date(value, "M Y")
    if kind == "date":
        return format_date(value, "j M Y")
    return str(value)


def export(value: object, kind: str) -> object:
    """A cell as the CSV holds it: plain numbers and ISO dates a spreadsheet can sort."""
    if value is None:
        return ""
    if kind == "money":
        return Decimal(value).quantize(Decimal("0.01"))
    if kind == "minutes":
        return round(value, 1)
    if kind == "month" and isinstance(value, date):
        return value.strftime("%Y-%m")
    if kind == "date" and isinstance(value, date):
        return value.isoformat()
    return value


def duration(minutes: float) -> str:
    """A wait as a sales manager reads it: "40 s", "12 min", "3 h 5 min", "2.5 days"."""
    if round(minutes * 60) < 60:
        return f"{round(minutes * 60)} s"
    whole = round(minutes)
    if whole < 60:
        return f"{whole} min"
    if whole < 24 * 60:
        hours, rest = divmod(whole, 60)
        return f"{hours} h {rest} min" if rest else f"{hours} h"
    return f"{minutes / (24 * 60):.1f} days"


def _month_label(month: date) -> str:
    return format_date(month, "M Y")


def _share(value: float | None) -> str:
    return display(value, "percent")


def _money(value: float) -> str:
    return charts.compact(value)


# --- 1. Own your leads ---------------------------------------------------------------------


def _self_against_marketing(group: str, prefix: str, kind: str) -> tuple[Column, ...]:
    return (
        Column(f"{group}, self-sourced", f"{prefix}_self", kind, "Self-sourced", group),
        Column(f"{group}, marketing", f"{prefix}_marketing", kind, "Marketing", group),
        Column(f"{group}, self-sourced share", f"{prefix}_share", "percent", "Share", group),
    )


SOURCING_COLUMNS = (
    Column("Month", "month", "month"),
    *_self_against_marketing("New leads", "leads", "int"),
    *_self_against_marketing("Pipeline value", "pipeline", "money"),
    *_self_against_marketing("Wins", "wins", "int"),
    *_self_against_marketing("Won value", "won_value", "money"),
)


def _sourcing_tables(months: list[selectors.SourcingMonth]) -> list[Table]:
    total = selectors.own_your_leads_total(months)
    return [Table("months", "By month", SOURCING_COLUMNS, months, total=total)]


def _sourcing_charts(months: list[selectors.SourcingMonth]) -> list[SafeString]:
    labels = [_month_label(row.month) for row in months]
    return [
        charts.bar_chart(
            title="New leads by month, self-sourced and from marketing",
            categories=labels,
            series=[
                Series("Self-sourced", [row.leads_self for row in months]),
                Series("Marketing", [row.leads_marketing for row in months], "#7b8595"),
            ],
            stacked=True,
            x_label="Month created",
            y_label="New leads",
        ),
        charts.bar_chart(
            title="Won value by month, self-sourced and from marketing",
            categories=labels,
            series=[
                Series("Self-sourced", [row.won_value_self for row in months]),
                Series("Marketing", [row.won_value_marketing for row in months], "#7b8595"),
            ],
            stacked=True,
            x_label="Month won",
            y_label="Won value",
            fmt=_money,
        ),
    ]


def _sourcing_figures(months: list[selectors.SourcingMonth]) -> list[Figure]:
    total = selectors.own_your_leads_total(months)
    return [
        Figure("Self-sourced share of new leads", _share(total.leads_share)),
        Figure("of pipeline value", _share(total.pipeline_share)),
        Figure("of wins", _share(total.wins_share)),
        Figure("of won value", _share(total.won_value_share)),
    ]


def _sourcing_is_empty(months: list[selectors.SourcingMonth]) -> bool:
    total = selectors.own_your_leads_total(months)
    return not (total.leads or total.wins_self or total.wins_marketing)


# --- 2. Sources ----------------------------------------------------------------------------

SOURCE_COLUMNS = (
    Column("Source", "label"),
    Column("Leads created", "created", "int"),
    Column("Won", "won", "int"),
    Column("Lost", "lost", "int"),
    Column("Win rate", "win_rate", "percent"),
    Column("Average won deal", "average_won_value", "money"),
    Column("Median days to win", "median_cycle_days", "days"),
)


def _source_charts(rows: list[selectors.SourceResult]) -> list[SafeString]:
    labels = [row.label for row in rows]
    return [
        charts.bar_chart(
            title="Leads created, won and lost by source",
            categories=labels,
            series=[
                Series("Created", [row.created for row in rows], "#3a7bd5"),
                Series("Won", [row.won for row in rows], "#1f6f5c"),
                Series("Lost", [row.lost for row in rows], "#b42318"),
            ],
            x_label="Source",
            y_label="Leads",
        ),
        charts.hbar_chart(
            title="Win rate by source (won of won and lost)",
            categories=labels,
            series=[Series("Win rate", [row.win_rate for row in rows])],
            x_label="Win rate",
            fmt=charts.percent,
        ),
    ]


def _source_figures(rows: list[selectors.SourceResult]) -> list[Figure]:
    def win_rate(self_sourced: bool) -> str:
        won = sum(row.won for row in rows if row.is_self_sourced == self_sourced)
        lost = sum(row.lost for row in rows if row.is_self_sourced == self_sourced)
        return _share(round(won * 100 / (won + lost), 1) if won + lost else None)

    return [
        Figure("Win rate, self-sourced", win_rate(True)),
        Figure("Win rate, marketing", win_rate(False)),
    ]


# --- 3. Funnel -----------------------------------------------------------------------------

FUNNEL_COLUMNS = (
    Column("Stage", "label"),
    Column("Leads that got here", "reached", "int"),
    Column("Step", "conversion_label"),
    Column("Conversion", "conversion", "percent"),
    Column("Median days in stage", "median_days_in_stage", "days"),
)


def _funnel_charts(steps: list[selectors.FunnelStep]) -> list[SafeString]:
    return [
        charts.hbar_chart(
            title="Leads created in the period, by the furthest stage they reached",
            categories=[step.label for step in steps],
            series=[Series("Leads", [step.reached for step in steps])],
            x_label="Leads",
        )
    ]


def _funnel_figures(steps: list[selectors.FunnelStep]) -> list[Figure]:
    new, won = steps[0].reached, steps[-1].reached
    return [
        Figure("Leads created", display(new, "int")),
        Figure("New → Won", _share(round(won * 100 / new, 1) if new else None)),
    ]


# --- 4. Activity ---------------------------------------------------------------------------

REP_COLUMNS = (
    Column("Rep", "rep"),
    Column("Touches", "touches", "int"),
    Column("Goal", "goal", "int"),
    Column("Of goal", "percent_of_goal", "percent"),
)
WEEK_COLUMNS = (
    Column("Week of", "week", "date"),
    Column("ISO week", "iso_week"),
    Column("Rep", "rep"),
    Column("Touches", "touches", "int"),
    Column("Goal", "goal", "int"),
    Column("Of goal", "percent_of_goal", "percent"),
)


def _activity_tables(weeks: list[selectors.WeekTouches]) -> list[Table]:
    return [
        Table("reps", "Per rep over the period", REP_COLUMNS, selectors.activity_per_rep(weeks)),
        Table("weeks", "Per week", WEEK_COLUMNS, weeks),
    ]


def _activity_charts(weeks: list[selectors.WeekTouches]) -> list[SafeString]:
    mondays = sorted({row.week for row in weeks})
    by_rep: dict[str, dict[date, float | None]] = {}
    for row in weeks:
        by_rep.setdefault(row.rep, {})[row.week] = row.percent_of_goal
    return [
        charts.line_chart(
            title="Touches per week as a share of the goal",
            categories=[format_date(monday, "j M") for monday in mondays],
            series=[
                Series(rep, [percents.get(monday) for monday in mondays])
                for rep, percents in by_rep.items()
            ],
            x_label="Week starting",
            y_label="% of goal",
            fmt=charts.percent,
            reference=(100, "Goal"),
        )
    ]


def _activity_figures(weeks: list[selectors.WeekTouches]) -> list[Figure]:
    touches, goal = sum(row.touches for row in weeks), sum(row.goal for row in weeks)
    return [
        Figure("Touches", display(touches, "int")),
        Figure("Of goal", _share(round(touches * 100 / goal, 1) if goal else None)),
    ]


# --- 5. Referrals --------------------------------------------------------------------------

REFERRER_COLUMNS = (
    Column("Referral source", "name"),
    Column("Kind", "kind"),
    Column("Owner", "owner"),
    Column("Referred in period", "referred_in_period", "int"),
    Column("Referrals given (all time)", "referrals_given", "int"),
    Column("Won value of their tree (all time)", "won_value_of_tree", "money"),
)
REFERRAL_MONTH_COLUMNS = (
    Column("Month", "month", "month"),
    Column("Asks made", "asks", "int"),
    Column("Referred leads received", "referred_leads", "int"),
)
LEADERBOARD_CHART_SIZE = 10


def _referral_tables(report: selectors.ReferralsReport) -> list[Table]:
    total = selectors.referral_months_total(report.months)
    return [
        Table("leaderboard", "Leaderboard", REFERRER_COLUMNS, report.leaderboard),
        Table("months", "By month", REFERRAL_MONTH_COLUMNS, report.months, total=total),
    ]


def _referral_charts(report: selectors.ReferralsReport) -> list[SafeString]:
    drawn = [
        charts.bar_chart(
            title="Referral asks made and referred leads received, by month",
            categories=[_month_label(row.month) for row in report.months],
            series=[
                Series("Asks made", [row.asks for row in report.months], "#3a7bd5"),
                Series("Referred leads", [row.referred_leads for row in report.months]),
            ],
            x_label="Month",
            y_label="Count",
        )
    ]
    top = sorted(report.leaderboard, key=lambda row: (-row.won_value_of_tree, row.name))
    top = [row for row in top if row.won_value_of_tree][:LEADERBOARD_CHART_SIZE]
    if top:
        drawn.append(
            charts.hbar_chart(
                title="Top referral sources by the won value of their tree",
                categories=[row.name for row in top],
                series=[Series("Won value of tree", [row.won_value_of_tree for row in top])],
                x_label="Won value (all time)",
                fmt=_money,
            )
        )
    return drawn


def _referral_figures(report: selectors.ReferralsReport) -> list[Figure]:
    total = selectors.referral_months_total(report.months)
    return [
        Figure("Referral asks made", display(total.asks, "int")),
        Figure("Referred leads received", display(total.referred_leads, "int")),
    ]


def _referrals_is_empty(report: selectors.ReferralsReport) -> bool:
    total = selectors.referral_months_total(report.months)
    return not (report.leaderboard or total.asks or total.referred_leads)


# --- 6. Speed to lead ----------------------------------------------------------------------


def _speed_columns(first: tuple[Column, ...]) -> tuple[Column, ...]:
    answered = "Answered within"
    return (
        *first,
        Column("Hand-raises", "hand_raises", "int"),
        Column(
            "Median time to first touch (minutes)",
            "median_minutes",
            "minutes",
            "Median to first touch",
        ),
        Column("Answered within 5 minutes", "within_5_minutes", "int", "5 min", answered),
        Column("Answered within 1 hour", "within_1_hour", "int", "1 hour", answered),
        Column("Answered within 1 day", "within_1_day", "int", "1 day", answered),
        Column("Answered later", "answered_later", "int", "Later"),
        Column("Still waiting", "waiting", "int"),
    )


SPEED_REP_COLUMNS = _speed_columns((Column("Salesperson", "rep"),))
SPEED_MONTH_COLUMNS = _speed_columns(
    (Column("Month", "month", "month"), Column("Salesperson", "rep"))
)


def _speed_tables(report: selectors.SpeedToLeadReport) -> list[Table]:
    # A team's year is reps x 12 rows, mostly empty: the month table lists the months with
    # hand-raises (the chart shows every month).
    months = [row for row in report.months if row.hand_raises]
    total = report.total if len(report.reps) > 1 else None
    return [
        Table("salespeople", "Per salesperson", SPEED_REP_COLUMNS, report.reps, total),
        Table("months", "By month, months with hand-raises", SPEED_MONTH_COLUMNS, months),
    ]


def _speed_charts(report: selectors.SpeedToLeadReport) -> list[SafeString]:
    months = sorted({row.month for row in report.months})
    by_month: dict[date, list[selectors.SpeedToLead]] = {month: [] for month in months}
    for row in report.months:
        by_month[row.month].append(row)

    def summed(name: str) -> list[int]:
        return [sum(getattr(row, name) for row in by_month[month]) for month in months]

    fast, hour, day = summed("within_5_minutes"), summed("within_1_hour"), summed("within_1_day")
    return [
        charts.bar_chart(
            title="Hand-raises by month, by how soon the first touch came",
            categories=[_month_label(month) for month in months],
            series=[
                Series("Within 5 minutes", fast, "#1f6f5c"),
                Series(
                    "5 minutes to 1 hour",
                    [b - a for a, b in zip(fast, hour, strict=True)],
                    "#3a7bd5",
                ),
                Series(
                    "1 hour to 1 day", [b - a for a, b in zip(hour, day, strict=True)], "#e0a526"
                ),
                Series("Later than a day", summed("answered_later"), "#7b8595"),
                Series("Still waiting", summed("waiting"), "#b42318"),
            ],
            stacked=True,
            x_label="Month of the hand-raise",
            y_label="Hand-raises",
        )
    ]


def _speed_figures(report: selectors.SpeedToLeadReport) -> list[Figure]:
    total = report.total

    def within(count: int) -> str:
        share = _share(round(count * 100 / total.hand_raises, 1) if total.hand_raises else None)
        return f"{display(count, 'int')} ({share})"

    return [
        Figure("Hand-raises", display(total.hand_raises, "int")),
        Figure("Median time to first touch", display(total.median_minutes, "minutes")),
        Figure("Answered within 5 minutes", within(total.within_5_minutes)),
        Figure("within 1 hour", within(total.within_1_hour)),
        Figure("within 1 day", within(total.within_1_day)),
        Figure("Still waiting", display(total.waiting, "int")),
    ]


# --- 7. Forecast ---------------------------------------------------------------------------

FORECAST_COLUMNS = (
    Column("Month of expected close", "month", "month", "Month"),
    Column("Open deals", "leads", "int"),
    Column("Pipeline value", "pipeline_value", "money"),
    Column("Weighted value", "weighted_value", "money"),
    Column("Weighted value, low end of the 80% range", "low", "money", "Low", "80% range"),
    Column("Weighted value, high end of the 80% range", "high", "money", "High", "80% range"),
    Column("Close dates estimated from the stage", "estimated", "int", "Dates estimated"),
)


def _forecast_read(user: User, period: Period, rep: User | None) -> PipelineForecast:
    # The forecast is of the deals open today: the period does not narrow it.
    return pipeline_forecast(user, owner_id=rep.pk if rep else None)


def _forecast_charts(forecast: PipelineForecast) -> list[SafeString]:
    months = forecast.months
    return [
        charts.bar_chart(
            title="Weighted pipeline by month of expected close, with its 80% range",
            categories=[_month_label(row.month) for row in months],
            series=[
                Series("Low end", [float(row.low) for row in months], "#1f6f5c"),
                Series(
                    "Up to the expected value",
                    [float(row.weighted_value - row.low) for row in months],
                    "#3a7bd5",
                ),
                Series(
                    "Up to the high end",
                    [float(row.high - row.weighted_value) for row in months],
                    "#b9cbe8",
                ),
            ],
            stacked=True,
            x_label="Month of expected close",
            y_label="Won value",
            fmt=_money,
        )
    ]


def _forecast_figures(forecast: PipelineForecast) -> list[Figure]:
    return [
        Figure("Weighted pipeline", display(forecast.weighted_value, "money")),
        Figure("Open deals", display(forecast.open_leads, "int")),
        Figure("Closed deals it rests on", display(forecast.closed_deals, "int")),
        Figure("Close dates estimated", display(forecast.estimated, "int")),
    ]


FORECAST_HELP = (
    "Each open deal counts for its value times its win probability: a Beta-Binomial estimate "
    "per stage and source from its owner's own won and lost deals, starting from usual rates "
    "per stage.",
    "The range holds the month's won value with 80% probability: it allows for the win rates "
    "being higher or lower than estimated and for each deal's luck.",
    "A deal without an expected close date is expected to close a set number of days after it "
    "entered its stage (21 in Proposal to 90 in New); deals past their date count this month.",
    "The forecast is of the deals open today: the period does not change it.",
)


def _quoted(labels: Sequence[str]) -> str:
    quoted = [f"“{label}”" for label in labels]
    return f"{', '.join(quoted[:-1])} or {quoted[-1]}"


# From the kinds themselves, so a new hand-raise kind is described as soon as it counts.
HAND_RAISE_LABELS = _quoted([ActivityKind(kind).label for kind in HAND_RAISE_KINDS])
TOUCH_LABELS = _quoted([ActivityKind(kind).label for kind in TOUCH_KINDS])
SPEED_TO_LEAD_HELP = (
    f"A hand-raise is an activity logged as {HAND_RAISE_LABELS}.",
    f"The time to first touch runs from it to the first outbound {TOUCH_LABELS} logged to "
    "the lead at or after it, by anyone.",
    "A lead that raises a hand again before anyone answered is still the same wait: the clock "
    "runs from its first unanswered hand-raise.",
    "Each hand-raise counts for the lead's owner, in the month it happened in your time zone.",
    "“Within 1 hour” includes those within 5 minutes, and “within 1 day” both. The median is "
    "over the answered hand-raises; the others are still waiting.",
)


REPORTS: dict[str, Report] = {
    report.slug: report
    for report in (
        Report(
            slug="own-your-leads",
            title="Own your leads",
            description="How much of your pipeline, wins and won value you sourced yourself, "
            "month by month.",
            read=selectors.own_your_leads,
            tables=_sourcing_tables,
            charts=_sourcing_charts,
            figures=_sourcing_figures,
            is_empty=_sourcing_is_empty,
            empty_text="No leads were created or won in this period.",
        ),
        Report(
            slug="sources",
            title="Sources",
            description="Which lead sources close: win rate (won of the deals closed, won or "
            "lost; open deals do not count), deal size and days to win per source.",
            read=selectors.by_source,
            tables=lambda rows: [Table("sources", "By source", SOURCE_COLUMNS, rows)],
            charts=_source_charts,
            figures=_source_figures,
            is_empty=lambda rows: not any(row.created or row.won or row.lost for row in rows),
            empty_text="No leads were created, won or lost in this period.",
        ),
        Report(
            slug="funnel",
            title="Funnel",
            description="How far the period's new leads got, the conversion from stage to "
            "stage, and the days they spend in each.",
            read=selectors.funnel,
            tables=lambda steps: [Table("stages", "By stage", FUNNEL_COLUMNS, steps)],
            charts=_funnel_charts,
            figures=_funnel_figures,
            is_empty=lambda steps: not steps[0].reached,
            empty_text="No leads were created in this period.",
        ),
        Report(
            slug="activity",
            title="Activity",
            description="Calls, emails, meetings and messages per week against the daily "
            "touch goal.",
            read=selectors.activity,
            tables=_activity_tables,
            charts=_activity_charts,
            figures=_activity_figures,
            is_empty=lambda weeks: not any(row.touches for row in weeks),
            empty_text="No calls, emails, meetings or messages were logged in this period.",
        ),
        Report(
            slug="referrals",
            title="Referrals",
            description="Who refers the most and what their referrals became; asks made "
            "against referrals received.",
            read=selectors.referrals,
            tables=_referral_tables,
            charts=_referral_charts,
            figures=_referral_figures,
            is_empty=_referrals_is_empty,
            empty_text="No referral asks, referred leads or referring sources in this period.",
        ),
        Report(
            slug="speed-to-lead",
            title="Speed to lead",
            description="How soon a lead who raised a hand heard back: the median time to the "
            "first touch, and how many were answered within 5 minutes, an hour and a day.",
            read=selectors.speed_to_lead,
            tables=_speed_tables,
            charts=_speed_charts,
            figures=_speed_figures,
            is_empty=lambda report: not report.total.hand_raises,
            empty_text=f"No lead raised a hand ({HAND_RAISE_LABELS}) in this period.",
            help_text=SPEED_TO_LEAD_HELP,
        ),
        Report(
            slug="forecast",
            title="Forecast",
            description="The open pipeline weighted by win probability, by month of expected "
            "close, with a low and high end.",
            read=_forecast_read,
            tables=lambda forecast: [
                Table("months", "By month of expected close", FORECAST_COLUMNS, forecast.months)
            ],
            charts=_forecast_charts,
            figures=_forecast_figures,
            is_empty=lambda forecast: forecast.is_empty,
            empty_text="No open deals to forecast.",
            help_text=FORECAST_HELP,
            uses_period=False,
        ),
    )
}
