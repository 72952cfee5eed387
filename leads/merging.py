"""Merging two leads by hand, and undoing it.

`lead_merge` folds a duplicate into the lead that stays (the survivor): activities, stage
changes, follow-ups, referral links and the duplicate's change history move over, the
survivor's empty fields are filled from the duplicate (and any field the salesperson picked
the duplicate's value for is overwritten), then the duplicate row is deleted so its email and
LinkedIn profile are free. A `LeadMerge` row keeps what an undo needs: `lead_merge_undo`
recreates the duplicate with its own id and moves exactly the recorded rows back.

Both are set-based: a fixed number of statements whatever the number of activities.
"""

from __future__ import annotations

import functools
import operator
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from difflib import SequenceMatcher

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, Count, Min, Q, QuerySet, When
from django.utils import timezone
from django.utils.text import capfirst

from accounts.models import User
from audit.models import AuditAction
from audit.services import audit_event_record
from leads import selectors
from leads.dependents import request_rescore
from leads.models import (
    ANSWERED_OUTCOMES,
    TOUCH_KINDS,
    Activity,
    Company,
    Direction,
    FollowUp,
    FollowUpResolution,
    Lead,
    LeadMerge,
    Source,
    StageChange,
)
from leads.normalize import normalize_email, normalize_linkedin_url
from leads.services.schedule import reschedule, sync_next_follow_up_at
from leads.services.validation import EDITABLE_LEAD_FIELDS, validate
from leads.templatetags.lead_tags import money
from referrals.models import ReferralAsk, ReferralSource

