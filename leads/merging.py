"""Merging two leads by hand: the candidates, the compare page's preview, and the record of
merges. The writes (`lead_merge`, `lead_merge_undo`) are in `leads.services.merging`.

Candidates are the same salesperson's leads that share an email, a phone, a name (or a similar
one) or a company and name; the preview lists each field side by side with what the merge keeps.
"""

from __future__ import annotations

import functools
import operator
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Case, Q, QuerySet, When
from django.utils.text import capfirst

from accounts.models import User
from leads import selectors
from leads.dependents import referral_links
from leads.fields import own_field
from leads.models import (
    FollowUp,
    Lead,
    LeadMerge,
    Source,
)
from leads.normalize import normalize_email, normalize_linkedin_url
from leads.services.validation import EDITABLE_LEAD_FIELDS
from leads.similarity import name_similarity
from leads.templatetags.lead_tags import money

# The fields a person sets, in the order the compare page lists them.
MERGE_FIELDS = EDITABLE_LEAD_FIELDS


# Fields whose two values can also be kept together (tags united, notes one after the other).
COMBINABLE_FIELDS = ("tags", "notes")


KEEP_SURVIVOR = "survivor"


KEEP_DUPLICATE = "duplicate"


KEEP_BOTH = "both"


KEEP_CHOICES = (KEEP_SURVIVOR, KEEP_DUPLICATE, KEEP_BOTH)


def merges_visible_to(user: User) -> QuerySet[LeadMerge]:
    """Merges of the leads the user sees: their own, or the team's for a sales manager."""
    if user.is_manager:
        return LeadMerge.objects.all()
    return LeadMerge.objects.filter(owner=user)


def lead_merges(lead: Lead, limit: int = 10) -> list[LeadMerge]:
    """The merges that kept `lead`, newest first: one query, and two more for who merged and
    who undid when there are any. Prefetched rather than joined: most leads were never merged,
    and the lead page asks on every visit; the query without the two joins of the users'
    columns costs Django half as much to build."""
    return list(
        lead.merges.prefetch_related("merged_by", "undone_by").order_by("-merged_at", "-id")[:limit]
    )


def merged_history_origins(merges: Iterable[LeadMerge]) -> dict[int, str]:
    """Which of a lead's history records came from which merged lead: history_id → its name.

    The change history diffs each record against the previous one of the same person; the
    records a merge moved in are another person's and are diffed among themselves.
    """
    origins = {}
    for merge in merges:
        if merge.is_undone:
            continue
        # Records the duplicate had itself gained from earlier merges keep their own names.
        earlier = merge.moved.get("history_origins", {})
        for history_id in merge.moved.get("history", []):
            origins[history_id] = earlier.get(str(history_id), merge.duplicate_name)
    return origins


def merge_candidates(lead: Lead, user: User, query: str = "", limit: int = 20) -> list[Lead]:
    """The leads `lead` can be merged with, among the same owner's: with a search, those the
    lead list's search finds; without one, the likely duplicates, most alike first.

    A likely duplicate is the same person: the same email, LinkedIn profile or phone, or the
    same or a very similar name. A shared company alone is no sign (colleagues are not
    duplicates); it only adds weight to a name that matches. The leads are read in one query.
    """
    if query.strip():
        leads = (
            selectors.leads_filtered(user, {"q": query})
            .filter(owner_id=lead.owner_id)
            .exclude(pk=lead.pk)
            .select_related("company")
        )
        return list(leads.order_by("-total_score", "-id")[:limit])
    person = _Person.of(lead)
    signs = person.lookalikes(lead)
    if signs is None:
        return []
    broad, exact = signs
    leads = (
        selectors.leads_visible_to(user)
        .filter(owner_id=lead.owner_id)
        .exclude(pk=lead.pk)
        .filter(broad)
        .select_related("company")
        # Exact matches first, so a common surname's many namesakes can't crowd them out.
        .order_by(Case(When(exact, then=0), default=1), "-total_score", "-id")[:CANDIDATES_READ]
    )
    scored = [(person.likeness(other), other) for other in leads]
    # Sorted by likeness; the query's order (score, then newest) breaks ties.
    scored = [(likeness, other) for likeness, other in scored if likeness > 0]
    scored.sort(key=lambda pair: -pair[0])
    return [other for _, other in scored[:limit]]


# How many leads the database hands over to be weighed: far more than a page lists, and few
# enough to weigh in no time when a common surname brings many.
CANDIDATES_READ = 200


# Weights of each sign that two leads are one person.
SAME_EMAIL = SAME_LINKEDIN = 100


SAME_PHONE = 80


SAME_NAME = 50


SIMILAR_NAME = 35


SAME_COMPANY_AND_NAME = 30


# How alike two names must be (name_similarity) to count as a typo of one another.
SIMILAR_NAME_RATIO = 0.85


