"""Writes to referral sources and asks."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from accounts.models import User
from icp.rescoring import request_rescore
from leads.models import ActivityKind, FollowUpKind, Lead, Source, Stage
from leads.referrers import ReferrerChoice
from leads.services import company_find_or_create, lead_create
from referrals.models import AskChannel, AskOutcome, ReferralAsk, ReferralSource, SourceKind
from referrals.selectors import referrer_options

# A customer is asked for a referral once they have been a customer for a month.
CUSTOMER_FIRST_ASK_AFTER = timedelta(days=30)
SOURCE_FIELDS = ("name", "email", "kind", "strength", "ask_cadence_days", "opted_out", "notes")


@transaction.atomic
def referral_source_create(
    *,
    owner: User,
    name: str,
    lead: Lead | None = None,
    now: datetime | None = None,
    **fields: object,
) -> ReferralSource:
    unknown = set(fields) - set(SOURCE_FIELDS)
    if unknown:
        raise TypeError(
            f"referral_source_create() got fields it does not accept: {sorted(unknown)}"
        )
    if lead is not None and lead.owner_id != owner.pk:
        raise ValidationError({"lead": "Choose one of your own leads."})
    source = ReferralSource(owner=owner, name=name.strip(), lead=lead, **fields)
    source.email = source.email.strip().lower()
    source.next_ask_at = now or timezone.now()
    source.full_clean()
    source.save()
    return source


@transaction.atomic
def referral_sources_reassign(*, from_owner: User, to_owner: User, by: User) -> int:
    """Give all of one salesperson's referral sources, with their asks, to another (a manager
    deactivating them); how many. Done before their leads move, so the leads they referred
    keep the link. One history row per source, by `by`."""
    sources = list(ReferralSource.objects.select_for_update().filter(owner=from_owner))
    for source in sources:
        source.owner = to_owner
        # simple-history reads the reason for the history row from this instance attribute.
        source._change_reason = f"Reassigned from {from_owner} to {to_owner}"[:100]  # type: ignore[attr-defined]
    bulk_update_with_history(sources, ReferralSource, ["owner"], default_user=by)
    return len(sources)


@transaction.atomic
def referral_source_update(*, source: ReferralSource, **fields: object) -> ReferralSource:
    unknown = set(fields) - set(SOURCE_FIELDS)
    if unknown:
        raise TypeError(
            f"referral_source_update() got fields it does not accept: {sorted(unknown)}"
        )
    for name, value in fields.items():
        setattr(source, name, value)
    if source.last_asked_at is not None:
        source.next_ask_at = source.last_asked_at + timedelta(days=source.ask_cadence_days)
    source.full_clean()
    source.save()
    return source


@transaction.atomic
def referral_source_from_customer(*, lead: Lead, user: User) -> ReferralSource:
    """Make a won customer a referral source (once); first ask due a month after winning."""
    existing = ReferralSource.objects.filter(lead=lead).first()
    if existing is not None:
        return existing
    won_at = lead.won_at or timezone.now()
    source = ReferralSource(
        owner_id=lead.owner_id,
        name=lead.full_name,
        email=lead.email,
        kind=SourceKind.CUSTOMER,
        lead=lead,
        next_ask_at=won_at + CUSTOMER_FIRST_ASK_AFTER,
    )
    source.full_clean()
    source.save()
    return source


@transaction.atomic
def referral_ask_record(
    *,
    source: ReferralSource,
    user: User,
    channel: str = AskChannel.EMAIL,
    asked_at: datetime | None = None,
    note: str = "",
    link_key: str | None = None,
) -> ReferralAsk:
    """Log that the source was asked for referrals, and when to ask next.

    With `link_key` (from a signed email link) a second call returns the first ask unchanged.
    """
    if link_key:
        already = ReferralAsk.objects.filter(link_key=link_key).first()
        if already is not None:
            return already
    asked_at = asked_at or timezone.now()
    source = ReferralSource.objects.select_for_update().get(pk=source.pk)
    if source.opted_out:
        raise ValidationError(f"{source.name} opted out of referral asks.")
    ask = ReferralAsk(
        source=source,
        asked_by=user,
        asked_at=asked_at,
        channel=channel,
        note=note.strip(),
        link_key=link_key,
    )
    ask.full_clean()
    try:
        with transaction.atomic():
            ask.save()
    except IntegrityError:
        # Two clicks on the same email link at once: the other one logged it.
        return ReferralAsk.objects.get(link_key=link_key)
    source.last_asked_at = max(filter(None, [source.last_asked_at, asked_at]))
    source.next_ask_at = source.last_asked_at + timedelta(days=source.ask_cadence_days)
    source.save(update_fields=["last_asked_at", "next_ask_at"])
    if source.lead is not None:
        _note_ask_on_customer_lead(source.lead, user=user, asked_at=asked_at, channel=channel)
    return ask


@transaction.atomic
def referral_ask_set_outcome(
    *, ask: ReferralAsk, user: User, outcome: str, referrals_given: int = 0
) -> ReferralAsk:
    if outcome not in AskOutcome.values:
        raise ValidationError({"outcome": f"Unknown outcome {outcome!r}."})
    if outcome == AskOutcome.GAVE and referrals_given < 1:
        raise ValidationError({"referrals_given": "How many referrals did they give? At least 1."})
    ask.outcome = outcome
    ask.referrals_given = referrals_given if outcome == AskOutcome.GAVE else 0
    ask.full_clean()
    ask.save(update_fields=["outcome", "referrals_given"])
    return ask


@transaction.atomic
def referral_link_lead(
    *, lead: Lead, source: ReferralSource, user: User, ask: ReferralAsk | None = None
) -> Lead:
    """Credit `source` (and the ask, if any) for referring `lead`."""
    if source.owner_id != lead.owner_id:
        raise ValidationError({"referred_by": "Choose one of your own referral sources."})
    if ask is not None and ask.source_id != source.pk:
        raise ValidationError({"referral_ask": "That ask was made to another source."})
    if source.lead_id == lead.pk:
        raise ValidationError({"referred_by": "A lead can't refer themselves."})
    # Read again, locked: the audit history records every field of the instance saved, so a
    # stale one (its stage moved since it was read) would record a stage change nobody made.
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    lead.referred_by = source
    lead.referral_ask = ask
    lead.source = Source.REFERRAL
    lead.save(update_fields=["referred_by", "referral_ask", "source", "updated_at"])
    if ask is not None:
        ask.outcome = AskOutcome.GAVE
        ask.referrals_given = max(ask.referrals_given, ask.produced_leads.count())
        ask.save(update_fields=["outcome", "referrals_given"])
    request_rescore(lead.pk)
    return lead


def _note_ask_on_customer_lead(lead: Lead, *, user: User, asked_at: datetime, channel: str) -> None:
    """The customer's timeline shows the ask, and a due referral-ask follow-up counts as done."""
    from leads.services import activity_log, follow_up_complete

    activity_log(
        lead=lead,
        user=user,
        kind=ActivityKind.REFERRAL_ASK,
        occurred_at=asked_at,
        text=f"Asked for referrals ({AskChannel(channel).label}).",
    )
    pending = lead.follow_ups.filter(done_at__isnull=True, kind=FollowUpKind.REFERRAL_ASK).first()
    if pending is not None:
        follow_up_complete(follow_up=pending, user=user)


