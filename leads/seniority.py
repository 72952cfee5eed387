"""The seniority a job title implies: "VP Sales" → VP, "Co-founder & CEO" → owner / founder.

Pure: a title in, a `Seniority` value (or "" when the title does not say) out. Lead creation
and imports use it to fill an empty seniority, so an ICP criterion on seniority can score a
lead nobody has researched yet; a seniority a person chose is never replaced.

The rules, first match wins, most senior first so "Founder & CEO" is a founder and
"Senior Director of Product Management" a director:
- owner / founder: founder, co-founder, owner (not "product owner"), proprietor, managing /
  founding / general / equity partner;
- C-level: CEO, CTO, … (C?O), chief … , president (not vice president), managing director
  (the European CEO), chair, board member;
- VP: VP, SVP, EVP, AVP, vice president;
- director: director, head (of), "chief of staff";
- manager: manager, team / group / tech lead, supervisor;
- individual contributor: the titles people hold without reports (engineer, analyst, account
  executive, intern, …).

Whatever comes after " to " or " of the " names someone else ("Assistant to the CEO") and is
ignored. A few common German, French and Spanish words are known too.
"""

from __future__ import annotations

import functools
import re

from leads.models import Seniority

# (seniority, pattern) in order of precedence; patterns run on the normalised title.
_RULES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (str(seniority), re.compile(pattern))
    for seniority, pattern in (
        (
            Seniority.OWNER,
            # Not a "Founder's Associate", a "Product Owner" or a "Partner Manager".
            r"\b(?:co ?)?found(?:er|ing)\b(?! s\b)|\bowner\b(?<!product owner)(?<!process owner)"
            r"|\bproprietor\b|\b(?:managing|founding|general|equity|name) partner\b"
            r"|^partner(?:$|\sat\s)|\bgr(?:ü|u|ue)nder(?:in)?\b|\bfonda(?:teur|trice)\b"
            r"|\bfundador(?:a)?\b|\binhaber(?:in)?\b",
        ),
        # Before C-level: a chief of staff runs the office, not a function.
        (Seniority.DIRECTOR, r"\bchief of staff\b"),
        (
            Seniority.C_LEVEL,
            r"\bc[a-z]{1,2}o\b|\bc-(?:level|suite)\b|\bchief\b"
            r"|(?<!vice )(?<!vice-)\bpr[eé]sident(?:e)?\b|\bmanaging director\b"
            r"|\bchair(?:man|woman|person)?\b|\bboard member\b"
            r"|\bgesch(?:ä|a|ae)ftsf(?:ü|u|ue)hrer(?:in)?\b|\bpdg\b"
            r"|\bdirect(?:eur|rice|or|ora) g[eé]n[eé]ral(?:e)?\b",
        ),
        (Seniority.VP, r"\b[sea]?vp\b|\bvice[ -]?president\b|\bvicepresidente?\b"),
        (
            Seniority.DIRECTOR,
            r"\bdirector(?:a)?\b|\bdirect(?:eur|rice)\b|\bdirektor(?:in)?\b|\bhead\b"
            r"|\bgeneral manager\b|(?<!team)(?<!gruppen)leiter(?:in)?\b",
        ),
        (
            Seniority.MANAGER,
            r"\bmanager\b|\bmgr\b|\b(?:team|group|tech|technical) lead(?:er)?\b"
            r"|\bsupervisor\b|\bforeman\b|\bgerente\b|\bresponsable\b"
            r"|\b(?:team|gruppen)leiter(?:in)?\b",
        ),
        (
            Seniority.INDIVIDUAL,
            r"\b(?:intern|internship|trainee|apprentice|student|werkstudent(?:in)?|graduate"
            r"|junior|jr|product owner|assistant|associate|specialist|engineer|developer"
            r"|programmer|analyst|consultant|representative|rep|executive|coordinator|designer|scientist|researcher"
            r"|accountant|administrator|advisor|adviser|officer|agent|clerk|technician|architect"
            r"|recruiter|writer|editor|sdr|bdr|ae|csm|marketer|strategist|planner|buyer"
            r"|operator|nurse|teacher|lawyer|attorney|paralegal|freelancer?|contractor"
            r"|mitarbeiter(?:in)?|referent(?:in)?|sachbearbeiter(?:in)?|stagiaire|becario)\b",
        ),
    )
)

# Cut at the person the title is relative to: "Assistant to the CEO", "EA of the Founder".
_RELATIVE_TO = re.compile(r"\s(?:to|for|of) the\s.*$|\sto\s.*$")


def seniority_from_title(title: str | None) -> str:
    """The `Seniority` value a job title implies, or "" when it does not say."""
    if not title:
        return ""
    return _seniority_of(_normalise(title))


@functools.lru_cache(maxsize=4096)
def _seniority_of(title: str) -> str:
    # Titles repeat across an import (a few hundred distinct among thousands of rows).
    for seniority, pattern in _RULES:
        if pattern.search(title):
            return seniority
    return ""


def _normalise(title: str) -> str:
    """Lower case, "C.E.O." → "ceo", punctuation → spaces, the relative part cut off."""
    text = title.casefold().replace(".", "")
    text = re.sub(r"[^\w&/+-]+|[&/+]|(?<!\w)-|-(?!\w)", " ", text)
    text = " ".join(text.split())
    return _RELATIVE_TO.sub("", text).strip()
