"""Normalising and validating a lead, an activity or a company before any write, one by one or in
bulk; which lead fields a person may set and which of them the scoring reads.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.core import validators
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q, UniqueConstraint

from accounts.models import User
from leads.fields import own_field
from leads.models import (
    Activity,
    Company,
    Lead,
    Source,
    Stage,
    furthest_stage,
)
from leads.normalize import (
    PLAIN_PROFILE_URL,
    normalize_email,
    normalize_linkedin_url,
    normalize_phone,
)
from leads.seniority import seniority_from_title

# Fields a person may set on a lead; scores, owner and denormalised fields are not among them.
EDITABLE_LEAD_FIELDS = (
    "first_name",
    "last_name",
    "title",
    "seniority",
    "email",
    "phone",
    "linkedin_url",
    "company",
    "source",
    "source_detail",
    "referred_by",
    "expected_value",
    "currency",
    "expected_close_date",
    "do_not_contact",
    "tags",
    "notes",
)


# Edits to these change what the scoring sees.
SCORED_FIELDS = {"title", "seniority", "company", "source", "referred_by", "tags"}


def normalise_lead(lead: Lead) -> None:
    lead.first_name = lead.first_name.strip()
    lead.last_name = lead.last_name.strip()
    lead.email = normalize_email(lead.email)
    lead.linkedin_url = normalize_linkedin_url(lead.linkedin_url)
    region = lead.company.country if lead.company_id and lead.company else ""
    lead.phone = normalize_phone(lead.phone, region=region)
    lead.tags = clean_tags(lead.tags)
    if isinstance(lead.expected_value, int | float | str) and lead.expected_value != "":
        lead.expected_value = Decimal(str(lead.expected_value))
    if lead.referred_by_id and not lead.source_detail and lead.source == Source.OTHER:
        lead.source = Source.REFERRAL


def validate(instance: Lead | Activity | Company) -> None:
    """full_clean, with the database's unique constraints checked for a clear message.

    Check constraints stay a database guard only: their rules (choices, scores, name or email)
    are already validated field by field, and checking them here costs a query each.
    """
    errors: dict[str, list] = {}
    try:
        instance.full_clean(validate_constraints=False)
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    if isinstance(instance, Lead) and not (
        instance.first_name or instance.last_name or instance.email
    ):
        errors.setdefault("__all__", []).append(
            ValidationError("Give the lead a name or an email address.")
        )
    for message in _unique_conflicts(instance):
        errors.setdefault("__all__", []).append(ValidationError(message))
    if errors:
        raise ValidationError(errors)


def _unique_conflicts(instance: Lead | Activity | Company) -> list[str]:
    """The messages of the unique constraints another row already holds.

    One light EXISTS per constraint whose fields are all filled. Every unique constraint here
    exempts blank values (that is their condition), so a blank field can't conflict; checking it
    this way rather than with UniqueConstraint.validate (which also queries the condition)
    halves the cost of each lead write, which imports feel most.
    """
    model = type(instance)
    conflicts = []
    for constraint in model._meta.constraints:
        blank_exempt = [~Q(**{name: ""}) for name in getattr(constraint, "fields", ())]
        if not isinstance(constraint, UniqueConstraint) or constraint.condition not in blank_exempt:
            continue
        values = {
            name: getattr(instance, own_field(model, name).attname) for name in constraint.fields
        }
        if any(value in ("", None) for value in values.values()):
            continue
        if model._default_manager.filter(**values).exclude(pk=instance.pk).exists():
            conflicts.append(str(constraint.violation_error_message))
    return conflicts


def check_same_owner(lead: Lead) -> None:
    """A lead may point only at its own owner's company and referral source."""
    if lead.company is not None and lead.company.owner_id != lead.owner_id:
        raise ValidationError({"company": "Choose one of your own companies."})
    if lead.referred_by is not None and lead.referred_by.owner_id != lead.owner_id:
        raise ValidationError({"referred_by": "Choose one of your own referral sources."})


def clean_tags(tags: str | Iterable[object] | None) -> list[str]:
    if isinstance(tags, str):
        tags = tags.split(",")
    seen: dict[str, None] = {}
    for tag in tags or []:
        tag = str(tag).strip().lower()
        if tag:
            seen.setdefault(tag, None)
    return list(seen)


def unsaved_lead(
    caller: str, *, owner: User, stage: str, now: datetime, fields: Mapping[str, object]
) -> Lead:
    """The lead `lead_create` and `lead_new` build: editable fields only, normalised, its
    company the owner's; not yet validated (each validates its own way)."""
    unknown = set(fields) - set(EDITABLE_LEAD_FIELDS)
    if unknown:
        raise TypeError(f"{caller}() got fields it does not accept: {sorted(unknown)}")
    lead = _new_lead({"owner": owner, "stage": stage, "stage_changed_at": now, **fields})
    lead.furthest_stage = furthest_stage(stage)
    if stage == Stage.WON:
        lead.won_at = now
    normalise_lead(lead)
    if not lead.seniority:
        lead.seniority = seniority_from_title(lead.title)
    check_same_owner(lead)
    return lead


@dataclass(frozen=True)
class _LeadLayout:
    """Where each of a lead's own values goes among `Lead(*values)`'s positional values."""

    position: Mapping[str, int]  # by name (a relation's by its attname: owner_id)
    relations: frozenset[str]  # set through their descriptors once the lead is built
    defaults: tuple[object, ...]  # a value for every column, in order
    factories: tuple[tuple[int, Callable[[], object]], ...]  # defaults made anew for each lead