@transaction.atomic
def referral_source_from_lead(
    *, lead: Lead, user: User, now: datetime | None = None
) -> ReferralSource:
    """Make a lead (someone who just referred a person) a referral source, once.

    A won customer becomes a customer source (`referral_source_from_customer`); anyone else a
    friend / contact. They just sent someone: the next ask is due a cadence from now, not today.
    """
    existing = ReferralSource.objects.filter(lead=lead).first()
    if existing is not None:
        return existing
    if lead.stage == Stage.WON:
        return referral_source_from_customer(lead=lead, user=user)
    now = now or timezone.now()
    source = ReferralSource(
        owner_id=lead.owner_id,
        name=lead.full_name,
        email=lead.email,
        kind=SourceKind.FRIEND,
        lead=lead,
    )
    source.next_ask_at = now + timedelta(days=source.ask_cadence_days)
    source.full_clean()
    source.save()
    return source


def _same_name(one: str, other: str) -> bool:
    return " ".join(one.split()).casefold() == " ".join(other.split()).casefold()


@transaction.atomic
def referral_source_for_choice(
    *, owner: User, choice: ReferrerChoice, lead: Lead | None = None
) -> ReferralSource:
    """The referral source a lead form's "Referred by" names (see leads/referrers.py).

    A picked source is used as it is; a picked lead or customer is made a source; "new" adds a
    friend / contact by the typed name. A name typed without a pick (no JavaScript, or typed on
    after picking) is matched against the owner's sources, customers and leads: exactly one
    person must have it. `lead` is the lead being credited, which can't refer itself.
    Registered with the leads app at startup; raises ValidationError on "referred_by".
    """
    kind, _, value = choice.token.partition(":")
    typed = choice.typed.strip()
    picked: ReferralSource | Lead | None = None
    if kind == "source" and value.isdigit():
        picked = ReferralSource.objects.filter(owner=owner, pk=int(value)).first()
    elif kind == "lead" and value.isdigit():
        picked = Lead.objects.filter(owner=owner, pk=int(value)).first()
    elif kind == "new":
        return referral_source_create(owner=owner, name=typed, kind=SourceKind.FRIEND)
    if picked is None or not _same_name(str(picked), typed):
        picked = _referrer_named(owner, typed, lead=lead)
    if isinstance(picked, ReferralSource):
        if lead is not None and picked.lead_id == lead.pk:
            raise ValidationError({"referred_by": "A lead can't refer themselves."})
        return picked
    if lead is not None and picked.pk == lead.pk:
        raise ValidationError({"referred_by": "A lead can't refer themselves."})
    return referral_source_from_lead(lead=picked, user=owner)


