from __future__ import annotations

import codecs

import pytest

from imports.decoding import ImportFileError, decode

LIMIT = 1024 * 1024
TEXT = "First Name,Last Name,Email\nZoë,Müller,zoe@example.com\n"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(TEXT.encode("utf-8"), id="utf-8"),
        pytest.param(codecs.BOM_UTF8 + TEXT.encode("utf-8"), id="utf-8 with BOM"),
        pytest.param(codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"), id="utf-16 LE (Excel)"),
        pytest.param(codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"), id="utf-16 BE"),
        pytest.param(TEXT.encode("cp1252"), id="windows-1252"),
        pytest.param(TEXT.encode("utf-16-le"), id="utf-16 LE without a BOM"),
        pytest.param(TEXT.encode("utf-16-be"), id="utf-16 BE without a BOM"),
    ],
)
def test_every_encoding_spreadsheets_write_decodes_to_the_same_text(data):
    assert decode(data, max_bytes=LIMIT) == TEXT


def test_windows_1252_punctuation_comes_through():
    assert (
        decode("Name\n“Café” – Zoë\n".encode("cp1252"), max_bytes=LIMIT) == "Name\n“Café” – Zoë\n"
    )


def test_a_file_over_the_limit_is_refused_with_its_size():
    with pytest.raises(ImportFileError, match=r"1\.5 MB; imports take up to 1 MB"):
        decode(b"a" * (LIMIT + LIMIT // 2), max_bytes=LIMIT)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "isn't a CSV or vCard"),
        (b"PK\x03\x04\x14\x00\x06\x00", "Excel workbook"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3", "PDF"),
        (b"Name\n\x81\x8d\x8f\x90\x9d\n", "isn't a CSV or vCard"),  # undefined in cp1252
        (bytes(range(1, 32)) * 20, "isn't a CSV or vCard"),  # control characters
        (codecs.BOM_UTF16_LE + b"\x00\xd8", "isn't a CSV or vCard"),  # broken UTF-16
        (b"   \n\n", "empty"),
    ],
)
def test_a_file_that_is_not_text_is_refused_with_one_clear_message(data, message):
    with pytest.raises(ImportFileError, match=message):
        decode(data, max_bytes=LIMIT)


def test_a_stray_nul_byte_is_dropped_not_a_reason_to_refuse_the_file():
    """One NUL in a real export (a copy-paste from a PDF, a broken sync) costs nothing."""
    data = ("First Name,Last Name,Email\n" + "Ada,Lovelace,ada@example.com\n" * 40).encode()
    broken = data[:60] + b"\x00" + data[60:]

    assert decode(broken, max_bytes=LIMIT) == data.decode()


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Name,Stadt\nJürgen Groß,Köln\nÄnne Weiß,München\n", id="german"),
        pytest.param("Nom,Ville\nFrançois Lefèvre,Besançon\n", id="french"),
        pytest.param("Zoë\n", id="one short name"),
    ],
)
def test_windows_1252_names_are_not_guessed_as_another_code_page(text):
    """A statistical detector reads these as Mac Icelandic, Central European or UTF-16; an
    Excel "CSV" from a Western European PC is Windows-1252."""
    assert decode(text.encode("cp1252"), max_bytes=LIMIT) == text
