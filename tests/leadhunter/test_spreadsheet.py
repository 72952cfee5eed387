"""leadhunter.spreadsheet.csv_lines: the one streamed CSV writer (lead export, admin action,
account export)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from leadhunter.spreadsheet import csv_lines, records_csv_lines


def test_the_file_starts_with_a_byte_order_mark_and_neutralises_every_text_cell():
    text = "".join(csv_lines(["Name", "Value"], [["=SUM(A1)", Decimal("-5.00")], [None, 3]]))

    assert text.startswith("\ufeffName,Value\r\n")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    # Numbers stay numbers (they come from our own fields); None is an empty cell.
    assert rows == [["Name", "Value"], ["'=SUM(A1)", "-5.00"], ["", "3"]]


def test_records_are_written_by_their_columns_one_line_at_a_time():
    columns = [("Upper", str.upper), ("Length", len)]

    lines = list(records_csv_lines(["ada", "+alan"], columns))

    assert lines == ["\ufeffUpper,Length\r\n", "ADA,3\r\n", "'+ALAN,5\r\n"]
