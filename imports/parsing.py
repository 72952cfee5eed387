"""Reading an import file: decode it, tell its format, find its header row and delimiter, and
turn each data row into a record of target → text.

Rows are numbered as a spreadsheet shows them (the header and LinkedIn's note lines count, a
quoted cell with line breaks is one row); a vCard is numbered by its BEGIN:VCARD line.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from imports import columns
from imports.columns import Target
from imports.decoding import ImportFileError, decode
from imports.models import ImportFormat
from imports.spreadsheet import undo_neutralise
from imports.vcard import looks_like_vcard, read_cards

DELIMITERS = (",", ";", "\t")
# More columns than any contact export has (Google Contacts: ~90; Salesforce: ~60).
MAX_COLUMNS = 300
SNIFF_CHARS = 64_000
# LinkedIn puts a few note lines above its header; other tools start with the header.
HEADER_SEARCH_ROWS = 30
# Excel's hint line naming the delimiter ("sep=;"); Excel hides it, so it is not a row.
_EXCEL_SEP_LINE = re.compile(r"\Asep=(.)[ \t]*(\r\n|\n|\r)", re.IGNORECASE)


@dataclass(frozen=True)
class RawRecord:
    """One row (or card): the text it gives each target, and which column each came from."""

    row: int
    values: dict[str, str]
    columns: dict[str, str] = field(default_factory=dict)
    # Why the row could not be read at all (then `values` is empty), e.g. an unclosed quote.
    problem: str = ""


@dataclass
class ParsedFile:
    """A decoded file with its format and layout known; records are produced on demand."""

    format: str
    text: str
    headers: list[str] = field(default_factory=list)
    mapping: list[str] = field(default_factory=list)
    delimiter: str = ","
    header_row: int = 0
    data_rows: int = 0

    @property
    def unmapped(self) -> list[str]:
        return unmapped_columns(self.headers, self.mapping)

    @property
    def needs_mapping(self) -> bool:
        return needs_mapping(self.format, self.headers, self.mapping)

    def samples(self, rows: int = 3, width: int = 60) -> list[str]:
        """A few values of each column, shown beside its header when mapping columns."""
        found: list[list[str]] = [[] for _ in self.headers]
        seen = 0
        for row, cells in _csv_rows(self.text, self.delimiter):
            if row <= self.header_row or _is_blank(cells):
                continue
            for index, cell in enumerate(cells[: len(found)]):
                if cell.strip() and len(found[index]) < rows:
                    found[index].append(" ".join(cell.split()))
            seen += 1
            if seen >= 20:
                break
        return [" · ".join(values)[:width] for values in found]

    def records(self, mapping: list[str] | None = None) -> Iterator[RawRecord]:
        """Every data row as a record, in file order; blank rows are skipped."""
        if self.format == ImportFormat.VCARD:
            for card in read_cards(self.text):
                yield RawRecord(card.line, card.values, card.columns)
            return
        mapping = mapping or self.mapping
        notes_columns = sum(1 for target in mapping if target == Target.NOTES)
        for row, cells, problem in _read_rows(self.text, self.delimiter):
            if row <= self.header_row:
                continue
            if problem:
                yield RawRecord(row, {}, problem=problem)
            elif not _is_blank(cells):
                yield _record(row, cells, self.headers, mapping, label_notes=notes_columns > 1)


def read_file(data: bytes, *, max_bytes: int, format: str = ImportFormat.AUTO) -> ParsedFile:
    """Decode and lay out an uploaded file; ImportFileError says, in one sentence, why not."""
    text = decode(data, max_bytes=max_bytes)
    if format == ImportFormat.VCARD or (format == ImportFormat.AUTO and looks_like_vcard(text)):
        parsed = ParsedFile(format=ImportFormat.VCARD, text=text)
        parsed.data_rows = sum(1 for _ in read_cards(text))
        if not parsed.data_rows:
            raise ImportFileError("No contacts found: a vCard file has BEGIN:VCARD lines.")
        return parsed
    parsed = _layout_csv(text, format)
    parsed.data_rows = _count_data_rows(parsed)
    if not parsed.data_rows:
        raise ImportFileError("The file has a header row but no contacts under it.")
    return parsed


def unmapped_columns(headers: list[str], mapping: list[str]) -> list[str]:
    """Named columns nothing was found for."""
    return [
        header
        for header, target in zip(headers, mapping, strict=False)
        if target == Target.IGNORE and header.strip()
    ]


def needs_mapping(file_format: str, headers: list[str], mapping: list[str]) -> bool:
    """A generic CSV asks what its unrecognised columns are; known formats never ask."""
    if file_format != ImportFormat.CSV:
        return False
    return bool(unmapped_columns(headers, mapping)) or bool(mapping_problem(mapping, headers))


def mapping_problem(mapping: list[str], headers: list[str]) -> str:
    """Why a column mapping can't be imported, or ""."""
    if len(mapping) != len(headers):
        return "Choose what each column is."
    chosen = Counter(target for target in mapping if target not in columns.REPEATABLE_TARGETS)
    twice = [Target(target).label for target, count in chosen.items() if count > 1]
    if twice:
        return f"Only one column can be {', '.join(twice)}; set the others to “Ignore”."
    identifying = {Target.FIRST_NAME, Target.LAST_NAME, Target.FULL_NAME, Target.EMAIL}
    if not identifying & set(mapping):
        return "Choose which column holds the name or the email address."
    return ""


