"""The report tables' rows, drawn by `report_rows`, are what the template loop printed."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from types import SimpleNamespace

from django.template import Context, Template
from hypothesis import given
from hypothesis import strategies as st

from reports.registry import Column, Table
from reports.templatetags.report_tags import report_rows

# The rows' markup as report_detail.html printed it before `report_rows` (issue 20).
TEMPLATE_ROWS = """{% load report_tags %}
{% for row in table.rows|slice:limit %}
<tr>{% for column in table.columns %}{% if forloop.first %}<th scope="row">{{ row|cell:column }}</th>{% else %}<td{% if column.numeric %} class="num"{% endif %} data-label="{{ column.short_label }}"{% ifchanged column.group %}{% if column.group %} data-group="{{ column.group }}"{% endif %}{% endifchanged %}>{{ row|cell:column }}</td>{% endif %}{% endfor %}</tr>
{% endfor %}"""  # noqa: E501

TEXTS = st.sampled_from(["", "Referral", 'Ada "<b>" & Co', "Mo’s"])
VALUES = {
    "text": TEXTS,
    "int": st.integers(min_value=0, max_value=10**7),
    "money": st.decimals(min_value=0, max_value=10**9, places=2),
    "percent": st.floats(min_value=0, max_value=100),
    "days": st.floats(min_value=0, max_value=999),
    "minutes": st.floats(min_value=0, max_value=99_999),
    "month": st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 1)),
    "date": st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
}
COLUMN = st.fixed_dictionaries(
    {
        "header": TEXTS,
        "kind": st.sampled_from(list(VALUES)),
        "label": TEXTS,
        "group": st.sampled_from(["", "Leads", "Won <€>"]),
    }
)


@st.composite
def tables(draw):
    columns = [
        Column(attr=f"field_{n}", **column)
        for n, column in enumerate(draw(st.lists(COLUMN, min_size=1, max_size=7)))
    ]
    row = st.builds(
        SimpleNamespace, **{column.attr: st.none() | VALUES[column.kind] for column in columns}
    )
    return Table("t", "T", tuple(columns), draw(st.lists(row, max_size=5)))


def _between_tags(html: str) -> str:
    return re.sub(r">\s+<", "><", html.strip())


@given(table=tables(), limit=st.integers(min_value=0, max_value=6))
def test_the_rows_are_what_the_template_loop_printed(table, limit):
    expected = Template(TEMPLATE_ROWS).render(Context({"table": table, "limit": f":{limit}"}))

    assert _between_tags(report_rows(table, limit)) == _between_tags(expected)


def test_what_a_cell_holds_is_escaped():
    columns = (Column("Name", "name"), Column("Value", "value", "money", group="<Won>"))
    table = Table("t", "T", columns, [SimpleNamespace(name="<script>", value=Decimal(5))])

    row = report_rows(table, 10)

    assert "<script>" not in row
    assert '<th scope="row">&lt;script&gt;</th>' in row
    assert 'data-group="&lt;Won&gt;"' in row
