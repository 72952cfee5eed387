"""A small vCard reader (3.0 and 4.0, and the 2.1 that old phones write): just the properties
a lead needs — N, FN, EMAIL, TEL, ORG, TITLE, URL, NOTE — from any number of cards.

RFC 6350 folds long lines (a line break followed by a space or tab continues the line) and
escapes commas, semicolons and newlines inside values; both are undone here.

Hand-written on purpose, not vobject: vobject stops with a ParseError at a last card that has
no END:VCARD (this reader keeps the card), gives no card's starting line (its own line numbers
run ahead of the file's), and we would still map its properties to our columns here; it
would save only the unfolding and unescaping, and bring pytz and six with it.
"""

from __future__ import annotations

import quopri
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from imports.columns import Target

_FOLD = re.compile(r"\r\n[ \t]|\n[ \t]|\r[ \t]")
_LINE_BREAK = re.compile(r"\r\n|\n|\r")
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_UNESCAPED_SEMICOLON = re.compile(r"(?<!\\);")
LINKEDIN_HOST = "linkedin.com/"


@dataclass
class Card:
    """One card: its first line's number in the file and the values it gave each target."""

    line: int
    values: dict[str, str] = field(default_factory=dict)
    columns: dict[str, str] = field(default_factory=dict)

    def give(self, target: Target, value: str, prop: str) -> None:
        """The first value for a target wins (a card's first email is its main one)."""
        value = value.strip()
        if value and target not in self.values:
            self.values[target] = value
            self.columns[target] = prop


def looks_like_vcard(text: str) -> bool:
    return text.lstrip("\ufeff \t\r\n")[:11].upper() == "BEGIN:VCARD"


def read_cards(text: str) -> Iterator[Card]:
    """Every card in the file, in order; lines outside BEGIN/END:VCARD are ignored."""
    card: Card | None = None
    preferred: set[str] = set()
    for line_number, line in _logical_lines(text):
        name, params, value = _split(line)
        if name == "BEGIN" and value.strip().upper() == "VCARD":
            card, preferred = Card(line=line_number), set()
        elif card is None:
            continue
        elif name == "END":
            yield card
            card = None
        else:
            _read_property(card, name, params, _decode(value, params), preferred)
    if card is not None:
        yield card  # a last card without END:VCARD is still read


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Unfolded lines with the number of the physical line each starts on."""
    text = _join_quoted_printable_soft_breaks(text)
    line_number = 1
    for physical in _split_keeping_folds(text):
        yield line_number, _FOLD.sub("", physical)
        line_number += len(_LINE_BREAK.findall(physical)) + 1


def _split_keeping_folds(text: str) -> list[str]:
    lines: list[str] = []
    for raw in _LINE_BREAK.split(text):
        if raw[:1] in (" ", "\t") and lines:
            lines[-1] += "\n" + raw
        else:
            lines.append(raw)
    return lines


def _join_quoted_printable_soft_breaks(text: str) -> str:
    # vCard 2.1 wraps QUOTED-PRINTABLE values with "=" at the end of a line, not by folding.
    if "QUOTED-PRINTABLE" not in text.upper():
        return text
    return re.sub(r"=(\r\n|\n|\r)", "", text)


def _split(line: str) -> tuple[str, dict[str, str], str]:
    """'item1.EMAIL;TYPE=work:x@y' → ('EMAIL', {'TYPE': 'work'}, 'x@y')."""
    head, _, value = line.partition(":")
    parts = head.split(";")
    name = parts[0].rsplit(".", 1)[-1].strip().upper()
    params: dict[str, str] = {}
    for part in parts[1:]:
        key, has_value, param = part.partition("=")
        if has_value:
            params[key.strip().upper()] = param.strip().strip('"')
        else:  # vCard 2.1: bare types like "WORK" or "PREF"
            params.setdefault("TYPE", "")
            params["TYPE"] += f",{key.strip()}"
    return name, params, value


def _decode(value: str, params: dict[str, str]) -> str:
    if params.get("ENCODING", "").upper() == "QUOTED-PRINTABLE":
        charset = params.get("CHARSET", "utf-8")
        try:
            return quopri.decodestring(value.encode("latin-1", "replace")).decode(
                charset, "replace"
            )
        except LookupError:
            return value
    return value


def _unescape(value: str) -> str:
    return _ESCAPE.sub(lambda match: "\n" if match[1] in "nN" else match[1], value)


def _components(value: str) -> list[str]:
    return [_unescape(part) for part in _UNESCAPED_SEMICOLON.split(value)]


def _is_preferred(params: dict[str, str]) -> bool:
    types = params.get("TYPE", "").lower().split(",")
    return "pref" in types or params.get("PREF", "") == "1"


def _read_property(
    card: Card, name: str, params: dict[str, str], value: str, preferred: set[str]
) -> None:
    if name == "N":
        family, given, *_ = [*_components(value), "", ""]
        card.give(Target.LAST_NAME, family, "N")
        card.give(Target.FIRST_NAME, given, "N")
    elif name == "FN":
        card.give(Target.FULL_NAME, _unescape(value), "FN")
    elif name in ("EMAIL", "TEL"):
        target = Target.EMAIL if name == "EMAIL" else Target.PHONE
        value = _unescape(value).removeprefix("mailto:").removeprefix("tel:")
        if _is_preferred(params) and target not in preferred:
            preferred.add(target)
            card.values.pop(target, None)  # a preferred address beats one listed before it
        card.give(target, value, name)
    elif name == "ORG":
        card.give(Target.COMPANY, _components(value)[0], "ORG")
    elif name == "TITLE":
        card.give(Target.TITLE, _unescape(value), "TITLE")
    elif name in ("URL", "X-SOCIALPROFILE", "X-LINKEDIN"):
        url = _unescape(value)
        if LINKEDIN_HOST in url.lower() or name == "X-LINKEDIN":
            card.give(Target.LINKEDIN, url, name)
    elif name == "NOTE":
        card.give(Target.NOTES, _unescape(value), "NOTE")
