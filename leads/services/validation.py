"""Normalising and validating a lead, an activity or a company before any write, one by one or in
bulk; which lead fields a person may set and which of them the scoring reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
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
    lead = Lead(owner=owner, stage=stage, stage_changed_at=now, **fields)
    lead.furthest_stage = furthest_stage(stage)
    if stage == Stage.WON:
        lead.won_at = now
    normalise_lead(lead)
    if not lead.seniority:
        lead.seniority = seniority_from_title(lead.title)
    check_same_owner(lead)
    return lead
