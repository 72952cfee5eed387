from __future__ import annotations

from pathlib import Path

import pytest

from imports import engine
from imports.parsing import read_file

FILES = Path(__file__).parent / "files"
MAX_BYTES = 20 * 1024 * 1024


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    """Uploaded files go to a folder of the test's own."""
    settings.DATA_DIR = tmp_path
    return tmp_path


def fixture_bytes(name: str) -> bytes:
    return (FILES / name).read_bytes()


def import_data(
    owner, data: bytes | str, *, format: str = "auto", batch_rows: int | None = None, **options
) -> engine.ImportResult:
    """Import bytes (or UTF-8 text) for an owner straight through the engine."""
    if isinstance(data, str):
        data = data.encode()
    parsed = read_file(data, max_bytes=MAX_BYTES, format=format)
    return engine.import_file(
        parsed, owner=owner, options=engine.ImportOptions(**options), batch_rows=batch_rows
    )


def csv_text(*lines: str) -> str:
    return "\r\n".join(lines) + "\r\n"
