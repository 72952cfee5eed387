"""Warm paths into a company: who the salesperson can reach it through, how strong each path
is, and why. Pure: plain values in, ranked paths out (the selectors read the rows).

Strength is 1 (weak) to 5 (strong), from the relationship, never from the company:
- your won customer there: 5 (they bought from you);
- a referral source: their relationship strength (1–5) when they work there, one less when
  they only referred someone there (they know a person, not the place);
- an imported connection of yours: 3 if you were in touch in the last year, else 2;
- another lead of yours: 3 from Engaged on, 2 once contacted, 1 before; +1 (at most 4) when
  you were in touch in the last 90 days;
- a teammate's contact (when the team shares contacts): one less than the teammate's own
  relationship would be (2nd hand), so 4 for their customer, 2 or 1 otherwise.
A person reached several ways keeps the strongest, with every reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from leads.models import Source, Stage

WARM_STAGES = (Stage.ENGAGED, Stage.QUALIFIED, Stage.PROPOSAL)
STRENGTH_WORDS = {5: "Very strong", 4: "Strong", 3: "Good", 2: "Some", 1: "Weak"}


class Kind:
    CUSTOMER = "customer"
    SOURCE = "source"
    REFERRER = "referrer"
    CONNECTION = "connection"
    LEAD = "lead"
    TEAMMATE = "teammate"


@dataclass(frozen=True)
class Path:
    """One person to reach the company through. `key` names them for the ask: "lead:12",
    "source:4" or "teammate:7:lead:99" (a teammate's lead: the ask goes to the teammate)."""

    key: str
    name: str
    title: str
    kind: str
    strength: int
    reasons: tuple[str, ...]
    last_contact: datetime | None = None
    lead_id: int | None = None
    source_id: int | None = None
    teammate: str = ""
    opted_out: bool = False
    do_not_contact: bool = False
    at_company: str = ""
    kinds: frozenset[str] = field(default_factory=frozenset)

    @property
    def strength_word(self) -> str:
        return STRENGTH_WORDS[self.strength]

    @property
    def action_label(self) -> str:
        if self.teammate:
            return f"Ask {self.teammate.split()[0]} for an intro"
        return "Ask for an intro"

    @property
    def can_ask(self) -> bool:
        return not (self.opted_out or self.do_not_contact)

    @property
    def cannot_ask_because(self) -> str:
        if self.do_not_contact:
            return "Asked not to be contacted."
        return "Opted out of asks." if self.opted_out else ""


def _clamp(value: int) -> int:
    return max(1, min(5, value))


def lead_strength(
    *, stage: str, source: str, last_contact: datetime | None, now: datetime
) -> tuple[str, int]:
    """The kind of path one of your own leads is, and its strength."""
    if stage == Stage.WON:
        return Kind.CUSTOMER, 5
    recent_year = last_contact is not None and now - last_contact <= timedelta(days=365)
    if source == Source.OWN_NETWORK and stage != Stage.LOST:
        return Kind.CONNECTION, 3 if recent_year else 2
    base = 3 if stage in WARM_STAGES else 2 if stage in (Stage.CONTACTED, Stage.NURTURE) else 1
    if last_contact is not None and now - last_contact <= timedelta(days=90):
        base = min(4, base + 1)
    return Kind.LEAD, base


def teammate_strength(*, stage: str, last_contact: datetime | None, now: datetime) -> int:
    """A teammate's contact: their relationship, one step weaker for being second-hand."""
    if stage == Stage.WON:
        return 4
    if last_contact is not None and now - last_contact <= timedelta(days=365):
        return 2
    return 1


def source_strength(strength: int, *, works_there: bool) -> int:
    return _clamp(strength if works_there else strength - 1)


def merge(paths: Iterable[Path]) -> list[Path]:
    """One path per person (by key): the strongest strength, every reason once."""
    merged: dict[str, Path] = {}
    for path in paths:
        path = replace(path, kinds=path.kinds | {path.kind})
        seen = merged.get(path.key)
        if seen is None:
            merged[path.key] = path
            continue
        strongest = path if path.strength > seen.strength else seen
        reasons = seen.reasons + tuple(r for r in path.reasons if r not in seen.reasons)
        merged[path.key] = replace(
            strongest,
            reasons=reasons,
            kinds=seen.kinds | path.kinds,
            opted_out=seen.opted_out or path.opted_out,
            do_not_contact=seen.do_not_contact or path.do_not_contact,
            source_id=seen.source_id or path.source_id,
            lead_id=seen.lead_id or path.lead_id,
            last_contact=max(filter(None, [seen.last_contact, path.last_contact]), default=None),
            title=seen.title or path.title,
        )
    return list(merged.values())


def ranked(paths: Iterable[Path]) -> list[Path]:
    """Strongest first; then your own before a teammate's, the most recent contact, the name."""
    return sorted(
        merge(paths),
        key=lambda path: (
            -path.strength,
            bool(path.teammate),
            -(path.last_contact.timestamp() if path.last_contact else 0.0),
            path.name.casefold(),
            path.key,
        ),
    )
