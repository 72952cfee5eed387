"""Many leads at once, for imports: leads and companies built and validated in memory, then written
in a few statements per batch (`bulk_sql`), with the same normalising and checks as one-by-one
writes, their first follow-ups and their change-history rows.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from accounts.models import User
from leads import cadence
from leads.dependents import request_rescore
from leads.models import (
    OPEN_STAGES,
    Company,
    FollowUp,
    FollowUpKind,
    Lead,
    Stage,
    StageChange,
)
from leads.normalize import (
    normalize_domain,
)
from leads.seniority import seniority_from_title
from leads.services.bulk_sql import (
    BULK_BATCH_SIZE,
    LeadColumn,
    bulk_insert,
    history_rows_insert,
    insert_per_lead,
)
from leads.services.reconnects import RECONNECT_RULE
from leads.services.validation import (
    EDITABLE_LEAD_FIELDS,
    SCORED_FIELDS,
    check_same_owner,
    normalise_lead,
    passes_clean,
    unsaved_lead,
)


def _is_empty(value: object) -> bool:
    return value is None or value == "" or value == []


# Set by lead_new on the leads it checked; leads_bulk_create takes no other.
_CHECKED_FOR_BULK = "_checked_for_bulk"


# The fields normalise_lead may rewrite.
_NORMALISED_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "linkedin_url",
    "phone",
    "tags",
    "expected_value",
    "source",
)


def company_new(*, owner: User, name: str, domain: str = "") -> Company:
    """An unsaved company, normalised and validated as `company_create` would, without a query.

    For `leads_bulk_create` (or `leads_bulk_fill_empty_fields`), which saves it with the leads
    that point at it. Whether the owner already has this domain is the caller's to know (an
    import has the owner's companies in memory); the database's unique constraint has the last
    word.
    """
    company = Company(owner=owner, name=name.strip(), domain=normalize_domain(domain))
    company.full_clean(
        exclude=_not_given(Company, frozenset({"name", "domain"})),
        validate_unique=False,
        validate_constraints=False,
    )
    return company


def lead_new(
    *, owner: User, stage: str = Stage.NEW, now: datetime | None = None, **fields: object
) -> Lead:
    """An unsaved lead, normalised and validated as `lead_create` would, without a query.

    For `leads_bulk_create`. Left out are the checks that cost a query each: whether the owner
    already has a lead with this email or LinkedIn profile (an import knows the owner's keys
    and matches rows against them; the database's unique constraints have the last word) and
    whether the company exists (it is the owner's, checked here, and saved or from
    `company_new`). Fields not given keep the model's defaults and are not re-checked.
    """
    lead = unsaved_lead(
        "lead_new", owner=owner, stage=stage, now=now or timezone.now(), fields=fields
    )
    _validate_without_queries(lead, {*fields, "stage", "stage_changed_at", "won_at"})
    setattr(lead, _CHECKED_FOR_BULK, True)
    return lead


@transaction.atomic
def leads_bulk_create(
    *,
    leads: Sequence[Lead],
    created_by: User | None = None,
    now: datetime | None = None,
    reconnects_due: Sequence[datetime] | None = None,
) -> list[Lead]:
    """Create many leads from `lead_new` as `lead_create` creates one, in a few statements per
    thousand leads: each gets its "+" history row, its first stage-history row, its first
    follow-up (and next_follow_up_at), and a rescore request — inside `deferred_rescores`, as
    an import runs, that is one owner-wide rescore at the end. New companies the leads point at
    (from `company_new`) are created first.

    With `reconnects_due` (one time per lead: an import into the network pool, from
    `reconnect_slots`), an open lead's first step is a reconnect due then instead of the
    cadence's first touch on the next business day.

    All or nothing: when the database refuses a row (a unique email or profile another write
    took meanwhile) it raises IntegrityError and nothing is written; the caller can retry the
    leads one by one to find the row.
    """
    if not leads:
        return []
    if not all(getattr(lead, _CHECKED_FOR_BULK, False) for lead in leads):
        raise TypeError("leads_bulk_create() takes leads from lead_new() only.")
    if reconnects_due is not None and len(reconnects_due) != len(leads):
        raise ValueError("leads_bulk_create() needs one reconnect time per lead.")
    now = now or timezone.now()
    _save_new_companies(leads)
    # The cadence's first step, from the moment the leads are created (as `reschedule`): the
    # same for every lead of one owner in one stage.
    first_steps: dict[tuple, cadence.DueFollowUp | None] = {}
    reconnecting: dict[int, datetime] = {}  # index in `leads` → the reconnect's due time
    for index, lead in enumerate(leads):
        if reconnects_due is not None and lead.stage in OPEN_STAGES:
            reconnecting[index] = lead.next_follow_up_at = reconnects_due[index]
            continue
        key = (lead.owner_id, lead.stage, lead.stage_changed_at, lead.won_at)
        if key not in first_steps:
            state = _cadence_state_of_new(lead, created_at=now)
            first_steps[key] = cadence.due_follow_up(state, lead.owner.zone)
        due = first_steps[key]
        lead.next_follow_up_at = due.due_at if due else None
    created = bulk_insert(Lead, list(leads))
    history_rows_insert(created, history_type="+", user=created_by, when=now)
    # The stage-history rows and follow-ups are copied from the lead rows just written, a
    # statement per kind of row, rather than built in Python one per lead.
    by_user: dict[int, list[Lead]] = defaultdict(list)
    for lead in created:
        by_user[created_by.pk if created_by else lead.owner_id].append(lead)
    for user_id, user_leads in by_user.items():
        insert_per_lead(
            StageChange,
            user_leads,
            {
                "lead": LeadColumn("id"),
                "from_stage": "",
                "to_stage": LeadColumn("stage"),
                "changed_by": user_id,
                "changed_at": now,
            },
            now=now,
        )
    by_step: dict[cadence.DueFollowUp, list[Lead]] = defaultdict(list)
    for index, lead in enumerate(created):
        if index in reconnecting:
            continue
        due = first_steps[(lead.owner_id, lead.stage, lead.stage_changed_at, lead.won_at)]
        if due is not None:
            by_step[due].append(lead)
    if reconnecting:
        # Each reconnect has its own day: built here and written as rows (COPY on PostgreSQL).
        bulk_insert(
            FollowUp,
            [
                FollowUp(
                    lead_id=created[index].pk,
                    kind=FollowUpKind.RECONNECT,
                    due_at=due_at,
                    rule=RECONNECT_RULE,
                )
                for index, due_at in reconnecting.items()
            ],
        )
    for due, step_leads in by_step.items():
        insert_per_lead(
            FollowUp,
            step_leads,
            {"lead": LeadColumn("id"), "kind": due.kind, "due_at": due.due_at, "rule": due.rule},
            now=now,
        )
    for lead in created:
        request_rescore(lead.pk)
    return created


@transaction.atomic
def leads_bulk_fill_empty_fields(
    *,
    owner: User,
    user: User,
    values_by_lead: Mapping[int, Mapping[str, object]],
    now: datetime | None = None,
) -> dict[int, list[str]]:
    """Give many of one owner's leads the values they lack, never overwriting one they have
    (what they typed in is theirs and stays): returns what was filled, by id.

    The leads are re-read under a lock in one query, so a field filled by someone else since
    the caller looked is left alone; each is normalised and checked as `lead_update` would
    (the unique email and profile by the database's constraints: IntegrityError, nothing
    written) and all are written with one UPDATE and a "~" history row each. A lead that is
    not found (deleted meanwhile, or not the owner's) is missing from the result. New
    companies in the values (from `company_new`) are created first. Raises ValidationError for
    a value that does not validate, writing nothing.
    """
    unknown = {name for values in values_by_lead.values() for name in values} - set(
        EDITABLE_LEAD_FIELDS
    )
    if unknown:
        raise TypeError(f"Fields that can't be filled in: {sorted(unknown)}")
    now = now or timezone.now()
    leads = list(
        Lead.objects.select_for_update(of=("self",))
        .select_related("company")
        .filter(owner=owner, pk__in=list(values_by_lead))
        .order_by("pk")
    )
    filled: dict[int, list[str]] = {}
    changed: list[Lead] = []
    fills_of: dict[int, dict[str, object]] = {}  # by lead id: the values written
    for lead in leads:
        fills = {
            name: value
            for name, value in values_by_lead[lead.pk].items()
            if not _is_empty(value) and _is_empty(getattr(lead, name))
        }
        # As `lead_update` does for one lead: the title's seniority, when none is set.
        if (
            "title" in fills
            and not lead.seniority
            and not fills.get("seniority")
            and (seniority := seniority_from_title(str(fills["title"])))
        ):
            fills["seniority"] = seniority
        filled[lead.pk] = sorted(fills)
        if not fills:
            continue
        kept = {name: getattr(lead, name) for name in _NORMALISED_FIELDS if name not in fills}
        for name, value in fills.items():
            setattr(lead, name, value)
        normalise_lead(lead)
        for name, value in kept.items():  # as lead_update, which saves the filled fields only
            setattr(lead, name, value)
        check_same_owner(lead)
        _validate_without_queries(lead, set(fills))
        lead.updated_at = now
        lead._history_user = user
        fills_of[lead.pk] = fills
        changed.append(lead)
    if not changed:
        return filled
    _save_new_companies(changed)
    written = sorted({name for lead in changed for name in fills_of[lead.pk]})
    Lead.objects.bulk_update(changed, [*written, "updated_at"], batch_size=BULK_BATCH_SIZE)
    history_rows_insert(changed, history_type="~", user=user, when=now)
    for lead in changed:
        if SCORED_FIELDS & fills_of[lead.pk].keys():
            request_rescore(lead.pk)
    return filled


def companies_bulk_set_domain(*, companies: Sequence[Company], now: datetime | None = None) -> int:
    """Record the domain now known for companies that had none, as `company_find_or_create`
    does for one; a domain set meanwhile is kept. Returns how many were updated."""
    if not companies:
        return 0
    now = now or timezone.now()
    for company in companies:
        company.domain = normalize_domain(company.domain)
        company.updated_at = now
    return Company.objects.filter(domain="").bulk_update(
        companies, ["domain", "updated_at"], batch_size=BULK_BATCH_SIZE
    )


@functools.cache
def _not_given(model: type[models.Model], given: frozenset[str]) -> frozenset[str]:
    return frozenset(
        model_field.name
        for model_field in model._meta.concrete_fields
        if model_field.name not in given
    )


# A relation's clean() reads the row it points at; `check_same_owner` checks the company and
# the referral source without a query, and the foreign keys have the last word.
_LEAD_RELATIONS = frozenset(field.name for field in Lead._meta.concrete_fields if field.is_relation)


def _validate_without_queries(lead: Lead, given: set[str]) -> None:
    """`validate` for the fields given, less its queries: foreign keys are left to
    `check_same_owner` and unique constraints to the database."""
    errors: dict[str, list] = {}
    # Values that surely pass clean() as they are (text within its length, an address already
    # found valid, …) are not cleaned again: for most of an import's leads that is every
    # value, and full_clean() was a third of the cost of `lead_new`.
    left = (
        frozenset(name for name in given if not passes_clean(Lead, name, getattr(lead, name)))
        - _LEAD_RELATIONS
    )
    try:
        if left:
            exclude = _not_given(Lead, left) | _LEAD_RELATIONS
            lead.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
        else:
            lead.clean()  # what full_clean() runs besides the fields' checks
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    if not (lead.first_name or lead.last_name or lead.email):
        errors.setdefault("__all__", []).append(
            ValidationError("Give the lead a name or an email address.")
        )
    if errors:
        raise ValidationError(errors)


def _save_new_companies(leads: Sequence[Lead]) -> None:
    """Create, in one statement, the unsaved companies (from `company_new`) leads point at."""
    field = Lead._meta.get_field("company")
    new: dict[int, Company] = {}
    for lead in leads:
        if field.is_cached(lead) and (company := lead.company) is not None and company.pk is None:
            new.setdefault(id(company), company)
    if new:
        bulk_insert(Company, list(new.values()))


def _cadence_state_of_new(lead: Lead, *, created_at: datetime) -> cadence.CadenceState:
    return cadence.CadenceState(
        stage=lead.stage,
        created_at=created_at,
        stage_changed_at=lead.stage_changed_at,
        won_at=lead.won_at,
    )
