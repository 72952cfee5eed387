from __future__ import annotations

from django import template
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeString

from reports.registry import Column, Table, display

register = template.Library()


@register.filter
def cell(row: object, column: Column) -> str:
    """`{{ row|cell:column }}`: one table cell, formatted by the column's kind."""
    return display(getattr(row, column.attr), column.kind)


@register.simple_tag
def report_rows(table: Table, limit: int) -> SafeString:
    """The first `limit` rows of `table` as `<tr>`s: the first cell the row's heading, each
    other cell labelled for the phone layout's cards (`data-label`, and `data-group` on the
    first cell of each group of columns), every value formatted by `cell` and escaped.

    Python rather than a loop over the columns in the template: the referrals leaderboard
    draws 200 rows of 7 cells, which took a third of the page's time (issue 20). Each cell's
    opening tag is the same on every row, so it is written once per table.
    """
    first, *others = table.columns
    openings = []
    last_group: str | None = None
    for column in others:
        attributes = ' class="num"' if column.numeric else ""
        attributes += f' data-label="{escape(column.short_label)}"'
        # The first cell of a group carries its name: the card's sub-heading on a phone.
        if column.group != last_group and column.group:
            attributes += f' data-group="{escape(column.group)}"'
        last_group = column.group
        openings.append((f"<td{attributes}>", column.attr, column.kind))
    rows = []
    for row in table.rows[:limit]:
        cells = [
            f'<tr><th scope="row">'
            f"{conditional_escape(display(getattr(row, first.attr), first.kind))}</th>"
        ]
        for opening, attr, kind in openings:
            cells.append(f"{opening}{conditional_escape(display(getattr(row, attr), kind))}</td>")
        cells.append("</tr>")
        rows.append("".join(cells))
    return SafeString("\n          ".join(rows))
