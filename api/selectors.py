"""Reads for the API app: tokens, the calendar feed and what the feed shows."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from api.models import ApiToken, CalendarFeed
from api.services import api_token_hash
from leads.models import FollowUp
from leads.selectors import follow_ups_due

# A calendar app needs the weeks ahead, not every step planned for the next decade.
CALENDAR_HORIZON = timedelta(days=365)


def api_tokens_of(user: User) -> QuerySet[ApiToken]:
    """The user's own tokens, newest first (revoked ones included, marked)."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")


def api_token_for_key(key: str) -> ApiToken | None:
    """The active token whose secret is `key`, with its user; None if unknown or revoked."""
    return (
        ApiToken.objects.select_related("user")
        .filter(key_hash=api_token_hash(key), revoked_at__isnull=True)
        .first()
    )


def calendar_feed_of(user: User) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(user=user).first()


def calendar_feed_for_token(token: str) -> CalendarFeed | None:
    return CalendarFeed.objects.select_related("user").filter(token=token).first()


def calendar_follow_ups(user: User, *, now: datetime | None = None) -> QuerySet[FollowUp]:
    """The user's own pending follow-ups for the feed (overdue ones too), soonest first.

    Only the user's own, even for a manager: it is their calendar, not the team's.
    """
    now = now or timezone.now()
    return follow_ups_due(user, until=now + CALENDAR_HORIZON)