# Digits compared at the end of two phone numbers: the subscriber number without the country
# or trunk prefix, so '+44 20 7946 0000' and '020 7946 0000' are one number.
PHONE_DIGITS = 9


PHONE_MIN_DIGITS = 7


def _fold(text: str) -> str:
    """'  Chloé  O'Neill ' → 'chloe oneill': the form names are compared in."""
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(char for char in decomposed if not unicodedata.combining(char))
    words = re.sub(r"[^\w\s]", "", kept.casefold()).split()
    return " ".join(words)


def _phone_key(phone: str) -> str:
    digits = "".join(char for char in phone if char.isdigit())
    return digits[-PHONE_DIGITS:] if len(digits) >= PHONE_MIN_DIGITS else ""


@dataclass(frozen=True)
class _Person:
    """What identifies the person behind a lead, in comparable form."""

    first: str
    last: str
    email: str
    linkedin: str
    phone: str
    company_id: int | None

    @classmethod
    def of(cls, lead: Lead) -> _Person:
        return cls(
            first=_fold(lead.first_name),
            last=_fold(lead.last_name),
            email=normalize_email(lead.email),
            linkedin=normalize_linkedin_url(lead.linkedin_url),
            phone=_phone_key(lead.phone),
            company_id=lead.company_id,
        )

    @property
    def name(self) -> str:
        return " ".join(part for part in (self.first, self.last) if part)

    def lookalikes(self, lead: Lead) -> tuple[Q, Q] | None:
        """Filters for the leads that may be `lead` (this person), to be weighed by `likeness`:
        a broad one, and within it the exact matches (same contact data or the same name).

        Names are matched in the database as typed (any case): the folded forms ("jose", not
        "José") are for `likeness`, and no stored "José" equals "jose".
        """
        exact, near = [], []
        first, last = lead.first_name.strip(), lead.last_name.strip()
        if self.email:
            exact.append(Q(email__iexact=self.email))
        if self.linkedin:
            slug = self.linkedin.removeprefix("https://www.linkedin.com")
            exact.append(Q(linkedin_url__icontains=slug))
        if self.phone:
            # The last four digits, which most ways of writing the number keep together
            # ("7946 0000", "79460000"); `likeness` then compares all the digits.
            exact.append(Q(phone__endswith=self.phone[-4:]))
        if first and last:
            exact.append(Q(first_name__iexact=first, last_name__iexact=last))
            exact.append(Q(first_name__iexact=last, last_name__iexact=first))
            # A typo leaves one of the two names whole, and most often the first letter.
            near.append(Q(last_name__iexact=last, first_name__istartswith=first[0]))
            near.append(Q(first_name__iexact=first, last_name__istartswith=last[0]))
        elif first or last:
            exact.append(Q(first_name__iexact=first or last, last_name=""))
            exact.append(Q(first_name="", last_name__iexact=first or last))
        if not exact:
            return None
        return functools.reduce(operator.or_, exact + near), functools.reduce(operator.or_, exact)

    def likeness(self, lead: Lead) -> int:
        """How surely `lead` is this person: 0 when nothing but chance links them."""
        other = _Person.of(lead)
        score = 0
        if self.email and self.email == other.email:
            score += SAME_EMAIL
        if self.linkedin and self.linkedin == other.linkedin:
            score += SAME_LINKEDIN
        if self.phone and self.phone == other.phone:
            score += SAME_PHONE
        name = self._name_likeness(other)
        score += name
        if name and self.company_id and self.company_id == other.company_id:
            score += SAME_COMPANY_AND_NAME
        return score

    def _name_likeness(self, other: _Person) -> int:
        if not self.name or not other.name:
            return 0
        if self.name == other.name or (
            self.first and self.last and (self.first, self.last) == (other.last, other.first)
        ):
            return SAME_NAME
        if not (self.first and self.last and other.first and other.last):
            return 0
        if name_similarity(self.name, other.name) >= SIMILAR_NAME_RATIO:
            return SIMILAR_NAME
        # A short form of the first name: Dan and Daniel, Alex and Alexandra.
        short, full = sorted((self.first, other.first), key=len)
        if self.last == other.last and len(short) >= 3 and full.startswith(short):
            return SIMILAR_NAME
        return 0


@dataclass(frozen=True)
class FieldRow:
    """One field of the compare page."""

    name: str
    label: str
    survivor: str  # the values in words
    duplicate: str
    outcome: str  # same | kept | filled | choose
    combinable: bool = False


@dataclass(frozen=True)
class MergePreview:
    rows: list[FieldRow]
    activities: int
    stage_changes: int
    follow_ups: int
    history: int
    referred_leads: int
    moves_referral_source: bool
    pending_kept: FollowUp | None
    pending_closed: FollowUp | None

    @property
    def choices(self) -> list[FieldRow]:
        return [row for row in self.rows if row.outcome == "choose"]

    @property
    def filled(self) -> list[FieldRow]:
        return [row for row in self.rows if row.outcome == "filled"]


