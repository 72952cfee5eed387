"""How alike two names are, for the duplicate finder (`leads.merging`).

The measure is difflib.SequenceMatcher's ratio, 2·M / (len(a) + len(b)) with M the characters
the two names share in order, computed by rapidfuzz: exactly (M is their longest common
subsequence; difflib takes the longest common block first and settles for what is left on
either side, so it can miss shared characters) and in C.
"""

from __future__ import annotations

from rapidfuzz.distance import Indel


def name_similarity(one: str, other: str) -> float:
    """0.0 (nothing in common) to 1.0 (the same name): 'dana smith' and 'dana smyth' are 0.9."""
    return Indel.normalized_similarity(one, other)
