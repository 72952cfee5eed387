"""What a captured or mailbox email does: whose it is, which leads it goes on, and the rest.

1. Whose: a message at the capture mailbox belongs to the salesperson whose plus-address
   (crm+<token>@…) it was delivered to, else to the one whose own address is in From. A message
   from a connected mailbox belongs to that mailbox's owner.
2. The never-log list: a message with any address (or domain) on it is dropped whole.
3. A bounce marks the failed addresses' leads as bouncing; it is not a reply.
4. The people: every address in From, To and Cc, and the original sender of a forward (the
   attached message's From, To and Cc, or the "From:" line of an inline forward), except the
   salesperson's own addresses. Direction: outbound when the (original) sender is the
   salesperson.
5. Each person who is one of the owner's leads gets the email through `email_log`, which keeps
   it once per lead. From the capture address, a person who is nobody's lead becomes an
   "Unmatched emails" row (once per message and person); from a mailbox nothing else is stored.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from emails.capture_models import (
    CaptureProfile,
    Mailbox,
    UnmatchedEmail,
    UnmatchedStatus,
)
from emails.models import BODY_MAX_CHARS, Email, EmailSource
from emails.parsing import MAILER_DAEMON, Address, ParsedEmail
from emails.services import EmailFacts, email_log
from leads.models import Direction, Lead, Source
from leads.normalize import normalize_email
from leads.services import lead_create, lead_update, leads_mark_email_bouncing

logger = logging.getLogger(__name__)


@dataclass
class CaptureOutcome:
    """What one message did: the emails logged, the unmatched rows made, the leads marked."""

    logged: list[Email] = field(default_factory=list)
    unmatched: list[UnmatchedEmail] = field(default_factory=list)
    bounced_leads: int = 0
    # Why nothing was done, when nothing was: shown by `capture_email --once`.
    skipped: str = ""


# --- Capture addresses -------------------------------------------------------------------------


def capture_profile_for(*, owner: User) -> CaptureProfile:
    """The salesperson's capture profile, made (with a fresh token) the first time it is asked."""
    profile, _created = CaptureProfile.objects.get_or_create(owner=owner)
    return profile


def capture_address_of(profile: CaptureProfile) -> str:
    """crm+<token>@example.com, or "" when the install has no capture mailbox."""
    base = settings.CAPTURE_ADDRESS
    if not base or not settings.CAPTURE_IMAP_URL:
        return ""
    local, domain = base.split("@", 1)
    return f"{local}+{profile.token}@{domain}"


def _token_in(address: str) -> str | None:
    base = settings.CAPTURE_ADDRESS
    if not base or "@" not in address:
        return None
    local, domain = address.rsplit("@", 1)
    base_local, base_domain = base.split("@", 1)
    if domain != base_domain or not local.startswith(f"{base_local}+"):
        return None
    return local[len(base_local) + 1 :] or None


def capture_owner(parsed: ParsedEmail) -> User | None:
    """The salesperson a captured message belongs to (see the module docstring), or None."""
    for address in parsed.delivered_to:
        token = _token_in(address)
        if token:
            profile = (
                CaptureProfile.objects.select_related("owner")
                .filter(token=token, owner__is_active=True)
                .first()
            )
            if profile is not None:
                return profile.owner
    if parsed.from_ is not None:
        senders = list(User.objects.filter(email__iexact=parsed.from_.address, is_active=True)[:2])
        if len(senders) == 1:
            return senders[0]
    return None


@transaction.atomic
def never_log_update(*, owner: User, text: str) -> CaptureProfile:
    """Save the never-log list: addresses or domains, one per line (or comma-separated)."""
    entries: list[str] = []
    for word in text.replace(",", "\n").split():
        entry = word.strip().lower().lstrip("@")
        if not entry:
            continue
        if entry.count("@") > 1 or "." not in entry.rsplit("@", 1)[-1] or len(entry) > 320:
            raise ValidationError(
                {"never_log": f"“{word[:100]}” is not an address (a@b.com) or a domain (b.com)."}
            )
        if entry not in entries:
            entries.append(entry)
    profile = CaptureProfile.objects.select_for_update().get(pk=capture_profile_for(owner=owner).pk)
    profile.never_log = "\n".join(entries)
    profile.save(update_fields=["never_log"])
    return profile


