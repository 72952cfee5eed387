"""Finding and replacing a person's identifiers in stored text, for erasure (privacy) and for the
apps whose records it cleans through their own services (imports)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

ERASED = "[erased]"


def mentions(value: object, needles: Iterable[str]) -> bool:
    """Whether `value` (text, or JSON-like data) contains any of `needles`, ignoring case."""
    text = json.dumps(value, default=str, ensure_ascii=False).casefold()
    return any(needle.casefold() in text for needle in needles)


def scrub(value: object, needles: Iterable[str]) -> object:
    """`value` (text, or JSON made of lists and dicts) with every needle replaced."""
    if isinstance(value, str):
        for needle in needles:
            value = re.sub(re.escape(needle), ERASED, value, flags=re.IGNORECASE)
        return value
    if isinstance(value, list):
        return [scrub(item, needles) for item in value]
    if isinstance(value, dict):
        return {key: scrub(item, needles) for key, item in value.items()}
    return value
