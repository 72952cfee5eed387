"""Reading mailboxes: the install's capture mailbox and the salespeople's connected ones.

A poll of one mailbox (`mailbox_poll`):
1. takes the mailbox's lock (a cache key, added only if absent), so one run at a time per
   mailbox, even when beat fires again while a slow poll is still reading;
2. logs in and, per folder, EXAMINEs it (read-only) and compares its UIDVALIDITY with the one
   stored: a new one means the server renumbered the folder, so it is read again from the start
   (the capture mailbox) or from BACKFILL_DAYS ago (a personal one), and the unique constraints
   (Email: owner, lead, Message-ID; UnmatchedEmail: owner, Message-ID, person) keep every
   message logged once;
3. fetches each new UID with BODY.PEEK (nothing is marked read) and logs it
   (`emails.capture.message_log`) in one transaction with advancing the folder's last UID, so
   a worker killed mid-batch resumes at the first message it had not logged, and a message is
   never skipped unlogged;
4. for a connected mailbox, reads the From/To/Cc headers first and fetches the whole message
   only when one of the owner's leads is in them: nothing else is downloaded or stored;
5. on failure (unreachable, wrong password) keeps the UIDs where they are, records the error
   (Settings and the Status page show it) and waits before the next try: 1, 2, 4 … minutes,
   at most MAX_BACKOFF.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from emails.capture import (
    CaptureOutcome,
    capture_owner,
    message_log,
    never_log_entries,
    never_logged,
    own_addresses,
)
from emails.capture_models import Mailbox, MailboxFolder, MailboxKind
from emails.credentials import CredentialsUnavailable, password_decrypt, password_encrypt
from emails.imap import ImapAccount, ImapAuthError, ImapError, ImapSession, imap_session
from emails.models import EmailSource
from emails.parsing import MAILER_DAEMON, parse_message
from leads.models import Lead

logger = logging.getLogger(__name__)

# Longer than the poll task's time limit: a lock outlives the run that holds it only when that
# worker died, and then it frees itself.
LOCK_SECONDS = 360
# A poll reads at most this many messages; the next minute's poll goes on from there.
MESSAGES_PER_POLL = 200
BACKFILL_DAYS = 30
MAX_BACKOFF = timedelta(hours=1)


@dataclass
class PollResult:
    """What one poll of one mailbox did; `report` lines are what `capture_email` prints."""

    mailbox: Mailbox
    messages: int = 0
    logged: int = 0
    unmatched: int = 0
    bounced: int = 0
    error: str = ""
    locked: bool = False
    report: list[str] = field(default_factory=list)


# --- The capture mailbox and connected ones ---------------------------------------------------


def capture_mailbox() -> Mailbox | None:
    """The install's capture mailbox row (its read state and errors), when one is configured."""
    if not settings.CAPTURE_IMAP_URL:
        return None
    _account, folder = ImapAccount.from_url(settings.CAPTURE_IMAP_URL)
    mailbox, _created = Mailbox.objects.get_or_create(
        kind=MailboxKind.CAPTURE, defaults={"folders": [folder]}
    )
    if mailbox.folders != [folder]:
        mailbox.folders = [folder]
        mailbox.save(update_fields=["folders"])
    return mailbox


def mailboxes_due(*, now: datetime | None = None) -> list[Mailbox]:
    """Every mailbox to poll now: those not waiting out a backoff."""
    now = now or timezone.now()
    capture = capture_mailbox()
    waiting = Q(next_attempt_at__gt=now)
    due = list(
        Mailbox.objects.filter(kind=MailboxKind.PERSONAL, owner__is_active=True)
        .exclude(waiting)
        .select_related("owner")
        .order_by("pk")
    )
    if capture is not None and not (capture.next_attempt_at and capture.next_attempt_at > now):
        due.insert(0, capture)
    return due


def _account_of(mailbox: Mailbox) -> ImapAccount:
    if mailbox.kind == MailboxKind.CAPTURE:
        return ImapAccount.from_url(settings.CAPTURE_IMAP_URL)[0]
    return ImapAccount(
        host=mailbox.host,
        port=mailbox.port,
        use_ssl=mailbox.use_ssl,
        username=mailbox.username,
        password=password_decrypt(mailbox.password_encrypted),
    )


def mailbox_check(*, account: ImapAccount, folders: list[str]) -> None:
    """Log in and open each folder, or a ValidationError naming the field to fix."""
    try:
        with imap_session(account) as session:
            for folder in folders:
                try:
                    session.open_folder(folder)
                except ImapError as error:
                    raise ValidationError({"folders": str(error)}) from error
    except ImapAuthError as error:
        raise ValidationError({"password": str(error)}) from error
    except ImapError as error:
        raise ValidationError({"host": str(error)}) from error


