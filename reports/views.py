"""The reports pages: an index, one page per report (chart and table), and its CSV.

A report page's filters are a GET form; htmx swaps only the `report-body` region when a filter
changes and pushes the URL, so the back button and a shared link show the same report. Without
JavaScript the form submits and the whole page comes back.
"""

from __future__ import annotations

from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.http import AuthenticatedHttpRequest
from leadhunter.forms import form_error_messages
from leadhunter.htmx import render_region, wants_partial
from reports.csv import csv_response
from reports.forms import ReportFilterForm
from reports.registry import REPORTS, Report

DETAIL_TEMPLATE = "reports/report_detail.html"
# Longer tables (a team's weeks) start folded so the page stays scannable.
LONG_TABLE_ROWS = 30
# A page shows at most this many rows of a table; the CSV always has them all. A team's year
# of weeks (18 reps x 52 weeks) or thousands of referrers took seconds to render (see
# docs/performance.md) and nobody reads them in a browser.
MAX_TABLE_ROWS = 200


@require_GET
def report_index(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(
        request, "reports/report_index.html", {"title": "Reports", "reports": REPORTS.values()}
    )


@require_GET
def report_detail(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    report = _report(slug)
    form = ReportFilterForm(request.GET, user=request.user)
    context: dict[str, object] = {
        "title": report.title,
        "report": report,
        "form": form,
        # The form stays outside the swapped region (no lost focus mid-edit), so an htmx
        # response carries the fields' error messages out of band.
        "oob_errors": wants_partial(request),
        "long_table": LONG_TABLE_ROWS,
        "max_rows": MAX_TABLE_ROWS,
    }
    if form.is_valid():
        result = report.read(request.user, form.period, form.selected_rep)
        context.update(
            query=form.query_string(),
            is_empty=report.is_empty(result),
            figures=report.figures(result),
            charts=report.charts(result),
            tables=report.tables(result),
        )
    return render_region(request, DETAIL_TEMPLATE, "report-body", context)


@require_GET
def report_csv(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    """The report's table (the first one, or ?table=name) as a spreadsheet-safe CSV."""
    report = _report(slug)
    form = ReportFilterForm(request.GET, user=request.user)
    if not form.is_valid():
        return HttpResponseBadRequest(
            " ".join(form_error_messages(form)),
            content_type="text/plain; charset=utf-8",
        )
    tables = report.tables(report.read(request.user, form.period, form.selected_rep))
    wanted = request.GET.get("table") or tables[0].name
    table = next((table for table in tables if table.name == wanted), None)
    if table is None:
        raise Http404("No such table in this report.")
    period = form.period
    suffix = "" if table is tables[0] else f"-{table.name}"
    filename = f"leadhunter-{report.slug}{suffix}-{period.start}-to-{period.end}.csv"
    header = [column.header for column in table.columns]
    return csv_response(filename, header, table.csv_rows())


def _report(slug: str) -> Report:
    try:
        return REPORTS[slug]
    except KeyError:
        raise Http404("No such report.") from None