def never_logged(address: str, entries: list[str]) -> bool:
    """Whether `address` is on the list, itself or by its domain (or a parent domain)."""
    domain = address.rsplit("@", 1)[-1]
    for entry in entries:
        if "@" in entry:
            if address == entry:
                return True
        elif domain == entry or domain.endswith(f".{entry}"):
            return True
    return False


# --- Logging a message -------------------------------------------------------------------------


def own_addresses(owner: User, *, mailbox: Mailbox | None = None) -> set[str]:
    """The salesperson's own addresses: never a person to log the email on."""
    own = {normalize_email(owner.email)} if owner.email else set()
    if settings.CAPTURE_ADDRESS:
        own.add(settings.CAPTURE_ADDRESS)
    profile = CaptureProfile.objects.filter(owner=owner).first()
    if profile is not None and (address := capture_address_of(profile)):
        own.add(address)
    if mailbox is not None and "@" in mailbox.username:
        own.add(normalize_email(mailbox.username))
    return own


def people_of(parsed: ParsedEmail, own: set[str]) -> list[Address]:
    """Everyone the message is about, the salesperson and mail daemons left out."""
    found: dict[str, Address] = {}
    messages = [parsed, parsed.original] if parsed.original else [parsed]
    for message in messages:
        for person in message.participants():
            if person.address in own or _token_in(person.address):
                continue
            if MAILER_DAEMON.match(person.address):
                continue
            found.setdefault(person.address, person)
    return list(found.values())


def message_log(
    *,
    owner: User,
    parsed: ParsedEmail,
    source: str,
    own: set[str],
    keep_unmatched: bool,
) -> CaptureOutcome:
    """Log one parsed message for `owner` (steps 2 to 5 of the module docstring)."""
    entries = never_log_entries(owner)
    # The salesperson's own addresses never count: "my company's domain" on the list means
    # emails with colleagues, not every email.
    everyone = {person.address for person in people_of(parsed, own)}
    if any(never_logged(address, entries) for address in everyone):
        return CaptureOutcome(skipped="an address on the never-log list")
    if parsed.is_bounce:
        count = leads_mark_email_bouncing(
            owner=owner, addresses=parsed.bounced_addresses, at=parsed.sent_at
        )
        return CaptureOutcome(bounced_leads=count, skipped="" if count else "a bounce, no lead")
    people = people_of(parsed, own)
    if not people:
        return CaptureOutcome(skipped="nobody but you in it")
    facts = facts_of(parsed, source=source, own=own)
    leads = {
        lead.email: lead
        for lead in Lead.objects.filter(owner=owner, email__in=[p.address for p in people])
    }
    outcome = CaptureOutcome()
    for person in people:
        lead = leads.get(person.address)
        if lead is not None:
            email = email_log(owner=owner, lead=lead, facts=facts)
            if email is not None:
                outcome.logged.append(email)
        elif keep_unmatched and not facts.is_auto_reply:
            unmatched = _unmatched_add(owner=owner, person=person, facts=facts)
            if unmatched is not None:
                outcome.unmatched.append(unmatched)
    if not outcome.logged and not outcome.unmatched:
        outcome.skipped = "already logged" if leads or keep_unmatched else "no lead in it"
    return outcome


def facts_of(parsed: ParsedEmail, *, source: str, own: set[str]) -> EmailFacts:
    """The email to log: a forward's original message, else the message itself."""
    shown = parsed.original or parsed
    sender = shown.from_.address if shown.from_ else ""
    # A Date header in the future (a wrong clock, spam) would be refused by the timeline
    # (activity_log allows a day ahead at most): it was sent by now at the latest.
    sent_at = min(shown.sent_at, timezone.now())
    return EmailFacts(
        message_id=shown.message_id,
        direction=Direction.OUTBOUND if sender in own else Direction.INBOUND,
        source=source,
        from_address=sender,
        sent_at=sent_at,
        subject=shown.subject,
        body_text=shown.body_text,
        to_addresses=[person.address for person in shown.to],
        cc_addresses=[person.address for person in shown.cc],
        attachment_names=parsed.attachment_names,
        thread_key=shown.thread_key,
        is_auto_reply=shown.is_auto_reply or parsed.is_auto_reply,
    )


def never_log_entries(owner: User) -> list[str]:
    profile = CaptureProfile.objects.filter(owner=owner).only("never_log").first()
    return profile.never_log.split() if profile else []