def _layout_csv(text: str, requested: str) -> ParsedFile:
    delimiter, text = _delimiter_of(text)
    header_row, headers = _find_header(text, delimiter, linkedin=requested != ImportFormat.GOOGLE)
    if len(headers) > MAX_COLUMNS:
        # The mapping page shows a row per column: 10,000 of them made a 9 MB page.
        raise ImportFileError(
            f"The file has {len(headers):,} columns; imports read up to {MAX_COLUMNS}. "
            "Keep the columns about the people (names, email, company, title…) and upload again."
        )
    is_linkedin = columns.is_linkedin_header(headers)
    if requested == ImportFormat.LINKEDIN and not is_linkedin:
        raise ImportFileError(
            "This isn't LinkedIn's Connections.csv: it has no “First Name, Last Name, URL, "
            "Email Address, Company, Position, Connected On” header row."
        )
    if is_linkedin and requested in (ImportFormat.AUTO, ImportFormat.LINKEDIN):
        file_format, mapping = ImportFormat.LINKEDIN, columns.linkedin_mapping(headers)
    elif requested == ImportFormat.GOOGLE or (
        requested == ImportFormat.AUTO and columns.is_google_header(headers)
    ):
        file_format, mapping = ImportFormat.GOOGLE, columns.auto_mapping(headers)
    else:
        file_format, mapping = ImportFormat.CSV, columns.auto_mapping(headers)
    return ParsedFile(
        format=file_format,
        text=text,
        headers=headers,
        mapping=mapping,
        delimiter=delimiter,
        header_row=header_row,
    )


def _delimiter_of(text: str) -> tuple[str, str]:
    """The delimiter (and the text without Excel's "sep=" line, if it had one)."""
    hint = _EXCEL_SEP_LINE.match(text)
    if hint:
        return hint[1], text[hint.end() :]
    return _sniff_delimiter(_sample(text)), text


def _sample(text: str) -> str:
    if len(text) <= SNIFF_CHARS:
        return text
    cut = text.rfind("\n", 0, SNIFF_CHARS)
    return text[: cut if cut > 0 else SNIFF_CHARS]


def _sniff_delimiter(sample: str) -> str:
    """The delimiter that splits the most rows into the same number (> 1) of cells.

    csv.Sniffer guesses from character frequencies and is easily fooled by commas inside
    quoted names; counting consistent row widths is sturdier. Ties go to the comma.
    """
    best, best_score = ",", 0
    for delimiter in DELIMITERS:
        widths = Counter(
            len(cells) for _, cells in _csv_rows(sample, delimiter) if not _is_blank(cells)
        )
        width, rows = widths.most_common(1)[0] if widths else (1, 0)
        score = rows if width > 1 else 0
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _find_header(text: str, delimiter: str, *, linkedin: bool) -> tuple[int, list[str]]:
    """The header row's number and cells: LinkedIn's header below its notes, else the row
    among the first few that names the most known columns, else the first non-blank row."""
    candidates: list[tuple[int, list[str]]] = []
    for row, cells in _csv_rows(text, delimiter):
        if _is_blank(cells):
            continue
        cells = [cell.strip() for cell in cells]
        if linkedin and columns.is_linkedin_header(cells):
            return row, cells
        candidates.append((row, cells))
        if len(candidates) >= HEADER_SEARCH_ROWS:
            break
    if not candidates:
        raise ImportFileError("The file is empty.")
    best_row, best_cells = candidates[0]
    best_score = columns.recognised(best_cells)
    for row, cells in candidates[1:]:
        score = columns.recognised(cells)
        if score > best_score and score >= 2:
            best_row, best_cells, best_score = row, cells, score
    return best_row, best_cells