@functools.cache
def _lead_layout() -> _LeadLayout:
    fields = Lead._meta.concrete_fields
    made = {index for index, field in enumerate(fields) if _default_is_made(field)}
    return _LeadLayout(
        position={
            (field.attname if field.is_relation else field.name): index
            for index, field in enumerate(fields)
        },
        relations=frozenset(field.name for field in fields if field.is_relation),
        defaults=tuple(
            None if index in made else field.get_default() for index, field in enumerate(fields)
        ),
        factories=tuple((index, fields[index].get_default) for index in sorted(made)),
    )


def _default_is_made(field: models.Field) -> bool:
    """Whether the field's default is made by a call (`default=list`), one for each lead."""
    return field.has_default() and callable(field.default)


def _new_lead(values: Mapping[str, object]) -> Lead:
    """`Lead(**values)`, built from positional values: Django's keyword path looks up each of
    the model's fields by name and makes its default, which was half the cost of `lead_new`
    for an import. Relations (the owner, the company, …) are set through their descriptors, as
    the keyword path sets them, so they are checked and cached the same."""
    layout = _lead_layout()
    args = list(layout.defaults)
    for index, make_default in layout.factories:
        args[index] = make_default()
    related: dict[str, object] = {}
    for name, value in values.items():
        position = layout.position.get(name)
        if position is not None:
            args[position] = value
        elif name in layout.relations:
            related[name] = value
        else:
            raise TypeError(f"Lead() got unexpected keyword arguments: '{name}'")  # as Django
    lead = Lead(*args)
    for name, value in related.items():
        setattr(lead, name, value)
    return lead


# Addresses this process found valid. An import checks each address twice (its row's
# candidate, then `lead_new`): the second check is then a look-up. Bounded: cleared when full.
_VALID_EMAILS: dict[str, None] = {}
_VALID_EMAILS_REMEMBERED = 50_000


def check_email(address: str) -> None:
    """Django's email validator (as an EmailField's clean() runs it): ValidationError when the
    address is not valid."""
    if address in _VALID_EMAILS:
        return
    validators.validate_email(address)
    if len(_VALID_EMAILS) >= _VALID_EMAILS_REMEMBERED:
        _VALID_EMAILS.clear()
    _VALID_EMAILS[address] = None


class _Kind(enum.Enum):
    """The fields whose clean() `passes_clean` can answer for without running it."""

    TEXT = "text"
    EMAIL = "email"
    URL = "url"
    DATETIME = "datetime"
    JSON = "json"


def passes_clean(model: type[models.Model], name: str, value: object) -> bool:
    """True when `value` is one that the field's clean() surely passes unchanged, decided
    without running it: text within its length (or one of its choices), an address already
    found valid here, a LinkedIn profile URL in the form `normalize_linkedin_url` writes, an
    aware datetime, a list of texts. False means: run clean().

    clean() is most of the cost of validating an import's leads in memory (`lead_new`).
    """
    known = _field_kind(model, name)
    if known is None:
        return False
    model_field, kind, choices = known
    if kind is _Kind.DATETIME:
        if value is None:
            return model_field.null and model_field.blank
        return isinstance(value, datetime) and value.tzinfo is not None
    if kind is _Kind.JSON:
        return (
            type(value) is list
            and (bool(value) or model_field.blank)
            and all(type(tag) is str for tag in value)
        )
    if not isinstance(value, str):  # choices' members (Stage.NEW) are texts too
        return False
    if not value:
        return model_field.blank
    if choices:
        return value in choices
    max_length = model_field.max_length
    if (max_length is not None and len(value) > max_length) or "\x00" in value:
        return False
    if kind is _Kind.EMAIL:
        try:
            check_email(value)
        except ValidationError:
            return False
    if kind is _Kind.URL:
        return PLAIN_PROFILE_URL.fullmatch(value) is not None
    return True


@functools.cache
def _field_kind(
    model: type[models.Model], name: str
) -> tuple[models.Field, _Kind, frozenset[str]] | None:
    """What `passes_clean` knows of a field: the field, its kind and its choices (empty if
    none), or None for a field whose clean() it does not answer for."""
    model_field = model._meta.get_field(name)
    if not isinstance(model_field, models.Field):  # a reverse relation
        return None
    if not all(isinstance(value, str) for value, _label in model_field.flatchoices):
        return None
    choices = frozenset(value for value, _label in model_field.flatchoices)
    field_type = type(model_field)
    kind = {
        models.CharField: _Kind.TEXT,
        models.TextField: _Kind.TEXT,
        models.EmailField: _Kind.EMAIL,
        models.URLField: _Kind.URL,
        models.DateTimeField: _Kind.DATETIME,
        models.JSONField: _Kind.JSON,
    }.get(field_type)
    if kind is None or (choices and kind is not _Kind.TEXT):
        return None
    # Only fields whose validators are the ones clean() runs on any field of their type (the
    # very objects: a URLValidator with other schemes compares equal to the default one), and
    # a text field's own length and NUL checks.
    own_validators = [
        validator
        for validator in model_field.validators
        if not any(validator is default for default in field_type.default_validators)
    ]
    if not all(_checks_only_text(model_field, validator) for validator in own_validators):
        return None
    if kind in (_Kind.DATETIME, _Kind.JSON) and own_validators:
        return None
    return model_field, kind, choices


def _checks_only_text(model_field: models.Field, validator: object) -> bool:
    if isinstance(validator, validators.MaxLengthValidator):
        return validator.limit_value == model_field.max_length
    return isinstance(validator, validators.ProhibitNullCharactersValidator)