def _referrer_named(owner: User, name: str, *, lead: Lead | None) -> ReferralSource | Lead:
    exclude = lead.pk if lead is not None and lead.pk else None
    options = [
        option
        for option in referrer_options(owner, name, exclude_lead_id=exclude, limit=20)
        if _same_name(option.name, name)
    ]
    if not options:
        raise ValidationError(
            {
                "referred_by": f"No referral source, customer or lead is called “{name}”. "
                "Pick one from the list, or add them as a referral source first."
            }
        )
    if len(options) > 1:
        raise ValidationError(
            {"referred_by": f"{len(options)} people are called “{name}”: pick one from the list."}
        )
    kind, _, value = options[0].token.partition(":")
    if kind == "source":
        return ReferralSource.objects.get(pk=int(value))
    return Lead.objects.get(pk=int(value))


class ReferredLeadsInvalid(Exception):
    """Some of the people named in an ask could not be added; nothing was.

    `errors` maps each failing row (0-based, in the order given) to its ValidationError.
    """

    def __init__(self, errors: dict[int, ValidationError]) -> None:
        super().__init__(f"{len(errors)} row(s) could not be added")
        self.errors = errors


@transaction.atomic
def referral_ask_add_leads(
    *, ask: ReferralAsk, user: User, people: list[dict[str, str]]
) -> list[Lead]:
    """Add the people a source named in an ask ("gave N referrals") as leads, all or none.

    Each of `people` has a name, an email and a company (any may be blank, but not both name
    and email). Each lead belongs to the source's owner, is credited to the source and linked
    to the ask. Every row is tried, so one bad row doesn't hide another's problem; if any
    fails, ReferredLeadsInvalid names them all and nothing is saved.
    """
    source = ask.source
    created: list[Lead] = []
    errors: dict[int, ValidationError] = {}
    for row, person in enumerate(people):
        first_name, _, last_name = " ".join(person.get("name", "").split()).partition(" ")
        try:
            with transaction.atomic():
                company = company_find_or_create(owner=source.owner, name=person.get("company", ""))
                lead = lead_create(
                    owner=source.owner,
                    created_by=user,
                    first_name=first_name,
                    last_name=last_name,
                    email=person.get("email", ""),
                    company=company,
                    source=Source.REFERRAL,
                    referred_by=source,
                )
                created.append(referral_link_lead(lead=lead, source=source, user=user, ask=ask))
        except ValidationError as error:
            errors[row] = error
    if errors:
        raise ReferredLeadsInvalid(errors)
    return created


