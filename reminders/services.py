"""Reminder emails: plan one row per user and period, then claim, send and settle each row.

Exactly once comes from the database, not the broker (a message can be lost or delivered twice):
- the unique (user, kind, period) makes each email exist once, however often planning runs;
- a conditional UPDATE claims a row before sending, so two dispatchers, a retried task or a
  restarted worker cannot both send it;
- a row left in 'sending' by a worker that died is claimed again only after STALE_CLAIM_AFTER,
  far beyond any task's time limit, so a slow send is never mistaken for a dead one. (If the
  worker died after the SMTP server accepted the email but before the row was marked sent, that
  one email goes out twice; the Message-ID is stable per reminder so mail systems can fold it.)

One-click email links are performed here too (email_link_perform), through the leads and
referrals services, with EmailLinkUse as the idempotency record.
"""

from __future__ import annotations

import logging
import math
import random
import smtplib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from time import monotonic

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import BadHeaderError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import formats, timezone

from accounts.models import User
from leads.models import ActivityKind, FollowUp
from leads.selectors import follow_ups_visible_to
from leads.services import activity_log, follow_up_complete, follow_up_snooze
from referrals.models import ReferralSource
from referrals.selectors import referral_sources_visible_to
from referrals.services import referral_ask_record
from reminders import emails, links
from reminders.emails import one_line
from reminders.models import (
    EmailLinkUse,
    Reminder,
    ReminderKind,
    ReminderSendToSelf,
    ReminderStatus,
)
from reminders.selectors import reminder_about

logger = logging.getLogger(__name__)

# Local times the emails are due: the weekly one on Monday, the digest on weekdays.
WEEKLY_REFERRALS_AT = time(8, 0)
DAILY_DIGEST_AT = time(7, 30)
# A reminder that could not go out in time is dropped: Tuesday's "who to ask this week" or an
# afternoon "today's follow-ups" is noise, and a backlog after an outage must not flood anyone.
EXPIRE_AFTER: dict[str, timedelta] = {
    ReminderKind.WEEKLY_REFERRALS: timedelta(hours=24),
    ReminderKind.DAILY_DIGEST: timedelta(hours=12),
}
# Well beyond CELERY_TASK_TIME_LIMIT (6 min): a row still 'sending' this long has lost its worker.
STALE_CLAIM_AFTER = timedelta(minutes=15)
MAX_ATTEMPTS = 5
# 2, 8, 32, 128 minutes between attempts (±20 %): an SMTP outage of an hour or two must not use
# up every attempt, and all of it fits inside the shorter (12 h) expiry.
BACKOFF_FIRST = timedelta(minutes=2)
BACKOFF_FACTOR = 4
BACKOFF_CAP = timedelta(hours=3)
# Stop claiming new rows before the task's soft time limit (5 min) interrupts a send.
DISPATCH_BUDGET = timedelta(minutes=4)
SNOOZE_DAYS = 3

_jitter = random.SystemRandom()


class SendOutcome(StrEnum):
    SENT = "sent"
    SKIPPED = "skipped"
    RETRY = "retry"
    FAILED = "failed"
    EXPIRED = "expired"
    ALREADY_CLAIMED = "already-claimed"


@dataclass
class DispatchSummary:
    expired: int = 0
    sent: int = 0
    skipped: int = 0
    retrying: int = 0
    failed: int = 0
    already_claimed: int = 0
    crashed: int = 0

    def count(self, outcome: str) -> None:
        fields: dict[str, str] = {
            SendOutcome.SENT: "sent",
            SendOutcome.SKIPPED: "skipped",
            SendOutcome.RETRY: "retrying",
            SendOutcome.FAILED: "failed",
            SendOutcome.EXPIRED: "expired",
            SendOutcome.ALREADY_CLAIMED: "already_claimed",
        }
        field = fields.get(outcome, "crashed")
        setattr(self, field, getattr(self, field) + 1)


# --- Planning ------------------------------------------------------------------------------


def reminders_plan(*, now: datetime | None = None) -> int:
    """Create the reminder rows that are due by now in each user's own time zone.

    Idempotent: rows that exist are left alone and the unique (user, kind, period) constraint
    drops what a concurrent run inserted first. Three queries, however many users. Returns the
    number of rows it inserted (a concurrent run may make that an over-count).
    """
    now = now or timezone.now()
    users = User.objects.filter(is_active=True).filter(
        Q(weekly_referral_email=True) | Q(daily_digest_email=True)
    )
    wanted = [
        reminder
        for user in users.only("pk", "time_zone", "weekly_referral_email", "daily_digest_email")
        for reminder in _reminders_due(user, now)
    ]
    if not wanted:
        return 0
    existing = set(
        Reminder.objects.filter(
            user_id__in={reminder.user_id for reminder in wanted},
            period__in={reminder.period for reminder in wanted},
        ).values_list("user_id", "kind", "period")
    )
    new = [
        reminder
        for reminder in wanted
        if (reminder.user_id, reminder.kind, reminder.period) not in existing
    ]
    Reminder.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


