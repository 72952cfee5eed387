"""Recognising a row as a lead the owner already has, or as an earlier row of the same file.

The owner's leads are read once (`leads.selectors.lead_match_keys`) into dictionaries by
normalised email, LinkedIn URL and name + company; every row is matched in memory and the
dictionaries grow as rows are planned. Matching never costs a query per row.

An import plans a batch of rows before writing it; what the batch added to the index is noted
in an `UndoLog`, so a batch the database refuses is taken back out and retried row by row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from accounts.models import User
from imports.candidates import Candidate
from imports.models import DuplicatePolicy
from leads.selectors import lead_match_keys

# What an import may fill in on a lead it matched (only where the lead has nothing).
FILLABLE = (
    "first_name",
    "last_name",
    "title",
    "email",
    "phone",
    "linkedin_url",
    "company",
    "notes",
)
NameKey = str
# Between the parts of a name key: a character no name or company contains.
_KEY_SEPARATOR = "\x1f"


class Action(StrEnum):
    CREATE = "create"
    FILL = "fill"
    SKIP = "skip"


class UndoLog:
    """Steps that take back in-memory changes, newest last, for a batch that was rolled back."""

    def __init__(self) -> None:
        self._steps: list[Callable[[], None]] = []

    def mark(self) -> int:
        return len(self._steps)

    def add(self, step: Callable[[], None]) -> None:
        self._steps.append(step)

    def undo_to(self, mark: int = 0) -> None:
        while len(self._steps) > mark:
            self._steps.pop()()

    def forget(self) -> None:
        """The changes are committed: nothing to take back any more."""
        self._steps.clear()

    def forget_before(self, mark: int) -> None:
        """The changes before `mark` are committed; those after it (the next batch's plan)
        can still be taken back, and their marks now count from 0."""
        del self._steps[:mark]


# slots: an import holds one of these per lead the owner has, a hundred thousand or more.
@dataclass(slots=True, eq=False)
class Known:
    """A lead (ref > 0: its id) or, in a preview, an earlier row (ref < 0: minus its number).

    While an import's batch is being planned, a lead it will create has ref 0 and `pending`
    holds what it will be created from (see `imports.engine`)."""

    ref: int
    email: str = ""
    linkedin_url: str = ""
    first_name: str = ""
    last_name: str = ""
    company_name: str = ""
    filled: frozenset[str] = frozenset()  # shared: see `_filled`
    pending: object | None = None

    def __post_init__(self) -> None:
        self.filled = _filled(self.filled)

    @property
    def row(self) -> int | None:
        return -self.ref if self.ref < 0 else None


@dataclass(frozen=True)
class Plan:
    action: Action
    known: Known | None = None
    fills: tuple[str, ...] = ()


def name_key(first_name: str, last_name: str, company_name: str) -> NameKey | None:
    """Case-insensitive name + company; no key without a name. A person without a company
    is keyed by name alone, so a file of bare names can be imported twice without doubling."""
    if not (first_name or last_name):
        return None
    # One string rather than a tuple of three: an import keeps one per lead the owner has.
    return _KEY_SEPARATOR.join((first_name, last_name, company_name)).casefold()


class DedupeIndex:
    def __init__(self, undo: UndoLog | None = None) -> None:
        self.by_email: dict[str, Known] = {}
        self.by_linkedin: dict[str, Known] = {}
        self.by_name: dict[NameKey, Known] = {}
        self.undo = undo

    @classmethod
    def for_owner(cls, owner: User, undo: UndoLog | None = None) -> DedupeIndex:
        """The owner's leads, in one query (read in chunks, not held as a list)."""
        index = cls()
        company_names: dict[str, str] = {}  # one string per company, not one per lead
        for lead in lead_match_keys(owner).iterator(chunk_size=5000):
            company_name = lead["company__name"] or ""
            filled = {name for name in ("first_name", "last_name", "title") if lead[name]}
            filled |= {name for name in ("email", "phone", "linkedin_url") if lead[name]}
            if lead["company_id"]:
                filled.add("company")
            if lead["has_notes"]:
                filled.add("notes")
            index.remember(
                Known(
                    ref=lead["id"],
                    email=lead["email"],
                    linkedin_url=lead["linkedin_url"],
                    first_name=lead["first_name"],
                    last_name=lead["last_name"],
                    company_name=company_names.setdefault(company_name, company_name),
                    filled=filled,
                )
            )
        index.undo = undo
        return index

    def remember(self, known: Known) -> Known:
        """Index a lead (or a previewed row) under each of its keys; earlier entries win."""
        if known.email:
            self._add(self.by_email, known.email, known)
        if known.linkedin_url:
            self._add(self.by_linkedin, known.linkedin_url, known)
        key = name_key(known.first_name, known.last_name, known.company_name)
        if key is not None:
            self._add(self.by_name, key, known)
        return known

    def _add(self, keys: dict, key: object, known: Known) -> None:
        if key in keys:
            return
        keys[key] = known
        if self.undo is not None:
            self.undo.add(lambda: keys.pop(key, None))

    def match(self, candidate: Candidate) -> Known | None:
        """Same email, else same LinkedIn profile, else same name at the same company."""
        if candidate.email and candidate.email in self.by_email:
            return self.by_email[candidate.email]
        if candidate.linkedin_url and candidate.linkedin_url in self.by_linkedin:
            return self.by_linkedin[candidate.linkedin_url]
        key = name_key(candidate.first_name, candidate.last_name, candidate.company_name)
        return self.by_name.get(key) if key is not None else None

    def plan(self, candidate: Candidate, policy: str) -> Plan:
        """Create a new lead, fill in a known one, or skip the row as a duplicate."""
        known = self.match(candidate)
        if known is None:
            return Plan(Action.CREATE)
        if policy == DuplicatePolicy.SKIP:
            return Plan(Action.SKIP, known)
        fills = tuple(
            name
            for name in FILLABLE
            if name not in known.filled
            and _has(candidate, name)
            and not self._belongs_to_another(candidate, name, known)
        )
        return Plan(Action.FILL, known, fills) if fills else Plan(Action.SKIP, known)

    def filled(
        self, known: Known, candidate: Candidate, names: tuple[str, ...] | list[str], company: str
    ) -> None:
        """Record what a fill writes, so later rows match on the new keys too."""
        if self.undo is not None:
            self.undo.add(_restorer(known))
        known.filled = _filled(known.filled | set(names))
        for name in ("email", "linkedin_url", "first_name", "last_name"):
            if name in names:
                setattr(known, name, getattr(candidate, name))
        if "company" in names:
            known.company_name = company
        self.remember(known)

    def _belongs_to_another(self, candidate: Candidate, name: str, known: Known) -> bool:
        # A profile or address that is another lead's can't be given to this one: the
        # database allows each only once per owner.
        if name == "email":
            return self.by_email.get(candidate.email, known) is not known
        if name == "linkedin_url":
            return self.by_linkedin.get(candidate.linkedin_url, known) is not known
        return False


_FILLED_SETS: dict[frozenset[str], frozenset[str]] = {}


def _filled(names: Iterable[str]) -> frozenset[str]:
    """The set of filled fields, shared by every lead that has the same: there are only so
    many combinations, and an import keeps one per lead the owner has."""
    names = frozenset(names)
    return _FILLED_SETS.setdefault(names, names)


def _restorer(known: Known) -> Callable[[], None]:
    before = (
        known.email,
        known.linkedin_url,
        known.first_name,
        known.last_name,
        known.company_name,
        known.filled,
    )

    def restore() -> None:
        (
            known.email,
            known.linkedin_url,
            known.first_name,
            known.last_name,
            known.company_name,
            known.filled,
        ) = before

    return restore


def _has(candidate: Candidate, name: str) -> bool:
    if name == "company":
        return candidate.has_company
    return bool(getattr(candidate, name))