def lead_merge_preview(*, survivor: Lead, duplicate: Lead) -> MergePreview:
    """What merging `duplicate` into `survivor` would change, for the compare page."""
    rows = []
    for name in MERGE_FIELDS:
        field = own_field(Lead, name)
        ours, theirs = getattr(survivor, field.attname), getattr(duplicate, field.attname)
        if ours == theirs:
            outcome = "same"
        elif _is_blank(name, theirs):
            outcome = "kept"
        elif _is_blank(name, ours):
            outcome = "filled"
        else:
            outcome = "choose"
        rows.append(
            FieldRow(
                name=name,
                label=str(capfirst(field.verbose_name)),
                survivor=_in_words(survivor, name),
                duplicate=_in_words(duplicate, name),
                outcome=outcome,
                combinable=name in COMBINABLE_FIELDS,
            )
        )
    counts = {
        "activities": duplicate.activities.count(),
        "stage_changes": duplicate.stage_changes.count(),
        "follow_ups": duplicate.follow_ups.count(),
        "history": Lead.history.filter(id=duplicate.pk).count(),
    }
    pending = {
        follow_up.lead_id: follow_up
        for follow_up in FollowUp.objects.filter(
            lead__in=[survivor.pk, duplicate.pk], done_at__isnull=True
        )
    }
    kept, closed = pending_kept_and_closed(pending.get(survivor.pk), pending.get(duplicate.pk))
    referred = referral_links().referred_lead_count_of(duplicate)
    return MergePreview(
        rows=rows,
        **counts,
        referred_leads=referred or 0,
        moves_referral_source=referred is not None,
        pending_kept=kept,
        pending_closed=closed,
    )


def merged_fields(survivor: Lead, duplicate: Lead, choices: Mapping[str, str]) -> dict:
    """The survivor's new field values (by attname): blanks filled, picked values taken."""
    changes: dict[str, object] = {}
    for name in MERGE_FIELDS:
        attname = own_field(Lead, name).attname
        ours, theirs = getattr(survivor, attname), getattr(duplicate, attname)
        if ours == theirs or _is_blank(name, theirs):
            continue
        keep = KEEP_DUPLICATE if _is_blank(name, ours) else choices.get(name, KEEP_SURVIVOR)
        if keep == KEEP_DUPLICATE:
            changes[attname] = theirs
        elif keep == KEEP_BOTH and name == "tags":
            changes[attname] = list(dict.fromkeys([*ours, *theirs]))
        elif keep == KEEP_BOTH and name == "notes":
            changes[attname] = f"{ours.rstrip()}\n\n{theirs.strip()}"
    if "referred_by_id" in changes:
        # The ask that produced a lead belongs with the source that referred it.
        changes["referral_ask_id"] = duplicate.referral_ask_id
    return changes


def _is_blank(name: str, value: object) -> bool:
    """Nothing known: empty, or the default that means "unknown" (source Other; contact
    allowed, so a "do not contact" on either lead is kept)."""
    if name == "source":
        return value in ("", Source.OTHER)
    if name == "do_not_contact":
        return not value
    return value is None or value == "" or value == []


def pending_kept_and_closed(
    ours: FollowUp | None, theirs: FollowUp | None
) -> tuple[FollowUp | None, FollowUp | None]:
    """Of the two leads' pending follow-ups, the one kept (the earlier) and the one closed."""
    if ours is None or theirs is None:
        return ours or theirs, None
    if (theirs.due_at, theirs.pk) < (ours.due_at, ours.pk):
        return theirs, ours
    return ours, theirs


def field_values(lead: Lead) -> dict[str, object]:
    """Every column of the lead by attname (company_id, …), JSON-ready with DjangoJSONEncoder."""
    return {field.attname: getattr(lead, field.attname) for field in Lead._meta.concrete_fields}


FIELD_NAMES = {field.attname: field.name for field in Lead._meta.concrete_fields}


def field_name(attname: str) -> str:
    return FIELD_NAMES[attname]


def stored_value(values: Mapping[str, object], attname: str) -> Any:
    """A value of `field_values` (as stored in JSON) back as the field's Python type."""
    return own_field(Lead, field_name(attname)).to_python(values.get(attname))


def _in_words(lead: Lead, name: str) -> str:
    """A field's value as the compare page shows it."""
    field = own_field(Lead, name)
    value = getattr(lead, name)
    if field.is_relation:
        return str(value) if value is not None else ""
    if field.choices:
        return str(dict(field.flatchoices).get(value, value or ""))
    if name == "expected_value":
        return money(value, lead.currency)  # as everywhere else: "€60,000", not "60000.00"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return "" if value is None else str(value)
