"""Merge fields in an email's subject and body: `{{first_name}}` becomes the lead's first name.

Pure text in, text out, no database: the values are read once (`emails.sending.merge_values`)
and the same function serves the preview and the send. Not Django's template language on
purpose: a salesperson's text must not reach tags, filters or object attributes. A field with
no value (a lead without a company) becomes empty; an unknown field is the writer's mistake and
is reported (`unknown_fields`), never sent as typed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

# Name → what it stands for, in the order the forms list them.
MERGE_FIELDS: dict[str, str] = {
    "first_name": "the lead's first name",
    "last_name": "the lead's last name",
    "company": "the lead's company",
    "referrer_name": "who referred the lead (their referral source)",
    "booking_link": "your public page, where they can book a meeting",
    "my_name": "your name",
}

FIELD = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")


def unknown_fields(*texts: str) -> list[str]:
    """The merge fields in `texts` that are not in MERGE_FIELDS, once each, in order."""
    unknown: list[str] = []
    for text in texts:
        for name in FIELD.findall(text):
            if name not in MERGE_FIELDS and name not in unknown:
                unknown.append(name)
    return unknown


def fields_used(*texts: str) -> set[str]:
    return {name for text in texts for name in FIELD.findall(text) if name in MERGE_FIELDS}


def merge(text: str, values: Mapping[str, str]) -> str:
    """`text` with every known field replaced by its value (empty when it has none)."""

    def value_of(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in MERGE_FIELDS:
            return match.group(0)
        return values.get(name, "")

    return FIELD.sub(value_of, text)


def unknown_fields_message(names: Iterable[str]) -> str:
    listed = ", ".join("{{" + name + "}}" for name in names)
    known = ", ".join("{{" + name + "}}" for name in MERGE_FIELDS)
    return f"Unknown merge field {listed}. The merge fields are: {known}."
