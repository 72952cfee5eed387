"""Reads of the reminder emails: what an email would say today, and how the outbox stands."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from django.db.models import Count, Min, Q
from django.utils import timezone

from accounts.models import User
from reminders import emails
from reminders.models import Reminder, ReminderKind, ReminderStatus

# The names the Settings page and `send_reminders --kind` use for the two emails.
KIND_BY_SLUG = {"weekly": ReminderKind.WEEKLY_REFERRALS, "digest": ReminderKind.DAILY_DIGEST}
SLUG_BY_KIND: dict[str, str] = {kind: slug for slug, kind in KIND_BY_SLUG.items()}

_ABOUT: dict[str, dict[str, str]] = {
    ReminderKind.WEEKLY_REFERRALS: {
        "title": "Weekly referral email",
        "schedule": "Sent on Mondays at 08:00 your time",
        "empty": "Nothing to send today — the weekly email is skipped when nobody is due "
        "for a referral ask.",
        "setting": "weekly_referral_email",
    },
    ReminderKind.DAILY_DIGEST: {
        "title": "Daily digest",
        "schedule": "Sent on weekdays at 07:30 your time",
        "empty": "Nothing to send today — the digest is skipped on days with nothing due.",
        "setting": "daily_digest_email",
    },
}


@dataclass(frozen=True)
class ReminderPreview:
    """One reminder email for one user as it would be sent now; `subject` is empty (and
    `nothing_to_send` says why) when the real send would skip it."""

    kind: str
    slug: str
    title: str
    schedule: str
    turned_on: bool
    recipient: str
    subject: str = ""
    text: str = ""
    html: str = ""
    nothing_to_send: str = ""


def reminder_about(kind: str) -> dict[str, str]:
    return _ABOUT[kind]


def reminder_preview(*, user: User, kind: str, now: datetime | None = None) -> ReminderPreview:
    """Compose `user`'s `kind` email with the code the scheduled send uses, without sending it.

    The email's one-click links are real (signed for `user`), as in the email itself.
    """
    about = _ABOUT[kind]
    shown = ReminderPreview(
        kind=kind,
        slug=SLUG_BY_KIND[kind],
        title=about["title"],
        schedule=about["schedule"],
        turned_on=bool(getattr(user, about["setting"])),
        recipient=user.email,
    )
    message = emails.compose_for(user, kind, now=now or timezone.now())
    if message is None:
        return replace(shown, nothing_to_send=about["empty"])
    # compose_for attaches the HTML as text; str() also renders a lazily translated subject.
    [(html, _)] = message.alternatives
    return replace(shown, subject=str(message.subject), text=str(message.body), html=str(html))


@dataclass(frozen=True)
class OutboxCounts:
    pending: int
    oldest_pending_at: datetime | None
    failed: int
    last_failed_error: str


def reminder_outbox_counts(*, since: datetime) -> OutboxCounts:
    """Reminders still to send (pending, or being sent) with the earliest time one of them
    was due to go, and those that failed for good since `since`, with the last one's error."""
    unsent = Q(status__in=[ReminderStatus.PENDING, ReminderStatus.SENDING])
    failed = Q(status=ReminderStatus.FAILED, due_at__gte=since)
    counts = Reminder.objects.aggregate(
        pending=Count("pk", filter=unsent),
        oldest_pending_at=Min("next_attempt_at", filter=unsent),
        failed=Count("pk", filter=failed),
    )
    last_error = ""
    if counts["failed"]:
        last_error = (
            Reminder.objects.filter(failed).order_by("-due_at").values_list("last_error", flat=True)
        ).first() or ""
    return OutboxCounts(last_failed_error=last_error, **counts)
