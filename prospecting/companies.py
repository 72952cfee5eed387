"""Recognising one company however its name was typed. Pure: strings in, strings out.

A company is matched by its domain first (acme.com is Acme, whatever the name field says),
then by a normalised name:

- case, accents and punctuation are folded: "ACME, Inc." → "acme";
- German umlauts are spelled out the German way before other accents are dropped, so
  "Müller GmbH" = "Mueller GmbH" (how a German writes it without the key), but not "Muller"
  (a different name: French, or a typo);
- "&" and "+" are "and"; a leading "The" is dropped;
- legal forms at the end are dropped, several if stacked ("GmbH & Co. KG", "Pty Ltd"):
  Inc, Corp, Co, Company, Ltd, Limited, LLC, LLP, LP, plc, GmbH, AG, KG, SE, S.A., SAS, SARL,
  SpA, Srl, BV, NV, Oy, AB, AS, ApS, Pty, KK, …;
- a name that is nothing but a legal form ("The Company") is kept as it is, not made empty.
"""

from __future__ import annotations

import re
import unicodedata

from leads.normalize import normalize_domain

# Written without their dots and spaces: "S.A." and "s. a." are both "sa" by then.
LEGAL_FORMS = frozenset(
    {
        "inc",
        "incorporated",
        "corp",
        "corporation",
        "co",
        "company",
        "cos",
        "ltd",
        "limited",
        "llc",
        "llp",
        "lp",
        "plc",
        "pllc",
        "pc",
        "gmbh",
        "mbh",
        "ag",
        "kg",
        "kgaa",
        "ohg",
        "ug",
        "ev",
        "se",
        "sa",
        "sas",
        "sarl",
        "sasu",
        "eurl",
        "spa",
        "srl",
        "sl",
        "slu",
        "bv",
        "nv",
        "vof",
        "oy",
        "oyj",
        "ab",
        "as",
        "asa",
        "aps",
        "pty",
        "kk",
        "bhd",
        "sdn",
        "pte",
        "ltda",
        "sac",
        "saic",
        "cv",
        "sab",
        "de",
        "group",
        "holding",
        "holdings",
    }
)
# Dropped only at the end and only after a real word, so "Group" in "Acme Group" goes but a
# company called "Group Nine" keeps it; "de" only in "S.A. de C.V.".
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "æ": "ae", "ø": "oe"})
_DOTTED = re.compile(r"\b(?:[a-z]\.\s?){2,}")  # s.a. / s. a. / l.l.c.
_SLASHED = re.compile(r"\b([a-z])/([a-z])\b")  # a/s, b/v
_NOT_WORD = re.compile(r"[\W_]+")  # any script's letters and digits stay: 株式会社 is a name


def normalise_company_name(name: str) -> str:
    """The key two names of one company share: "ACME, Inc." and "acme" are both "acme"."""
    text = unicodedata.normalize("NFC", name).casefold().translate(_UMLAUTS)
    text = "".join(
        char for char in unicodedata.normalize("NFKD", text) if not unicodedata.combining(char)
    ).casefold()  # again: compatibility forms (𝐀, Ⅻ) decompose to capitals
    text = _DOTTED.sub(lambda match: match.group(0).replace(".", "").replace(" ", "") + " ", text)
    text = text.replace("&", " and ").replace("+", " and ").replace("'", "").replace("’", "")
    text = _SLASHED.sub(r"\1\2", text)
    words = _NOT_WORD.sub(" ", text).split()
    if not words:
        return ""
    kept = words[1:] if words[0] == "the" and len(words) > 1 else list(words)
    while len(kept) > 1 and (kept[-1] in LEGAL_FORMS or kept[-1] == "and"):
        kept.pop()
    if len(kept) == 1 and kept[0] in LEGAL_FORMS and len(words) > 1:
        # "The Company", "Holding AG": nothing but legal words; keep them all.
        kept = words
    return " ".join(kept)


def name_search_words(key: str) -> list[str]:
    """Words of a normalised name that a database filter can look for, longest first: a
    company whose key matches contains each of them (as typed, or with its umlauts)."""
    return sorted({word for word in key.split() if len(word) >= 2}, key=lambda w: (-len(w), w))


def spellings(word: str, *, limit: int = 8) -> list[str]:
    """The ways `word` (normalised) may be written in a name field: "mueller" → "mueller",
    "müller". Each ae/oe/ue/ss may be the umlaut or the two letters."""
    variants = [""]
    index = 0
    pairs = {"ae": "ä", "oe": "ö", "ue": "ü", "ss": "ß"}
    while index < len(word):
        pair = word[index : index + 2]
        if pair in pairs and len(variants) * 2 <= limit:
            variants = [v + pair for v in variants] + [v + pairs[pair] for v in variants]
            index += 2
        else:
            variants = [v + word[index] for v in variants]
            index += 1
    return variants


def domain_of(text: str) -> str:
    """The domain a search means when it names one ("acme.com", "https://www.acme.com/x",
    "dana@acme.com"), else ""."""
    text = text.strip()
    if "@" in text:
        text = text.rpartition("@")[2]
    if " " in text or "." not in text:
        return ""
    domain = normalize_domain(text)
    labels = domain.split(".")
    if len(labels) < 2 or not labels[-1].isalpha() or len(labels[-1]) < 2:
        return ""
    return domain


def email_domain(email: str) -> str:
    """'Dana@Acme.com' → 'acme.com'."""
    return email.rpartition("@")[2].strip().lower() if "@" in email else ""