def _unmatched_add(*, owner: User, person: Address, facts: EmailFacts) -> UnmatchedEmail | None:
    unmatched = UnmatchedEmail(
        owner=owner,
        person_address=person.address,
        person_name=person.name,
        message_id=facts.message_id,
        thread_key=facts.thread_key,
        direction=facts.direction,
        from_address=facts.from_address,
        to_addresses=facts.to_addresses,
        cc_addresses=facts.cc_addresses,
        subject=facts.subject,
        body_text=facts.body_text[:BODY_MAX_CHARS],
        attachment_names=facts.attachment_names,
        sent_at=facts.sent_at,
    )
    # The unique constraint decides, as in email_log: a message read twice adds nobody twice.
    try:
        with transaction.atomic():
            unmatched.save()
    except IntegrityError:
        if UnmatchedEmail.objects.filter(
            owner=owner, message_id=facts.message_id, person_address=person.address
        ).exists():
            return None
        raise
    return unmatched


# --- Unmatched emails --------------------------------------------------------------------------


def _facts_of_unmatched(unmatched: UnmatchedEmail) -> EmailFacts:
    return EmailFacts(
        message_id=unmatched.message_id,
        direction=unmatched.direction,
        source=EmailSource.CAPTURE,
        from_address=unmatched.from_address,
        sent_at=unmatched.sent_at,
        subject=unmatched.subject,
        body_text=unmatched.body_text,
        to_addresses=unmatched.to_addresses,
        cc_addresses=unmatched.cc_addresses,
        attachment_names=unmatched.attachment_names,
        thread_key=unmatched.thread_key,
    )


def _log_waiting_emails(*, unmatched: UnmatchedEmail, lead: Lead) -> int:
    """Log every waiting email with this person on `lead`, oldest first; returns how many."""
    waiting = (
        UnmatchedEmail.objects.select_for_update()
        .filter(
            owner=unmatched.owner,
            person_address=unmatched.person_address,
            status=UnmatchedStatus.PENDING,
        )
        .order_by("sent_at", "id")
    )
    count = 0
    for row in waiting:
        if email_log(owner=row.owner, lead=lead, facts=_facts_of_unmatched(row)) is not None:
            count += 1
    waiting.update(status=UnmatchedStatus.LOGGED)
    return count


def _split_name(name: str) -> tuple[str, str]:
    name = " ".join(name.replace('"', "").split())
    if "," in name:  # "Buyer, Dana"
        last, _comma, first = name.partition(",")
        return first.strip(), last.strip()
    first, _space, last = name.partition(" ")
    return first, last


@transaction.atomic
def unmatched_create_lead(*, unmatched: UnmatchedEmail) -> Lead:
    """Make the person a lead (name and address from the email) and log their emails on it.

    Someone who wrote first raised a hand (source Hand-raiser); someone the salesperson wrote
    to is from their own network.
    """
    owner = unmatched.owner
    existing = Lead.objects.filter(owner=owner, email=unmatched.person_address).first()
    if existing is not None:  # made meanwhile (another tab, an import): link instead
        return unmatched_link(unmatched=unmatched, lead=existing)
    first_name, last_name = _split_name(unmatched.person_name)
    inbound = unmatched.direction == Direction.INBOUND
    lead = lead_create(
        owner=owner,
        first_name=first_name[:100],
        last_name=last_name[:100],
        email=unmatched.person_address,
        source=Source.HAND_RAISER if inbound else Source.OWN_NETWORK,
        source_detail="Email",
    )
    _log_waiting_emails(unmatched=unmatched, lead=lead)
    return lead


@transaction.atomic
def unmatched_link(*, unmatched: UnmatchedEmail, lead: Lead) -> Lead:
    """Log the person's waiting emails on an existing lead; a lead without an email address
    gets this one."""
    if lead.owner_id != unmatched.owner_id:
        raise ValidationError("That lead is not yours.")
    if (
        not lead.email
        and not Lead.objects.filter(owner=lead.owner, email=unmatched.person_address).exists()
    ):
        lead = lead_update(lead=lead, user=unmatched.owner, email=unmatched.person_address)
    _log_waiting_emails(unmatched=unmatched, lead=lead)
    return lead


@transaction.atomic
def unmatched_discard(*, unmatched: UnmatchedEmail) -> None:
    """Drop the email for this person; it stays discarded if the message is read again."""
    UnmatchedEmail.objects.filter(pk=unmatched.pk).update(
        status=UnmatchedStatus.DISCARDED, body_text="", attachment_names=[]
    )
