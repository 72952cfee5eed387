"""What the reminder emails say: subject, text and HTML parts, built from the selectors.

Every user-supplied string reaches the HTML part through Django's auto-escaping templates, and
the subject is forced onto one line (a header with a line break is a header injection).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from email.utils import make_msgid
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Count, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats

from accounts.models import User
from leads.models import FollowUp, Lead
from leads.selectors import follow_ups_due, hand_raisers_new
from referrals.selectors import referral_asks_due
from reminders import links
from reminders.models import Reminder, ReminderKind

# A digest is read on a phone before the first call: past this many rows, link to the app.
DIGEST_MAX_FOLLOW_UPS = 50
DIGEST_MAX_HAND_RAISERS = 20


class PermanentSendError(Exception):
    """Sending this reminder can never succeed (no address, address refused)."""


@dataclass(frozen=True)
class Content:
    subject: str
    template: str
    context: dict[str, object]


def compose(reminder: Reminder, *, now: datetime) -> EmailMultiAlternatives | None:
    """The email for this reminder, or None when there is nothing worth sending."""
    user = reminder.user
    if not user.email:
        raise PermanentSendError(f"{user} has no email address.")
    # Stable per reminder: if a crash makes us send it twice, mail systems can fold it.
    message_id = f"<reminder-{reminder.pk}.{reminder.period}@{_mail_domain()}>"
    return compose_for(user, reminder.kind, now=now, message_id=message_id)


def compose_for(
    user: User, kind: str, *, now: datetime, message_id: str | None = None
) -> EmailMultiAlternatives | None:
    """The `kind` email for `user` as it would be sent at `now`, or None when there would be
    nothing worth sending; the one composer behind the scheduled send, the preview and "send
    it to me now". Without `message_id` the email gets a fresh one (a copy asked for on
    demand must not be folded into the scheduled one by the mail system)."""
    build = _weekly_referrals if kind == ReminderKind.WEEKLY_REFERRALS else _daily_digest
    content = build(user, now)
    if content is None:
        return None
    return _message(user, content, message_id or make_msgid("reminder", _mail_domain()))


def _message(user: User, content: Content, message_id: str) -> EmailMultiAlternatives:
    context = {
        **content.context,
        "user": user,
        "time_zone": user.time_zone,
        "open_url": settings.SITE_URL + reverse("today"),
        "site_url": settings.SITE_URL,
    }
    message = EmailMultiAlternatives(
        subject=one_line(content.subject),
        body=render_to_string(f"reminders/email/{content.template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email] if user.email else [],
        headers={"Message-ID": message_id, "Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(
        render_to_string(f"reminders/email/{content.template}.html", context), "text/html"
    )
    return message


def one_line(text: str) -> str:
    """Header-safe: line breaks (and other control characters) become single spaces."""
    cleaned = "".join(" " if ord(char) < 32 or ord(char) == 127 else char for char in text)
    return " ".join(cleaned.split())


def _mail_domain() -> str:
    return urlsplit(settings.SITE_URL).hostname or "leadhunter.localhost"


# --- Weekly: who to ask for a referral -----------------------------------------------------


def _weekly_referrals(user: User, now: datetime) -> Content | None:
    # Read at send time, like everything here: a customer marked "do not contact" after the
    # reminder was planned is left out of it, and an email with nobody left is not sent.
    ranked = [
        item
        for item in referral_asks_due(user, now=now, with_lead=True)
        if not (item.source.lead and item.source.lead.do_not_contact)
    ]
    if not ranked:
        return None
    sources = [
        {
            "name": item.source.name,
            "kind": item.source.get_kind_display(),
            "strength": item.source.strength,
            "strength_dots": "●" * item.source.strength + "○" * (5 - item.source.strength),
            "referrals_given": item.referrals_given,
            "days_since_ask": item.days_since_ask,
            # How to reach them: the source's own address first, else its lead's.
            "phone": item.source.lead.phone if item.source.lead else "",
            "email": item.source.email or (item.source.lead.email if item.source.lead else ""),
            "asked_url": links.make_link(user, links.REFERRAL_ASKED, item.source.pk),
        }
        for item in ranked
    ]
    return Content(
        subject=f"Who to ask for a referral this week ({len(sources)})",
        template="weekly_referrals",
        context={"sources": sources, "referrals_url": settings.SITE_URL + reverse("referral-list")},
    )


# --- Daily: follow-ups and hand-raisers ----------------------------------------------------


def _daily_digest(user: User, now: datetime) -> Content | None:
    today = now.astimezone(user.zone).date()
    start_of_day = datetime.combine(today, time.min, tzinfo=user.zone)
    # Leads marked "do not contact" are left out when the email is composed (at send time).
    due = follow_ups_due(user, until=datetime.combine(today, time.max, tzinfo=user.zone)).exclude(
        lead__do_not_contact=True
    )
    counts = due.aggregate(
        overdue=Count("pk", filter=Q(due_at__lt=start_of_day)),
        today=Count("pk", filter=Q(due_at__gte=start_of_day)),
    )
    # Monday's digest covers the weekend, when no digest went out.
    since = now - timedelta(days=3 if today.weekday() == 0 else 1)
    hand_raisers = list(
        hand_raisers_new(user, since=since)
        .exclude(do_not_contact=True)
        .select_related("company")
        .order_by("-last_inbound_at")[: DIGEST_MAX_HAND_RAISERS + 1]
    )
    hand_raiser_count = (
        len(hand_raisers)
        if len(hand_raisers) <= DIGEST_MAX_HAND_RAISERS
        else hand_raisers_new(user, since=since).exclude(do_not_contact=True).count()
    )
    if not (counts["overdue"] or counts["today"] or hand_raisers):
        return None
    follow_ups = [_follow_up_row(user, follow_up) for follow_up in due[:DIGEST_MAX_FOLLOW_UPS]]
    return Content(
        subject=_digest_subject(today, counts["today"], counts["overdue"], hand_raiser_count),
        template="daily_digest",
        context={
            "day_label": _day_label(today),
            "overdue": [row for row in follow_ups if row["follow_up"].due_at < start_of_day],
            "due_today": [row for row in follow_ups if row["follow_up"].due_at >= start_of_day],
            "overdue_count": counts["overdue"],
            "due_today_count": counts["today"],
            "not_listed": counts["overdue"] + counts["today"] - len(follow_ups),
            "hand_raisers": [_hand_raiser_row(lead) for lead in hand_raisers],
            "hand_raiser_count": hand_raiser_count,
            "hand_raisers_not_listed": max(0, hand_raiser_count - DIGEST_MAX_HAND_RAISERS),
        },
    )


def _digest_subject(today: date, due_today: int, overdue: int, hand_raisers: int) -> str:
    raisers = f"{hand_raisers} new hand-raiser{'' if hand_raisers == 1 else 's'}"
    return f"Your follow-ups for {_day_label(today)}: {due_today} due, {overdue} overdue, {raisers}"


def _day_label(day: date) -> str:
    return formats.date_format(day, "l j F")


def _follow_up_row(user: User, follow_up: FollowUp) -> dict[str, object]:
    return {
        "follow_up": follow_up,
        "lead": follow_up.lead,
        "company": follow_up.lead.company.name if follow_up.lead.company else "",
        "kind": follow_up.get_kind_display(),
        "done_url": links.make_link(user, links.FOLLOW_UP_DONE, follow_up.pk),
        "snooze_url": links.make_link(user, links.FOLLOW_UP_SNOOZE, follow_up.pk),
        "call_url": links.make_link(user, links.FOLLOW_UP_LOG_CALL, follow_up.pk),
    }


def _hand_raiser_row(lead: Lead) -> dict[str, object]:
    return {"lead": lead, "company": lead.company.name if lead.company else ""}
