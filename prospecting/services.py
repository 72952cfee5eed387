"""Writes from the prospecting pages, each through the owning app's services: an intro ask is a
referral ask (referrals), a lookalike joins the network pool (leads)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from accounts.models import User
from accounts.selectors import team_settings
from leads.models import FollowUp, Lead
from leads.services import lead_reconnect_add
from referrals.models import AskChannel, ReferralAsk, ReferralSource, SourceKind
from referrals.services import (
    referral_ask_record,
    referral_source_create,
    referral_source_from_lead,
)

TEAMMATE_NOTE = "Teammate: asked for introductions from “Who do I know at …?”."


def _int(value: str) -> int:
    if not value.isdigit():
        raise ValidationError("That person is no longer on the list: search again.")
    return int(value)


@transaction.atomic
def intro_ask_start(
    *, user: User, key: str, company: str, channel: str = AskChannel.EMAIL
) -> tuple[ReferralSource, ReferralAsk]:
    """Record an intro ask with the person a warm path names (`prospecting.paths.Path.key`).

    "lead:N" is one of the user's leads: made a referral source first if it is not one (a won
    customer as a customer, anyone else as a friend / contact). "source:N" is one of their
    referral sources. "teammate:U:lead:N" is a teammate's contact at the company (only while
    the team shares contacts): the ask goes to the teammate, kept as the user's referral source
    "friend / contact", so it shows with their other asks. Raises ValidationError when the
    person can't be asked (opted out, gone) and PermissionDenied for a teammate's contact
    when sharing is off.
    """
    kind, _, rest = key.partition(":")
    if kind == "lead":
        lead = Lead.objects.filter(owner=user, pk=_int(rest)).first()
        if lead is None:
            raise ValidationError("That person is no longer one of your leads.")
        if lead.do_not_contact:
            raise ValidationError(f"{lead} asked not to be contacted.")
        source = referral_source_from_lead(lead=lead, user=user)
        note = f"Intro at {company}"
    elif kind == "source":
        found = ReferralSource.objects.filter(owner=user, pk=_int(rest)).first()
        if found is None:
            raise ValidationError("That referral source is no longer yours.")
        source = found
        note = f"Intro at {company}"
    elif kind == "teammate":
        teammate_id, _, lead_part = rest.partition(":lead:")
        if not team_settings().share_contacts:
            raise PermissionDenied("Your team does not share contacts for introductions.")
        contact = (
            Lead.objects.filter(pk=_int(lead_part), owner_id=_int(teammate_id))
            .exclude(owner=user)
            .select_related("owner")
            .only("first_name", "last_name", "email", "title", "owner")
            .first()
        )
        if contact is None or not contact.owner.is_active:
            raise ValidationError("That teammate's contact is no longer there.")
        source = _teammate_as_source(user=user, teammate=contact.owner)
        who = f"{contact.first_name} {contact.last_name}".strip() or "a contact"
        note = f"Intro to {who}{f' ({contact.title})' if contact.title else ''} at {company}"
    else:
        raise ValidationError("That person is no longer on the list: search again.")
    ask = referral_ask_record(source=source, user=user, channel=channel, note=note[:300])
    return source, ask


def _teammate_as_source(*, user: User, teammate: User) -> ReferralSource:
    email = (teammate.email or "").strip().lower()
    existing = ReferralSource.objects.filter(owner=user, email=email, lead__isnull=True)
    if email and (source := existing.order_by("pk").first()) is not None:
        return source
    return referral_source_create(
        owner=user,
        name=str(teammate),
        email=email,
        kind=SourceKind.FRIEND,
        strength=4,
        notes=TEAMMATE_NOTE,
    )


def lookalike_add_to_reconnects(*, user: User, lead: Lead) -> FollowUp:
    """One of the user's own unworked contacts joins their reconnect plan (the network pool)."""
    if lead.owner_id != user.pk:
        raise ValidationError("That contact is not one of your leads.")
    return lead_reconnect_add(lead=lead, user=user)
