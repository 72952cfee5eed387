"""From an uploaded file's bytes to text, whichever program wrote it.

Excel saves "CSV UTF-8" with a byte-order mark, "Unicode text" as UTF-16 with one (other tools
without one), and plain "CSV" in the Windows code page; LinkedIn and Google export UTF-8. A
file that is none of these is not text at all (a workbook, a PDF, a photo) and is refused with
one sentence saying so.

Hand-written on purpose, not charset-normalizer: on our own inputs that library reads
Windows-1252 names as another code page (cp775, Mac Icelandic, cp1250, even UTF-16 for a
short file) and accepts bytes undefined in Windows-1252 as Cyrillic text; the candidates
here are few and known, so trying them in order is both shorter and right.
"""

from __future__ import annotations

import codecs
import re

NOT_TEXT = (
    "This file isn't a CSV or vCard text file. Export your contacts as CSV (LinkedIn, Google "
    "Contacts, another CRM) or vCard (.vcf) and upload that."
)
# Magic numbers of files people upload by mistake, for a more helpful message.
KNOWN_BINARIES = (
    (b"PK\x03\x04", "This is an Excel workbook or a zip file. Save it as CSV and upload that."),
    (b"\xd0\xcf\x11\xe0", "This is an old Excel (.xls) file. Save it as CSV and upload that."),
    (b"%PDF", "This is a PDF. Export your contacts as CSV or vCard and upload that."),
)
BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Control characters, except those a text export may legitimately hold: tab, line breaks,
# form feed and vertical tab (Excel's line break inside a cell).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
# A few stray control characters are tolerated (a DOS end-of-file marker, say); more mean
# the bytes were never text.
MAX_CONTROL_SHARE = 0.01
# NUL bytes dropped from a file that is otherwise text; more than this share, or NULs beside
# other control bytes, mean binary.
MAX_NUL_SHARE = 0.01
BINARY_CONTROL_BYTES = re.compile(rb"[\x01-\x08\x0e-\x1f\x7f]")
# UTF-16 without a byte-order mark ("Unicode text" from some tools): mostly ASCII, so every
# other byte is NUL, on the odd offsets (little-endian) or the even ones (big-endian).
UTF16_NUL_SHARE = 0.4


class ImportFileError(Exception):
    """The file as a whole can't be imported; the message says why, for the person uploading."""


def size_problem(size: int, max_bytes: int) -> str:
    """The message for a file over the limit, or "" when it fits."""
    if size <= max_bytes:
        return ""
    return (
        f"The file is {size / 1_048_576:.1f} MB; imports take up to "
        f"{max_bytes / 1_048_576:.0f} MB. Split it into smaller files."
    )


def decode(data: bytes, *, max_bytes: int) -> str:
    """The file's text: by its byte-order mark, else UTF-8, else Windows-1252."""
    problem = size_problem(len(data), max_bytes)
    if problem:
        raise ImportFileError(problem)
    if not data.strip():
        raise ImportFileError("The file is empty.")
    for magic, message in KNOWN_BINARIES:
        if data.startswith(magic):
            raise ImportFileError(message)
    text = _decode_by_bom(data)
    if text is None:
        text = _decode_utf16_without_bom(data)
    if text is None:
        text = _decode_first_of(_without_stray_nuls(data), ("utf-8", "cp1252"))
    if _looks_binary(text):
        raise ImportFileError(NOT_TEXT)
    return text


def _decode_by_bom(data: bytes) -> str | None:
    for bom, encoding in BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                raise ImportFileError(NOT_TEXT) from None
    return None


def _without_stray_nuls(data: bytes) -> bytes:
    """The bytes without a stray NUL or two (a paste from a PDF, a broken sync): noise, not a
    reason to refuse every good row of the file. Many NULs, or NULs beside other control
    bytes, are a binary file."""
    nuls = data.count(b"\x00")
    if not nuls:
        return data
    rest = data.replace(b"\x00", b"")
    if nuls > max(2, len(data) * MAX_NUL_SHARE) or BINARY_CONTROL_BYTES.search(rest):
        raise ImportFileError(NOT_TEXT)
    return rest


def _decode_utf16_without_bom(data: bytes) -> str | None:
    """The text of a UTF-16 file that has no byte-order mark, or None if it isn't one."""
    if len(data) < 4 or len(data) % 2:
        return None
    halves = len(data) // 2
    for encoding, nul_offset in (("utf-16-le", 1), ("utf-16-be", 0)):
        nuls = data[nul_offset::2].count(b"\x00")
        if nuls >= halves * UTF16_NUL_SHARE and data[1 - nul_offset :: 2].count(b"\x00") == 0:
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                return None
    return None


def _decode_first_of(data: bytes, encodings: tuple[str, ...]) -> str:
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(NOT_TEXT)


def _looks_binary(text: str) -> bool:
    if "\x00" in text:
        return True
    controls = sum(1 for _ in CONTROL_CHARACTERS.finditer(text))
    return controls > max(3, len(text) * MAX_CONTROL_SHARE)
