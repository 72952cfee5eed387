"""Writes for the API app: tokens and the calendar feed."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from api.models import ApiToken, CalendarFeed

TOKEN_PREFIX = "lh_"  # noqa: S105 -- a marker that makes leaked tokens greppable, not a secret
# "lh_" and 8 characters of the secret: enough to tell tokens apart, far too few to guess one.
TOKEN_SHOWN_CHARS = 11
# Writing last_used_at on every request would turn each API read into a write.
LAST_USED_PRECISION = timedelta(minutes=1)
MAX_ACTIVE_TOKENS = 20


def api_token_hash(key: str) -> str:
    """The stored form of a token. A plain SHA-256 suffices: the secret is 256 random bits,
    so there is no dictionary to attack, and a lookup must stay cheap on every request."""
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a token for `user`; returns it with its secret, which is never stored."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Name the token after what will use it."})
    # Lock the user row so two concurrent creations can't both slip under the cap.
    User.objects.select_for_update().filter(pk=user.pk).first()
    if ApiToken.objects.filter(user=user, revoked_at__isnull=True).count() >= MAX_ACTIVE_TOKENS:
        raise ValidationError(
            f"You have {MAX_ACTIVE_TOKENS} active tokens; revoke one you no longer use first."
        )
    key = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user=user, name=name, prefix=key[:TOKEN_SHOWN_CHARS], key_hash=api_token_hash(key)
    )
    token.full_clean()
    token.save()
    return token, key


@transaction.atomic
def api_token_revoke(*, token: ApiToken, now: datetime | None = None) -> ApiToken:
    """Revoke a token for good; revoking twice keeps the first time."""
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=now or timezone.now()
    )
    token.refresh_from_db(fields=["revoked_at"])
    return token


def api_token_touch(*, token: ApiToken, now: datetime | None = None) -> None:
    """Note that the token was used, at most once a minute (one UPDATE, no read)."""
    now = now or timezone.now()
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_PRECISION:
        return
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    token.last_used_at = now


@transaction.atomic
def calendar_feed_regenerate(*, user: User) -> CalendarFeed:
    """Give the user a new secret feed link; the previous link stops working at once."""
    feed, _ = CalendarFeed.objects.update_or_create(
        user=user, defaults={"token": secrets.token_urlsafe(32)}
    )
    return feed


@transaction.atomic
def calendar_feed_delete(*, user: User) -> None:
    """Turn the feed off: the link stops working and none is shown until one is created."""
    CalendarFeed.objects.filter(user=user).delete()