def _reminders_due(user: User, now: datetime) -> Iterator[Reminder]:
    """The user's reminders whose local time has come today (same local day only)."""
    zone = user.zone
    today = now.astimezone(zone).date()
    if user.weekly_referral_email and today.weekday() == 0:
        due_at = datetime.combine(today, WEEKLY_REFERRALS_AT, tzinfo=zone)
        if now >= due_at:
            year, week, _ = today.isocalendar()
            yield _new_reminder(user, ReminderKind.WEEKLY_REFERRALS, f"{year}-W{week:02d}", due_at)
    if user.daily_digest_email and today.weekday() < 5:
        due_at = datetime.combine(today, DAILY_DIGEST_AT, tzinfo=zone)
        if now >= due_at:
            yield _new_reminder(user, ReminderKind.DAILY_DIGEST, today.isoformat(), due_at)


def _new_reminder(user: User, kind: str, period: str, due_at: datetime) -> Reminder:
    return Reminder(user=user, kind=kind, period=period, due_at=due_at, next_attempt_at=due_at)


# --- Dispatching ---------------------------------------------------------------------------


def reminders_dispatch(
    *, now: datetime | None = None, limit: int = 200, budget: timedelta = DISPATCH_BUDGET
) -> DispatchSummary:
    """Expire what is too late, then send what is due, one row at a time.

    A failure of one reminder is recorded on its row and never stops the others. `now` fixes
    the clock for tests; left out, each send reads the clock itself so sent_at is exact.
    """
    moment = now or timezone.now()
    summary = DispatchSummary(expired=_expire_late(moment))
    deadline = monotonic() + budget.total_seconds()
    for reminder_id in _due_ids(moment, limit):
        if monotonic() > deadline:
            break  # the next beat run picks up the rest
        try:
            outcome = reminder_send(reminder_id=reminder_id, now=now)
        except Exception:
            # Only the database failing gets here; the row stays claimed and is retried later.
            logger.exception("Reminder %s could not be sent or recorded", reminder_id)
            outcome = "crashed"
        summary.count(outcome)
    if summary != DispatchSummary():
        logger.info("Reminders dispatched: %s", summary)
    return summary


def _claimable(now: datetime) -> Q:
    return Q(status=ReminderStatus.PENDING, next_attempt_at__lte=now) | Q(
        status=ReminderStatus.SENDING, claimed_at__lt=now - STALE_CLAIM_AFTER
    )


def _expire_late(now: datetime) -> int:
    unsent = Q(status=ReminderStatus.PENDING) | Q(
        status=ReminderStatus.SENDING, claimed_at__lt=now - STALE_CLAIM_AFTER
    )
    return sum(
        Reminder.objects.filter(unsent, kind=kind, due_at__lt=now - after).update(
            status=ReminderStatus.EXPIRED
        )
        for kind, after in EXPIRE_AFTER.items()
    )