ERASED_SOURCE_NAME = "Erased person"


def referral_sources_anonymise(*, source_ids: list[int]) -> int:
    """Erasure of a person (privacy): the referral sources that are them keep their credit for
    the leads they referred, but lose name, email, notes and history, and are never asked again;
    the notes of the asks made to them are blanked. Returns how many were anonymised."""
    if not source_ids:
        return 0
    # UPDATEs, not save(): a history row holding the old name is exactly what must go.
    ReferralSource.objects.filter(pk__in=source_ids).update(
        name=ERASED_SOURCE_NAME, email="", notes="", lead=None, opted_out=True
    )
    ReferralAsk.objects.filter(source_id__in=source_ids).update(note="")
    ReferralSource.history.model.objects.filter(id__in=source_ids).delete()
    return len(source_ids)


# --- Merging two leads (leads.merging calls these through leads.dependents) -----------------


def referral_links_merge(*, survivor: Lead, duplicate: Lead) -> dict[str, list[int]]:
    """The duplicate as a referral source goes to the survivor: the source itself when the
    survivor has none, otherwise the leads it referred and the asks made to it. Returns the ids
    that moved, by kind, for `referral_links_unmerge`."""
    source = ReferralSource.objects.filter(lead=duplicate).first()
    if source is None:
        return {}
    ours = ReferralSource.objects.filter(lead=survivor).first()
    if ours is None:
        ReferralSource.objects.filter(pk=source.pk).update(lead=survivor)
        return {"referral_source": [source.pk]}
    referred = _ids_then_update(
        Lead.objects.filter(referred_by=source).exclude(pk=survivor.pk), referred_by=ours
    )
    asks = _ids_then_update(ReferralAsk.objects.filter(source=source), source=ours)
    ReferralSource.objects.filter(pk=source.pk).update(lead=None)
    return {
        "referral_source_unlinked": [source.pk],
        "referral_source_into": [ours.pk],
        "referred_leads": referred,
        "referral_asks": asks,
    }


def referral_links_unmerge(
    *, survivor: Lead, duplicate: Lead, moved: Mapping[str, list[int]]
) -> None:
    """Move back exactly what `referral_links_merge` moved (its `moved`), for an undone merge."""
    if moved.get("referral_source"):
        ReferralSource.objects.filter(pk__in=moved["referral_source"], lead=survivor).update(
            lead=duplicate
        )
    if moved.get("referral_source_unlinked"):
        source_id = moved["referral_source_unlinked"][0]
        ReferralSource.objects.filter(pk=source_id, lead__isnull=True).update(lead=duplicate)
        into = moved.get("referral_source_into", [None])[0]
        _update_ids(
            Lead.objects.filter(referred_by_id=into),
            moved.get("referred_leads", []),
            referred_by_id=source_id,
        )
        _update_ids(
            ReferralAsk.objects.filter(source_id=into),
            moved.get("referral_asks", []),
            source_id=source_id,
        )


# Rows are moved back by id in chunks, well under SQLite's limit on query parameters.
_ID_CHUNK = 500


def _ids_then_update(rows: QuerySet, **to: object) -> list[int]:
    """Point `rows` elsewhere; returns their ids (read first, for the undo)."""
    ids = list(rows.order_by("pk").values_list("pk", flat=True))
    if ids:
        rows.update(**to)
    return ids


def _update_ids(rows: QuerySet, ids: list[int], **to: object) -> None:
    for start in range(0, len(ids), _ID_CHUNK):
        rows.filter(pk__in=ids[start : start + _ID_CHUNK]).update(**to)