def mailbox_connect(
    *,
    owner: User,
    host: str,
    port: int,
    use_ssl: bool,
    username: str,
    password: str,
    folders: list[str],
) -> Mailbox:
    """Connect the salesperson's own mailbox after checking that it can be read.

    The password is stored encrypted and never shown again; reconnecting replaces it (and
    keeps how far each folder was read if the server is the same).
    """
    folders = list(dict.fromkeys(folder.strip() for folder in folders if folder.strip()))
    if not folders:
        raise ValidationError({"folders": "Choose at least one folder, e.g. INBOX."})
    try:
        encrypted = password_encrypt(password)
    except CredentialsUnavailable as error:
        raise ValidationError(str(error)) from error
    account = ImapAccount(
        host=host.strip(), port=port, use_ssl=use_ssl, username=username.strip(), password=password
    )
    # Checked outside the transaction: a slow server must not hold a database lock.
    mailbox_check(account=account, folders=folders)
    with transaction.atomic():
        mailbox = Mailbox.objects.select_for_update().filter(owner=owner).first()
        if mailbox is not None and (mailbox.host, mailbox.username) != (
            account.host,
            account.username,
        ):
            mailbox.delete()
            mailbox = None
        mailbox = mailbox or Mailbox(kind=MailboxKind.PERSONAL, owner=owner)
        mailbox.host = account.host
        mailbox.port = port
        mailbox.use_ssl = use_ssl
        mailbox.username = account.username
        mailbox.password_encrypted = encrypted
        mailbox.folders = folders
        mailbox.last_error = ""
        mailbox.failures = 0
        mailbox.next_attempt_at = None
        mailbox.full_clean()
        mailbox.save()
    return mailbox


@transaction.atomic
def mailbox_disconnect(*, owner: User) -> bool:
    """Forget the salesperson's mailbox and its password; the emails logged from it stay."""
    deleted, _by_model = Mailbox.objects.filter(kind=MailboxKind.PERSONAL, owner=owner).delete()
    return deleted > 0


# --- Polling -----------------------------------------------------------------------------------


@contextmanager
def _mailbox_lock(mailbox: Mailbox) -> Iterator[bool]:
    key = f"emails:mailbox-poll:{mailbox.pk}"
    token = uuid.uuid4().hex
    taken = cache.add(key, token, timeout=LOCK_SECONDS)
    try:
        yield taken
    finally:
        # Only our own lock: one that expired and was taken by another run stays.
        if taken and cache.get(key) == token:
            cache.delete(key)


def mailbox_poll(
    *, mailbox: Mailbox, now: datetime | None = None, limit: int = MESSAGES_PER_POLL
) -> PollResult:
    """Read the new messages of every folder of `mailbox` and log them (module docstring)."""
    result = PollResult(mailbox=mailbox)
    with _mailbox_lock(mailbox) as taken:
        if not taken:
            result.locked = True
            return result
        try:
            account = _account_of(mailbox)
            with imap_session(account) as session:
                for folder in mailbox.folders:
                    _poll_folder(session, mailbox, folder, result, limit=limit - result.messages)
        except (ImapError, CredentialsUnavailable) as error:
            result.error = str(error)
        _settle(mailbox, result, now=now or timezone.now())
    return result


def _settle(mailbox: Mailbox, result: PollResult, *, now: datetime) -> None:
    if result.error:
        failures = mailbox.failures + 1
        backoff = min(timedelta(minutes=2 ** min(failures - 1, 10)), MAX_BACKOFF)
        fields = {
            "failures": failures,
            "last_error": result.error[:500],
            "next_attempt_at": now + backoff,
            "last_polled_at": now,
        }
        logger.warning("Mailbox %s could not be read: %s", mailbox.pk, result.error)
    else:
        fields = {
            "failures": 0,
            "last_error": "",
            "next_attempt_at": None,
            "last_polled_at": now,
            "last_success_at": now,
        }
    Mailbox.objects.filter(pk=mailbox.pk).update(**fields)
    for name, value in fields.items():
        setattr(mailbox, name, value)


def _poll_folder(
    session: ImapSession, mailbox: Mailbox, folder: str, result: PollResult, *, limit: int
) -> None:
    if limit <= 0:
        return
    state, _created = MailboxFolder.objects.get_or_create(mailbox=mailbox, name=folder)
    validity = session.open_folder(folder)
    since: date | None = None
    if validity != state.uid_validity:
        # Read for the first time, or renumbered by the server: from the start again (a
        # personal mailbox: its last weeks only); the constraints keep each message once.
        if mailbox.kind == MailboxKind.PERSONAL:
            since = (timezone.now() - timedelta(days=BACKFILL_DAYS)).date()
        MailboxFolder.objects.filter(pk=state.pk).update(uid_validity=validity, last_uid=0)
        state.uid_validity, state.last_uid = validity, 0
    uids = session.uids_after(state.last_uid, since=since)[:limit]
    owner_leads = _lead_addresses(mailbox)
    for uid in uids:
        _poll_message(session, mailbox, state, uid, result, owner_leads=owner_leads)
        result.messages += 1


