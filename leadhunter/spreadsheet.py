"""Cells that are safe to open in a spreadsheet.

Excel, LibreOffice and Google Sheets run a cell starting with = + - @ (or a tab or carriage
return before one) as a formula, so a lead named "=HYPERLINK(…)" could run code or leak data
on the machine of whoever opens the export (OWASP: CSV injection). Such a cell gets a leading
single quote, which spreadsheets show as text. The importer removes that quote again, so an
export imports back unchanged.

`csv_lines` (and `records_csv_lines` on top of it) is the one CSV writer for streamed
downloads (the lead export, the admin's "Export selected leads to CSV" and the account
export): every cell passes through `neutralise`.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TypeVar

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """A text cell that a spreadsheet would run, prefixed with a quote; anything else as is.

    Numbers are left alone: they come from our own fields, and a quoted number would no longer
    add up in the spreadsheet.
    """
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return f"'{value}"
    return value


def undo_neutralise(cell: str) -> str:
    """The cell as it was before `neutralise` (or another tool's identical protection)."""
    if len(cell) > 1 and cell[0] == "'" and cell[1] in FORMULA_TRIGGERS:
        return cell[1:]
    return cell


Record = TypeVar("Record")

# Excel takes a UTF-8 file for Windows-1252 unless it starts with a byte-order mark.
UTF8_BOM = "\ufeff"


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """A CSV file as text, a row at a time (for a StreamingHttpResponse or a zip member): the
    byte-order mark and the header first, then each row with every cell neutralised."""
    writer = csv.writer(_Echo())
    yield UTF8_BOM + writer.writerow(header)
    for row in rows:
        yield writer.writerow([neutralise(cell) for cell in row])


def records_csv_lines(
    records: Iterable[Record], columns: Sequence[tuple[str, Callable[[Record], object]]]
) -> Iterator[str]:
    """`csv_lines` of records (leads, say) by (header, value of a record) columns."""
    return csv_lines(
        [header for header, _ in columns],
        ([value(record) for _, value in columns] for record in records),
    )


class _Echo:
    """A file-like object whose write returns what was written: csv.writer then hands back
    each row as text, for streaming (the Django docs' "Echo" pattern)."""

    def write(self, value: str) -> str:
        return value