# The fields a person sets, in the order the compare page lists them.
MERGE_FIELDS = EDITABLE_LEAD_FIELDS
# Fields whose two values can also be kept together (tags united, notes one after the other).
COMBINABLE_FIELDS = ("tags", "notes")
# What the cadence reads about contact; the merged lead takes the latest of both.
CONTACT_STATE_FIELDS = (
    "last_contacted_at",
    "last_inbound_at",
    "unanswered_touches",
    "first_unanswered_at",
)
# Undo moves rows back by id in chunks, well under SQLite's limit on query parameters.
ID_CHUNK = 500

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
    """The merges that kept `lead`, newest first (one query)."""
    return list(
        lead.merges.select_related("merged_by", "undone_by").order_by("-merged_at", "-id")[:limit]
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
# How alike two names must be (difflib's ratio) to count as a typo of one another.
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
        if SequenceMatcher(None, self.name, other.name).ratio() >= SIMILAR_NAME_RATIO:
            return SIMILAR_NAME
        # A short form of the first name: Dan and Daniel, Alex and Alexandra.
        short, full = sorted((self.first, other.first), key=len)
        if self.last == other.last and len(short) >= 3 and full.startswith(short):
            return SIMILAR_NAME
        return 0


# --- What a merge would do ---------------------------------------------------------------


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
        field = Lead._meta.get_field(name)
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
                label=capfirst(field.verbose_name),
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
    kept, closed = _pending_kept_and_closed(pending.get(survivor.pk), pending.get(duplicate.pk))
    source = ReferralSource.objects.filter(lead=duplicate).first()
    return MergePreview(
        rows=rows,
        **counts,
        referred_leads=source.referred_leads.count() if source else 0,
        moves_referral_source=source is not None,
        pending_kept=kept,
        pending_closed=closed,
    )


# --- Merging -------------------------------------------------------------------------------


@transaction.atomic
def lead_merge(
    *,
    survivor: Lead,
    duplicate: Lead,
    by: User,
    field_choices: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> LeadMerge:
    """Fold `duplicate` into `survivor` and delete it; returns the record that can undo it.

    `field_choices` names, for fields where both leads have a different value, whose value to
    keep ("survivor", the default; "duplicate"; or "both" for tags and notes). A field only
    the duplicate has is filled in; one only the survivor has is kept. Of two pending
    follow-ups the earlier stays and the other is closed as "merged". The survivor's stage
    stays; the duplicate's stage changes join its timeline.
    """
    now = now or timezone.now()
    choices = dict(field_choices or {})
    if survivor.pk == duplicate.pk:
        raise ValidationError("A lead can't be merged with itself.")
    _check_choices(choices)
    # Both rows locked, in id order so that two merges of the same pair can't deadlock.
    locked = {
        lead.pk: lead
        for lead in selectors.leads_visible_to(by)
        .select_for_update()
        .filter(pk__in=[survivor.pk, duplicate.pk])
        .order_by("pk")
    }
    if len(locked) != 2:
        if Lead.objects.filter(pk__in=[survivor.pk, duplicate.pk]).count() == 2:
            raise PermissionDenied("You can merge only leads you can see.")
        raise ValidationError("One of the two leads was deleted or merged meanwhile.")
    survivor, duplicate = locked[survivor.pk], locked[duplicate.pk]
    if survivor.owner_id != duplicate.owner_id:
        raise ValidationError("Both leads must belong to the same salesperson to be merged.")

    survivor_before = _field_values(survivor)
    duplicate_values = _field_values(duplicate)
    changes = _merged_fields(survivor, duplicate, choices)
    moved: dict[str, object] = {}

    # Follow-ups first: of two pending ones the earlier stays, the other is closed as merged
    # (the database allows one pending follow-up per lead).
    pending = {
        follow_up.lead_id: follow_up
        for follow_up in FollowUp.objects.filter(
            lead__in=[survivor.pk, duplicate.pk], done_at__isnull=True
        )
    }
    _, closed = _pending_kept_and_closed(pending.get(survivor.pk), pending.get(duplicate.pk))
    if closed is not None:
        FollowUp.objects.filter(pk=closed.pk).update(
            done_at=now, resolution=FollowUpResolution.MERGED
        )
        moved["follow_up_closed"] = [closed.pk]
    for kind, model in (
        ("activities", Activity),
        ("stage_changes", StageChange),
        ("follow_ups", FollowUp),
    ):
        moved[kind] = _move(model.objects.filter(lead=duplicate), lead=survivor)
    moved["history"] = list(
        Lead.history.filter(id=duplicate.pk).values_list("history_id", flat=True)
    )
    Lead.history.filter(id=duplicate.pk).update(id=survivor.pk)
    # The sources that are these two people: the merged lead must not be referred by itself.
    own_sources = set(
        ReferralSource.objects.filter(lead__in=[survivor.pk, duplicate.pk]).values_list(
            "pk", flat=True
        )
    )
    moved.update(_move_referrals(survivor, duplicate))
    # Merges that kept the duplicate lose their survivor (as a deletion would do); an undo of
    # this merge gives it back to them.
    earlier_merges = list(LeadMerge.objects.filter(survivor=duplicate))
    moved["merges"] = [merge.pk for merge in earlier_merges]
    moved["history_origins"] = {
        str(history_id): name for history_id, name in merged_history_origins(earlier_merges).items()
    }
    LeadMerge.objects.filter(pk__in=moved["merges"]).update(survivor=None)

    duplicate_name = str(duplicate)[:200]
    duplicate.delete()
    # The deletion wrote a history record under the duplicate's id; the merge is its record.
    Lead.history.filter(id=duplicate_values["id"]).delete()

    if changes.get("referred_by_id", survivor.referred_by_id) in own_sources:
        changes.update(referred_by_id=None, referral_ask_id=None)
    changes.update(_contact_state(survivor, duplicate_values))
    changes = {name: value for name, value in changes.items() if getattr(survivor, name) != value}
    if changes:
        for name, value in changes.items():
            setattr(survivor, name, value)
        validate(survivor)
        survivor._change_reason = f"Merged {duplicate_name} into this lead"[:100]
        survivor._history_user = by
        survivor.save(update_fields=[*(_field_name(name) for name in changes), "updated_at"])

    if not survivor.follow_ups.filter(done_at__isnull=True).exists():
        reschedule(survivor, user=by, now=now, replace_manual=False)
    else:
        sync_next_follow_up_at([survivor.pk])
    survivor.refresh_from_db(fields=["next_follow_up_at"])
    request_rescore(survivor.pk)
    survivor_after = _field_values(survivor)
    merge = LeadMerge.objects.create(
        owner_id=survivor.owner_id,
        survivor=survivor,
        survivor_name=str(survivor)[:200],
        duplicate_id=duplicate_values["id"],
        duplicate_name=duplicate_name,
        duplicate_values=duplicate_values,
        survivor_values=survivor_before,
        survivor_changes={name: survivor_after[name] for name in changes},
        moved=moved,
        merged_by=by,
        merged_at=now,
    )
    _audit(merge, by=by, now=now, undone=False)
    return merge


def _audit(merge: LeadMerge, *, by: User, now: datetime, undone: bool) -> None:
    # Ids only: the audit trail outlives an erasure of either person.
    audit_event_record(
        action=AuditAction.MERGE,
        target=Lead,
        count=2,
        actor=by,
        now=now,
        details={
            "merge_id": merge.pk,
            "survivor_id": merge.survivor_id,
            "duplicate_id": merge.duplicate_id,
            "undone": undone,
        },
    )


def _check_choices(choices: Mapping[str, str]) -> None:
    unknown = set(choices) - set(MERGE_FIELDS)
    if unknown:
        raise ValidationError(f"These fields can't be chosen in a merge: {sorted(unknown)}.")
    for name, keep in choices.items():
        allowed = KEEP_CHOICES if name in COMBINABLE_FIELDS else KEEP_CHOICES[:2]
        if keep not in allowed:
            raise ValidationError({name: f"Choose which value to keep ({', '.join(allowed)})."})


def _merged_fields(survivor: Lead, duplicate: Lead, choices: Mapping[str, str]) -> dict:
    """The survivor's new field values (by attname): blanks filled, picked values taken."""
    changes: dict[str, object] = {}
    for name in MERGE_FIELDS:
        attname = Lead._meta.get_field(name).attname
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


def _contact_state(survivor: Lead, duplicate_values: Mapping[str, object]) -> dict:
    """The cadence's view of the merged lead: the latest contact and answer of either lead,
    and the outbound touches (now all on the survivor) left unanswered since that answer."""
    contacted = [survivor.last_contacted_at, _value(duplicate_values, "last_contacted_at")]
    answered = [survivor.last_inbound_at, _value(duplicate_values, "last_inbound_at")]
    last_contacted_at = max(filter(None, contacted), default=None)
    last_inbound_at = max(filter(None, answered), default=None)
    touches = survivor.activities.filter(kind__in=TOUCH_KINDS, direction=Direction.OUTBOUND)
    touches = touches.exclude(outcome__in=ANSWERED_OUTCOMES)
    if last_inbound_at is not None:
        touches = touches.filter(occurred_at__gt=last_inbound_at)
    streak = touches.aggregate(count=Count("id"), first=Min("occurred_at"))
    return {
        "last_contacted_at": last_contacted_at,
        "last_inbound_at": last_inbound_at,
        "unanswered_touches": streak["count"],
        "first_unanswered_at": streak["first"],
    }


def _pending_kept_and_closed(
    ours: FollowUp | None, theirs: FollowUp | None
) -> tuple[FollowUp | None, FollowUp | None]:
    """Of the two leads' pending follow-ups, the one kept (the earlier) and the one closed."""
    if ours is None or theirs is None:
        return ours or theirs, None
    if (theirs.due_at, theirs.pk) < (ours.due_at, ours.pk):
        return theirs, ours
    return ours, theirs


def _move_referrals(survivor: Lead, duplicate: Lead) -> dict[str, list[int]]:
    """The duplicate as a referral source goes to the survivor: the source itself when the
    survivor has none, otherwise the leads it referred and the asks made to it."""
    source = ReferralSource.objects.filter(lead=duplicate).first()
    if source is None:
        return {}
    ours = ReferralSource.objects.filter(lead=survivor).first()
    if ours is None:
        ReferralSource.objects.filter(pk=source.pk).update(lead=survivor)
        return {"referral_source": [source.pk]}
    referred = _move(
        Lead.objects.filter(referred_by=source).exclude(pk=survivor.pk), referred_by=ours
    )
    asks = _move(ReferralAsk.objects.filter(source=source), source=ours)
    ReferralSource.objects.filter(pk=source.pk).update(lead=None)
    return {
        "referral_source_unlinked": [source.pk],
        "referral_source_into": [ours.pk],
        "referred_leads": referred,
        "referral_asks": asks,
    }


def _move(rows: QuerySet, **to: object) -> list[int]:
    """Point `rows` elsewhere; returns their ids (read first, for the undo)."""
    ids = list(rows.order_by("pk").values_list("pk", flat=True))
    if ids:
        rows.update(**to)
    return ids


# --- Undoing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MergeUndone:
    restored: Lead  # the merged lead, back with its own id
    survivor: Lead
    kept_edits: list[str]  # fields of the survivor edited since the merge, left as they are


@transaction.atomic
def lead_merge_undo(*, merge: LeadMerge, by: User, now: datetime | None = None) -> MergeUndone:
    """Bring the merged lead back with its own id, move back exactly the rows that moved, and
    give the survivor back the values the merge changed (those not edited since).

    Refused with a reason when the merge was already undone, when the survivor has been
    deleted since, or when the merged lead's email or LinkedIn profile now belongs to another
    lead.
    """
    now = now or timezone.now()
    try:
        merge = merges_visible_to(by).select_for_update().get(pk=merge.pk)
    except LeadMerge.DoesNotExist:
        raise PermissionDenied("You can undo only merges of leads you can see.") from None
    if merge.undone_at is not None:
        when = timezone.localtime(merge.undone_at)
        raise ValidationError(f"This merge was already undone on {when:%-d %b %Y, %H:%M}.")
    survivor = (
        selectors.leads_visible_to(by).select_for_update().filter(pk=merge.survivor_id).first()
        if merge.survivor_id
        else None
    )
    if survivor is None:
        raise ValidationError(
            f"{merge.survivor_name}, the lead {merge.duplicate_name} was merged into, has been "
            "deleted or merged into another lead since, so this merge can't be undone."
        )
    if survivor.owner_id != merge.owner_id:
        raise ValidationError(
            f"{survivor} has been given to {survivor.owner} since the merge, so "
            f"{merge.duplicate_name} can't be brought back."
        )
    if Lead.objects.filter(pk=merge.duplicate_id).exists():
        raise ValidationError(f"A lead with id {merge.duplicate_id} exists again; can't undo.")

    kept_edits = _restore_survivor(survivor, merge, by=by)
    duplicate = _recreate_duplicate(merge)
    moved = merge.moved

    for kind, model in (
        ("activities", Activity),
        ("stage_changes", StageChange),
        ("follow_ups", FollowUp),
    ):
        _move_back(model.objects.all(), moved.get(kind, []), lead_id=duplicate.pk)
    _move_back(Lead.history.all(), moved.get("history", []), id=duplicate.pk, key="history_id")
    _reopen_closed_follow_up(moved.get("follow_up_closed", []))
    if moved.get("referral_source"):
        ReferralSource.objects.filter(pk__in=moved["referral_source"], lead=survivor).update(
            lead=duplicate
        )
    if moved.get("referral_source_unlinked"):
        source_id = moved["referral_source_unlinked"][0]
        ReferralSource.objects.filter(pk=source_id, lead__isnull=True).update(lead=duplicate)
        into = moved.get("referral_source_into", [None])[0]
        _move_back(
            Lead.objects.filter(referred_by_id=into),
            moved.get("referred_leads", []),
            referred_by_id=source_id,
        )
        _move_back(
            ReferralAsk.objects.filter(source_id=into),
            moved.get("referral_asks", []),
            source_id=source_id,
        )
    if moved.get("merges"):
        LeadMerge.objects.filter(pk__in=moved["merges"], survivor__isnull=True).update(
            survivor=duplicate
        )

    for lead in (survivor, duplicate):
        if not lead.follow_ups.filter(done_at__isnull=True).exists():
            reschedule(lead, user=by, now=now, replace_manual=False)
    sync_next_follow_up_at([survivor.pk, duplicate.pk])

    merge.undone_at = now
    merge.undone_by = by
    merge.save(update_fields=["undone_at", "undone_by"])
    _audit(merge, by=by, now=now, undone=True)
    request_rescore(survivor.pk)
    request_rescore(duplicate.pk)
    return MergeUndone(restored=duplicate, survivor=survivor, kept_edits=kept_edits)


def _restore_survivor(survivor: Lead, merge: LeadMerge, *, by: User) -> list[str]:
    """Give the survivor back what the merge changed, unless it was edited since (then the
    later edit stays); returns the labels of the fields kept that way."""
    restored, kept = {}, []
    for name, after in merge.survivor_changes.items():
        field = Lead._meta.get_field(_field_name(name))
        if getattr(survivor, name) == field.to_python(after):
            restored[name] = field.to_python(merge.survivor_values.get(name))
        elif field.name in MERGE_FIELDS:
            kept.append(str(capfirst(field.verbose_name)))
    restored = _existing_relations(restored)
    if restored:
        for name, value in restored.items():
            setattr(survivor, name, value)
        _raise_on_conflict(survivor, "the kept lead")
        survivor._change_reason = f"Undid the merge of {merge.duplicate_name}"[:100]
        survivor._history_user = by
        survivor.save(update_fields=[*(_field_name(name) for name in restored), "updated_at"])
    return kept


def _recreate_duplicate(merge: LeadMerge) -> Lead:
    values = {
        field.attname: field.to_python(merge.duplicate_values[field.attname])
        for field in Lead._meta.concrete_fields
        if field.attname in merge.duplicate_values
    }
    values = _existing_relations(values)
    duplicate = Lead(**values)
    _raise_on_conflict(duplicate, merge.duplicate_name)
    # Its history comes back with the moved records; the re-insert itself is not a change.
    duplicate.save_without_historical_record(force_insert=True)
    # auto_now_add / auto_now stamped the insert with now; the lead keeps its own dates.
    Lead.objects.filter(pk=duplicate.pk).update(
        created_at=values["created_at"], updated_at=values["updated_at"]
    )
    duplicate.created_at, duplicate.updated_at = values["created_at"], values["updated_at"]
    return duplicate


def _raise_on_conflict(lead: Lead, who: str) -> None:
    """Another lead now holds this lead's email or LinkedIn profile: name it and refuse."""
    for name in ("email", "linkedin_url"):
        value = getattr(lead, name)
        if not value:
            continue
        holder = (
            Lead.objects.filter(owner_id=lead.owner_id, **{name: value}).exclude(pk=lead.pk).first()
        )
        if holder is not None:
            what = "email address" if name == "email" else "LinkedIn profile"
            raise ValidationError(
                f"Can't undo: {holder} (#{holder.pk}) now has {who}'s {what} {value}. "
                "Change or merge that lead first."
            )


# Related rows a stored value may point at; one deleted since is left out rather than broken.
RELATIONS = {
    "company_id": Company,
    "referred_by_id": ReferralSource,
    "referral_ask_id": ReferralAsk,
    # The ICP model sits above leads: named through the field, not imported.
    "best_icp_id": Lead._meta.get_field("best_icp").related_model,
}


def _existing_relations(values: dict[str, object]) -> dict[str, object]:
    values = dict(values)
    for attname, model in RELATIONS.items():
        related_id = values.get(attname)
        if related_id is not None and not model.objects.filter(pk=related_id).exists():
            values[attname] = None
    return values


def _reopen_closed_follow_up(ids: list[int]) -> None:
    """The follow-up the merge closed is pending again, unless its lead has another by now."""
    for follow_up in FollowUp.objects.filter(pk__in=ids, resolution=FollowUpResolution.MERGED):
        if not FollowUp.objects.filter(lead_id=follow_up.lead_id, done_at__isnull=True).exists():
            FollowUp.objects.filter(pk=follow_up.pk).update(done_at=None, resolution="")


def _move_back(rows: QuerySet, ids: list[int], *, key: str = "pk", **to: object) -> None:
    for start in range(0, len(ids), ID_CHUNK):
        rows.filter(**{f"{key}__in": ids[start : start + ID_CHUNK]}).update(**to)


# --- Values --------------------------------------------------------------------------------


def _field_values(lead: Lead) -> dict[str, object]:
    """Every column of the lead by attname (company_id, …), JSON-ready with DjangoJSONEncoder."""
    return {field.attname: getattr(lead, field.attname) for field in Lead._meta.concrete_fields}


FIELD_NAMES = {field.attname: field.name for field in Lead._meta.concrete_fields}


def _field_name(attname: str) -> str:
    return FIELD_NAMES[attname]


def _value(values: Mapping[str, object], attname: str) -> object:
    return Lead._meta.get_field(_field_name(attname)).to_python(values.get(attname))


def _in_words(lead: Lead, name: str) -> str:
    """A field's value as the compare page shows it."""
    field = Lead._meta.get_field(name)
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
