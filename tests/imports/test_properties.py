"""Random files through the parser and the whole import: never an unhandled exception, and
the counts always add up to the file's data rows."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imports import engine
from imports.decoding import ImportFileError
from imports.parsing import read_file
from tests.imports.conftest import MAX_BYTES

pytestmark = pytest.mark.django_db

HEADERS = [
    "First Name",
    "Last Name",
    "Email",
    "Company",
    "Phone",
    "LinkedIn",
    "Created",
    "Notes",
    "?",
]
cell = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            "ada@example.com",
            "ADA@example.com",
            "not@",
            "2021-01-01",
            "soon",
            "linkedin.com/in/ada",
            "=HYPERLINK(1)",
            "Acme",
            "+44 20 7946 0958",
        ]
    ),
)
rows = st.lists(st.lists(cell, min_size=0, max_size=len(HEADERS) + 2), max_size=25)
DELIMITERS = st.sampled_from([",", ";", "\t"])
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "utf-16"])


def as_file(data_rows: list[list[str]], delimiter: str, encoding: str) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(HEADERS)
    writer.writerows(data_rows)
    return buffer.getvalue().encode(encoding, "surrogatepass")


def import_or_refuse(owner, data: bytes) -> tuple[engine.ImportResult | None, int]:
    try:
        parsed = read_file(data, max_bytes=MAX_BYTES)
    except ImportFileError:
        return None, 0
    result = engine.import_file(parsed, owner=owner, options=engine.ImportOptions())
    return result, parsed.data_rows


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data_rows=rows, delimiter=DELIMITERS, encoding=ENCODINGS)
def test_random_rows_always_add_up(salesperson, data_rows, delimiter, encoding):
    try:
        data = as_file(data_rows, delimiter, encoding)
    except UnicodeEncodeError:
        return  # lone surrogates can't be written to a file at all
    result, data_row_count = import_or_refuse(salesperson, data)

    if result is not None:
        assert result.processed == data_row_count
        assert result.errors <= len(result.error_rows)
        assert all(
            isinstance(error["row"], int) and error["row"] > 1 for error in result.error_rows
        )


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(max_size=400), encoding=ENCODINGS)
def test_random_text_never_raises_anything_but_a_clear_refusal(salesperson, text, encoding):
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        return
    result, data_row_count = import_or_refuse(salesperson, data)

    if result is not None:
        assert result.processed == data_row_count


@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=300))
def test_random_bytes_are_read_or_refused_with_a_message(data):
    try:
        parsed = read_file(data, max_bytes=MAX_BYTES)
    except ImportFileError as error:
        message, parsed = str(error), None
    if parsed is None:
        assert message.endswith(".")
    else:
        assert sum(1 for _ in parsed.records()) == parsed.data_rows