def _due_ids(now: datetime, limit: int) -> list[int]:
    return list(
        Reminder.objects.filter(_claimable(now))
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


# --- Sending one ---------------------------------------------------------------------------


def reminder_send(*, reminder_id: int, now: datetime | None = None) -> str:
    """Claim one reminder, send it, and record how it went; returns a SendOutcome.

    Returns "already-claimed" (and does nothing) when the row is not claimable: another worker
    has it, or it is sent, failed, expired or not yet due. Errors are recorded on the row, not
    raised: transient ones are retried with backoff, permanent ones fail the row.
    """
    now = now or timezone.now()
    claimed = (
        Reminder.objects.filter(_claimable(now), pk=reminder_id).update(
            status=ReminderStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
        == 1
    )
    if not claimed:
        return SendOutcome.ALREADY_CLAIMED
    reminder = Reminder.objects.select_related("user").get(pk=reminder_id)
    if reminder.due_at < now - EXPIRE_AFTER[reminder.kind]:
        return _settle(reminder, SendOutcome.EXPIRED, status=ReminderStatus.EXPIRED)
    if reminder.attempts > MAX_ATTEMPTS:
        # Only a worker dying mid-send, again and again, gets a row here.
        error = "Gave up: the worker stopped while sending, on every attempt."
        return _settle(reminder, SendOutcome.FAILED, status=ReminderStatus.FAILED, last_error=error)
    if not _still_wanted(reminder):
        return _settle(
            reminder,
            SendOutcome.SKIPPED,
            status=ReminderStatus.SKIPPED,
            last_error="Not sent: the user is inactive or turned this email off.",
        )
    try:
        message = emails.compose(reminder, now=now)
        if message is None:
            return _settle(reminder, SendOutcome.SKIPPED, status=ReminderStatus.SKIPPED)
        message.send()
    except Exception as error:
        return _after_failure(reminder, error, now)
    return _settle(
        reminder,
        SendOutcome.SENT,
        status=ReminderStatus.SENT,
        sent_at=now,
        subject=message.subject[:200],
        last_error="",
    )


def _still_wanted(reminder: Reminder) -> bool:
    """Preferences are checked at send time: turning an email off stops one already planned."""
    user = reminder.user
    if not user.is_active:
        return False
    if reminder.kind == ReminderKind.WEEKLY_REFERRALS:
        return user.weekly_referral_email
    return user.daily_digest_email


def _after_failure(reminder: Reminder, error: Exception, now: datetime) -> str:
    described = f"{type(error).__name__}: {error}"[:2000]
    if _is_permanent(error):
        logger.warning("Reminder %s failed for good: %s", reminder.pk, described)
        return _settle(
            reminder, SendOutcome.FAILED, status=ReminderStatus.FAILED, last_error=described
        )
    if not _is_transient(error):
        logger.exception("Reminder %s failed unexpectedly", reminder.pk, exc_info=error)
    if reminder.attempts >= MAX_ATTEMPTS:
        return _settle(
            reminder,
            SendOutcome.FAILED,
            status=ReminderStatus.FAILED,
            last_error=f"Gave up after {reminder.attempts} attempts. {described}",
        )
    return _settle(
        reminder,
        SendOutcome.RETRY,
        status=ReminderStatus.PENDING,
        next_attempt_at=now + backoff(reminder.attempts),
        last_error=described,
    )


def _is_permanent(error: Exception) -> bool:
    if isinstance(error, emails.PermanentSendError | smtplib.SMTPRecipientsRefused):
        return True
    if isinstance(error, BadHeaderError):
        return True  # a line break in a header (the address): refused, and it stays refused
    if isinstance(error, smtplib.SMTPSenderRefused | smtplib.SMTPNotSupportedError):
        return True
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return False  # the operator fixes the credentials; the retries then get through
    # A 5xx reply is the server saying "never"; 4xx means "try again later".
    return isinstance(error, smtplib.SMTPResponseException) and error.smtp_code >= 500


def _is_transient(error: Exception) -> bool:
    # smtplib.SMTPException is an OSError subclass; TimeoutError and ConnectionError are too.
    return isinstance(error, OSError)


def backoff(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed attempt (1-based), with ±20 % jitter."""
    delay = min(BACKOFF_FIRST * BACKOFF_FACTOR ** max(attempts - 1, 0), BACKOFF_CAP)
    return delay * _jitter.uniform(0.8, 1.2)


def _settle(reminder: Reminder, outcome: str, **fields: object) -> str:
    """Record the result, but only while the row is still this attempt's claim.

    If the send took longer than STALE_CLAIM_AFTER another worker may have re-claimed the row;
    then that worker's result is the one that counts.
    """
    settled = Reminder.objects.filter(
        pk=reminder.pk, status=ReminderStatus.SENDING, claimed_at=reminder.claimed_at
    ).update(**fields)
    if not settled:
        logger.warning("Reminder %s was re-claimed before its result (%s)", reminder.pk, outcome)
    return outcome


# --- "Send it to me now" ---------------------------------------------------------------------

# A salesperson trying the emails out sends a few; more than this in an hour is refused, so
# the button cannot be used to flood an inbox (or the mail server's sending quota).
SEND_TO_SELF_PER_HOUR = 5


@dataclass(frozen=True)
class SendToSelfResult:
    """What happened (`outcome`: sent, nothing, no-address, too-many or failed), in words fit
    for the person who asked."""

    outcome: str
    message: str

    @property
    def sent(self) -> bool:
        return self.outcome == "sent"


def reminder_send_to_self(
    *, user: User, kind: str, now: datetime | None = None, rate_limit: bool = True
) -> SendToSelfResult:
    """Send `user` their `kind` email now, to their own address, as the scheduled send would
    compose it today; whether the email is turned on in their settings does not matter.

    It goes out through the configured email backend at once (not through the outbox, which
    holds one scheduled email per period). Each attempt is recorded, and beyond
    SEND_TO_SELF_PER_HOUR in the last hour the request is refused (`rate_limit=False` for the
    shell command, whose user runs the server anyway).
    """
    now = now or timezone.now()
    if not user.email:
        return SendToSelfResult(
            "no-address",
            "Your account has no email address, so there is nowhere to send it. "
            "Ask your manager to add one.",
        )
    if rate_limit:
        # The newest SEND_TO_SELF_PER_HOUR attempts: all within the hour means one too many.
        latest = list(
            ReminderSendToSelf.objects.filter(user=user, requested_at__gt=now - timedelta(hours=1))
            .order_by("-requested_at")
            .values_list("requested_at", flat=True)[:SEND_TO_SELF_PER_HOUR]
        )
        if len(latest) == SEND_TO_SELF_PER_HOUR:
            wait = latest[-1] + timedelta(hours=1) - now
            minutes = max(1, math.ceil(wait.total_seconds() / 60))
            return SendToSelfResult(
                "too-many",
                f"You have sent yourself {SEND_TO_SELF_PER_HOUR} emails in the last hour; "
                f"try again in {minutes} minute{'' if minutes == 1 else 's'}.",
            )
    message = emails.compose_for(user, kind, now=now)
    if message is None:
        return SendToSelfResult("nothing", reminder_about(kind)["empty"])
    attempt = ReminderSendToSelf.objects.create(user=user, kind=kind, requested_at=now)
    try:
        message.send()
    except Exception as error:
        logger.warning("Send-to-self of %s to user %s failed: %r", kind, user.pk, error)
        return SendToSelfResult(
            "failed",
            f"The email could not be sent ({type(error).__name__}: {one_line(str(error))}). "
            "Ask whoever runs LeadHunter to check its email settings (EMAIL_URL).",
        )
    ReminderSendToSelf.objects.filter(pk=attempt.pk).update(sent=True)
    sent = f"Sent “{message.subject}” to {user.email}."
    return SendToSelfResult("sent", sent + email_delivery_note())


def email_delivery_note() -> str:
    """What to add to "we sent you an email" when this install does not deliver email."""
    backend = settings.EMAIL_BACKEND.rsplit(".", 2)[-2]
    if backend == "console":
        return (
            " Emails are printed in the log here, not delivered (EMAIL_URL is console://); "
            "set EMAIL_URL to an SMTP server to receive them."
        )
    return ""


# --- One-click email links -----------------------------------------------------------------


class EmailLinkNotFound(Exception):
    """The link's user or object is gone, or the object is not the link's user's to change."""


@dataclass(frozen=True)
class LinkOutcome:
    title: str
    message: str


@dataclass(frozen=True)
class LinkPreview:
    """What a link will do, shown on the GET with one button; `button` is empty when there is
    nothing left to do (already used, or the follow-up is already done)."""

    title: str
    message: str
    button: str = ""


def email_link_preview(*, link: links.EmailLink) -> LinkPreview:
    """Say what a verified link would do, changing nothing.

    Mail scanners (Microsoft Safe Links and the like) open every link in an email; only the
    POST from this page's button acts, so a scanner's GET can never complete a follow-up.
    """
    user = User.objects.filter(pk=link.user_id, is_active=True).first()
    if user is None:
        raise EmailLinkNotFound
    target = _link_target(user, link)
    if EmailLinkUse.objects.filter(key=link.nonce).exists():
        used = _already_used(user, link)
        return LinkPreview(used.title, used.message)
    if isinstance(target, ReferralSource):  # the link is REFERRAL_ASKED
        return LinkPreview(
            "Log your referral ask",
            f"Log that you asked {target.name} for a referral today?",
            "Yes, I asked them",
        )
    if target.done_at is not None:
        return LinkPreview("Already done", f"{_describe(target)} was already done.")
    if link.action == links.FOLLOW_UP_DONE:
        return LinkPreview(
            "Mark the follow-up done",
            f"Mark {_describe(target)} (due {_local_label(target.due_at, user)}) as done?",
            "Mark it done",
        )
    if link.action == links.FOLLOW_UP_SNOOZE:
        return LinkPreview(
            "Snooze the follow-up",
            f"Snooze {_describe(target)} by {SNOOZE_DAYS} days?",
            f"Snooze {SNOOZE_DAYS} days",
        )
    return LinkPreview(
        "Log a call", f"Log a call with {target.lead} (for {_describe(target)})?", "Log the call"
    )


def email_link_perform(*, link: links.EmailLink, now: datetime | None = None) -> LinkOutcome:
    """Do what a verified email link asks, once: a second use changes nothing.

    The EmailLinkUse row and the action commit together, so a failed action leaves the link
    usable, and two clicks at once cannot both act (the unique key makes one of them wait and
    then fail). The action always goes through the owning app's service.
    """
    user = User.objects.filter(pk=link.user_id, is_active=True).first()
    if user is None:
        raise EmailLinkNotFound
    target = _link_target(user, link)
    try:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    EmailLinkUse.objects.create(key=link.nonce, user=user, action=link.action)
            except IntegrityError:
                return _already_used(user, link)
            return _LINK_ACTIONS[link.action](target, user, link, now)
    except ValidationError as error:
        return LinkOutcome("Nothing changed", " ".join(error.messages))


def _link_target(user: User, link: links.EmailLink) -> ReferralSource | FollowUp:
    target: ReferralSource | FollowUp | None
    if link.action == links.REFERRAL_ASKED:
        target = referral_sources_visible_to(user).filter(pk=link.object_id).first()
    else:
        target = (
            follow_ups_visible_to(user)
            .select_related("lead", "lead__owner")
            .filter(pk=link.object_id)
            .first()
        )
    if target is None:
        raise EmailLinkNotFound
    return target


def _already_used(user: User, link: links.EmailLink) -> LinkOutcome:
    used_at = EmailLinkUse.objects.get(key=link.nonce).used_at
    return LinkOutcome(
        "Already done",
        f"This link was already used on {_local_label(used_at, user)}; nothing changed.",
    )


def _referral_asked(
    source: ReferralSource, user: User, link: links.EmailLink, now: datetime | None
) -> LinkOutcome:
    referral_ask_record(source=source, user=user, asked_at=now, link_key=link.nonce)
    return LinkOutcome(
        "Referral ask logged",
        f"Logged: you asked {source.name} for a referral. "
        f"LeadHunter will suggest asking again in {source.ask_cadence_days} days.",
    )


def _follow_up_done(
    follow_up: FollowUp, user: User, link: links.EmailLink, now: datetime | None
) -> LinkOutcome:
    if follow_up.done_at is not None:
        return LinkOutcome(
            "Already done", f"{_describe(follow_up)} was already done; nothing changed."
        )
    next_follow_up = follow_up_complete(follow_up=follow_up, user=user, now=now)
    return LinkOutcome(
        "Follow-up done", f"Done: {_describe(follow_up)}.{_next_step(next_follow_up)}"
    )


def _follow_up_snooze(
    follow_up: FollowUp, user: User, link: links.EmailLink, now: datetime | None
) -> LinkOutcome:
    snoozed = follow_up_snooze(follow_up=follow_up, user=user, days=SNOOZE_DAYS, now=now)
    return LinkOutcome(
        "Follow-up snoozed",
        f"Snoozed: {_describe(follow_up)} is now due {_local_label(snoozed.due_at, user)}.",
    )


def _follow_up_log_call(
    follow_up: FollowUp, user: User, link: links.EmailLink, now: datetime | None
) -> LinkOutcome:
    lead = follow_up.lead
    activity_log(
        lead=lead, user=user, kind=ActivityKind.CALL, text="Logged from the daily digest.", now=now
    )
    next_follow_up = lead.follow_ups.filter(done_at__isnull=True).first()
    return LinkOutcome("Call logged", f"Logged a call with {lead}.{_next_step(next_follow_up)}")


_LINK_ACTIONS: dict[str, Callable[..., LinkOutcome]] = {
    links.REFERRAL_ASKED: _referral_asked,
    links.FOLLOW_UP_DONE: _follow_up_done,
    links.FOLLOW_UP_SNOOZE: _follow_up_snooze,
    links.FOLLOW_UP_LOG_CALL: _follow_up_log_call,
}


def _describe(follow_up: FollowUp) -> str:
    return f"{follow_up.get_kind_display()} with {follow_up.lead}"


def _next_step(follow_up: FollowUp | None) -> str:
    if follow_up is None:
        return ""
    owner = follow_up.lead.owner
    return f" Next step: {follow_up.get_kind_display()}, {_local_label(follow_up.due_at, owner)}."


def _local_label(moment: datetime, user: User) -> str:
    return formats.date_format(moment.astimezone(user.zone), "l j F, H:i")