def _lead_addresses(mailbox: Mailbox) -> set[str] | None:
    if mailbox.owner_id is None:
        return None
    return set(
        Lead.objects.filter(owner_id=mailbox.owner_id)
        .exclude(email="")
        .values_list("email", flat=True)
    )


def _poll_message(
    session: ImapSession,
    mailbox: Mailbox,
    state: MailboxFolder,
    uid: int,
    result: PollResult,
    *,
    owner_leads: set[str] | None,
) -> None:
    raw: bytes | None = None
    if owner_leads is not None:
        # A connected mailbox: look at the addresses first; only a lead's email is downloaded.
        headers = session.fetch_headers(uid)
        if headers is not None and _concerns_leads(headers, owner_leads, mailbox):
            raw = session.fetch(uid)
    else:
        raw = session.fetch(uid)
    try:
        with transaction.atomic():
            if raw is not None:
                outcome = _log_raw(mailbox, raw)
                _tally(result, outcome, uid=uid, folder=state.name)
            # Advanced with the logging, in one transaction: never past an unlogged message.
            MailboxFolder.objects.filter(pk=state.pk).update(last_uid=uid)
    except DatabaseError:
        raise
    except Exception:
        # A message our code cannot handle must not block the mailbox forever: note it and
        # go on (the error is in the log with the UID to look at).
        logger.exception("Skipped message UID %s of mailbox %s / %s", uid, mailbox.pk, state.name)
        MailboxFolder.objects.filter(pk=state.pk).update(last_uid=uid)
        result.report.append(f"  UID {uid}: skipped, it could not be read (see the log)")
    state.last_uid = uid


def _concerns_leads(headers: bytes, lead_addresses: set[str], mailbox: Mailbox) -> bool:
    parsed = parse_message(headers)
    addresses = {person.address for person in parsed.participants()}
    if parsed.from_ is not None and MAILER_DAEMON.match(parsed.from_.address):
        return True  # a bounce: read it to learn which address failed; it is not stored
    if not addresses & lead_addresses:
        return False
    assert mailbox.owner is not None  # noqa: S101 - a personal mailbox has an owner
    entries = never_log_entries(mailbox.owner)
    return not any(never_logged(address, entries) for address in addresses)


def _log_raw(mailbox: Mailbox, raw: bytes) -> CaptureOutcome:
    parsed = parse_message(raw)
    if mailbox.kind == MailboxKind.CAPTURE:
        owner = capture_owner(parsed)
        if owner is None:
            return CaptureOutcome(skipped="no salesperson's capture address or address in it")
        return message_log(
            owner=owner,
            parsed=parsed,
            source=EmailSource.CAPTURE,
            own=own_addresses(owner),
            keep_unmatched=True,
        )
    assert mailbox.owner is not None  # noqa: S101 - a personal mailbox has an owner
    return message_log(
        owner=mailbox.owner,
        parsed=parsed,
        source=EmailSource.MAILBOX,
        own=own_addresses(mailbox.owner, mailbox=mailbox),
        keep_unmatched=False,
    )


def _tally(result: PollResult, outcome: CaptureOutcome, *, uid: int, folder: str) -> None:
    result.logged += len(outcome.logged)
    result.unmatched += len(outcome.unmatched)
    result.bounced += outcome.bounced_leads
    for email in outcome.logged:
        result.report.append(
            f"  {folder} UID {uid}: logged “{email.subject or '(no subject)'}” on {email.lead} "
            f"({email.get_direction_display().lower()})"
        )
    for unmatched in outcome.unmatched:
        result.report.append(
            f"  {folder} UID {uid}: “{unmatched.subject or '(no subject)'}” waits in "
            f"Unmatched emails ({unmatched.person_address})"
        )
    if outcome.bounced_leads:
        result.report.append(
            f"  {folder} UID {uid}: marked {outcome.bounced_leads} lead(s) bouncing"
        )
    if outcome.skipped and not outcome.logged and not outcome.unmatched:
        result.report.append(f"  {folder} UID {uid}: nothing logged ({outcome.skipped})")


def mailboxes_poll(*, due_only: bool = True) -> list[PollResult]:
    """Poll every mailbox (those waiting out a backoff too, unless `due_only`)."""
    if due_only:
        mailboxes = mailboxes_due()
    else:
        capture = capture_mailbox()
        personal = Mailbox.objects.filter(kind=MailboxKind.PERSONAL, owner__is_active=True)
        mailboxes = [*([capture] if capture else []), *personal.select_related("owner")]
    return [mailbox_poll(mailbox=mailbox) for mailbox in mailboxes]