def _count_data_rows(parsed: ParsedFile) -> int:
    return sum(
        1
        for row, cells, problem in _read_rows(parsed.text, parsed.delimiter)
        if row > parsed.header_row and (problem or not _is_blank(cells))
    )


def _csv_rows(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """Every row's cells; a row that can't be read is given as no cells (see _read_rows)."""
    for row, cells, _problem in _read_rows(text, delimiter):
        yield row, cells


def _read_rows(text: str, delimiter: str) -> Iterator[tuple[int, list[str], str]]:
    """Every row as (number, cells, problem): a row that can't be read has no cells and says
    why, and reading goes on with the next line, so one bad row never costs the others.

    The reader is strict, because a lenient one reads a quote that is never closed as the
    start of a cell that swallows every later row (a 4-contact file imported 2, with the other
    two in the first one's notes). When strict reading fails, the row's first line alone
    decides: a quote left open there is that row's error and the rows after it are read again
    from the next line; a lenient quirk a spreadsheet would accept (`"Acme" Inc`) is read as
    before; a cell over the size limit is that row's error.
    """
    row, start, lines_before = 0, 0, 0
    while True:
        reader = csv.reader(io.StringIO(text[start:], newline=""), delimiter=delimiter, strict=True)
        lines_read = 0
        try:
            for cells in reader:
                row += 1
                lines_read = reader.line_num
                yield row, cells, ""
            return
        except csv.Error:
            row += 1
            line_start = _after_lines(text, start, lines_read)
            start = _after_lines(text, line_start, 1)
            line_number = lines_before + lines_read + 1
            lines_before = line_number
            cells, problem = _read_one_line(text[line_start:start], delimiter, line_number)
            yield row, cells, problem
            if start >= len(text):
                return


def _read_one_line(line: str, delimiter: str, line_number: int) -> tuple[list[str], str]:
    line = line.rstrip("\r\n")
    try:
        return next(csv.reader([line], delimiter=delimiter, strict=True), []), ""
    except csv.Error as error:
        if "field limit" in str(error):
            return [], (
                f"Line {line_number} has a cell over {csv.field_size_limit() // 1024} KB; "
                "shorten it and import this row again."
            )
        if "expected after" in str(error):
            # A quote closed mid-cell, e.g. "Acme" Inc: read leniently, as spreadsheets do.
            return next(csv.reader([line], delimiter=delimiter), []), ""
        return [], (
            f'Line {line_number} opens a quote (") that is never closed, so the lines after '
            "it would have run into one cell; close the quote and import this row again."
        )


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _after_lines(text: str, offset: int, lines: int) -> int:
    """The offset just past `lines` line breaks from `offset` (the text's end if fewer)."""
    if lines == 0:
        return offset
    for count, match in enumerate(_LINE_BREAK.finditer(text, offset), start=1):
        if count == lines:
            return match.end()
    return len(text)


def _is_blank(cells: list[str]) -> bool:
    return not any(cell.strip() for cell in cells)


def _record(
    row: int, cells: list[str], headers: list[str], mapping: list[str], *, label_notes: bool
) -> RawRecord:
    values: dict[str, str] = {}
    sources: dict[str, str] = {}
    # Ragged rows: missing cells are empty, cells beyond the header are dropped.
    for index, target in enumerate(mapping):
        if target == Target.IGNORE or index >= len(cells):
            continue
        cell = undo_neutralise(cells[index].strip())
        if not cell:
            continue
        header = headers[index] if index < len(headers) else ""
        if target == Target.NOTES and target in values:
            values[target] += "\n" + (f"{header}: {cell}" if label_notes else cell)
        elif target == Target.NOTES and label_notes:
            values[target], sources[target] = f"{header}: {cell}", header
        elif target not in values:
            values[target], sources[target] = cell, header or f"Column {index + 1}"
    return RawRecord(row, values, sources)
