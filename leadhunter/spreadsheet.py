"""Cells that are safe to open in a spreadsheet.

Excel, LibreOffice and Google Sheets run a cell starting with = + - @ (or a tab or carriage
return before one) as a formula, so a lead named "=HYPERLINK(…)" could run code or leak data
on the machine of whoever opens the export (OWASP: CSV injection). Such a cell gets a leading
single quote, which spreadsheets show as text. The importer removes that quote again, so an
export imports back unchanged.
"""

from __future__ import annotations

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
