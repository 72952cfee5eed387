from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from reports.csv import csv_response, neutralise


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ('=HYPERLINK("http://evil.example","x")', '\'=HYPERLINK("http://evil.example","x")'),
        ("+1 555", "'+1 555"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Ada Lovelace", "Ada Lovelace"),
        ("", ""),
        (-5, -5),
        (Decimal("-1.50"), Decimal("-1.50")),
        (None, None),
    ],
)
def test_neutralise_prefixes_formula_text_only(cell, expected):
    assert neutralise(cell) == expected


def test_csv_response_is_an_attachment_with_every_cell_neutralised():
    response = csv_response("report.csv", ["=Name", "Count"], [["=1+1", 3], ["Plain", None]])

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="report.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [["'=Name", "Count"], ["'=1+1", "3"], ["Plain", ""]]
