"""Signed one-click links in reminder emails.

The token is the credential: whoever holds it may do that one action, as that user, on that one
object, until it expires. So it carries no more than it must (who, what, on which id, a nonce), is
signed with SECRET_KEY under its own salt (a session or password-reset signature can never pass
for one), and each action has a short lifetime matched to the email it comes in.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse

from accounts.models import User

SALT = "leadhunter.email-link"

REFERRAL_ASKED = "referral_asked"
FOLLOW_UP_DONE = "follow_up_done"
FOLLOW_UP_SNOOZE = "follow_up_snooze"
FOLLOW_UP_LOG_CALL = "follow_up_log_call"

# The weekly email is read during its week (and the next); a digest is about one day's work.
LIFETIMES: dict[str, timedelta] = {
    REFERRAL_ASKED: timedelta(days=14),
    FOLLOW_UP_DONE: timedelta(days=3),
    FOLLOW_UP_SNOOZE: timedelta(days=3),
    FOLLOW_UP_LOG_CALL: timedelta(days=3),
}
ACTIONS = tuple(LIFETIMES)
LONGEST_LIFETIME = max(LIFETIMES.values())


class LinkError(Exception):
    """A link that must not be acted on; the message is safe to show."""


class LinkInvalid(LinkError):
    """Tampered with, truncated, or not one of ours."""


class LinkExpired(LinkError):
    """Genuine but too old."""


@dataclass(frozen=True)
class EmailLink:
    user_id: int
    action: str
    object_id: int
    # Unique per link: the idempotency key that makes a second click change nothing.
    nonce: str


def make_token(user: User, action: str, object_id: int) -> str:
    if action not in LIFETIMES:
        raise ValueError(f"Unknown email-link action {action!r}.")
    payload = {"u": user.pk, "a": action, "o": object_id, "n": secrets.token_urlsafe(12)}
    return signing.dumps(payload, salt=SALT, compress=True)


def make_link(user: User, action: str, object_id: int) -> str:
    """The absolute URL (on SITE_URL) that performs `action` on `object_id` as `user`."""
    token = make_token(user, action, object_id)
    return settings.SITE_URL + reverse("reminders:email-link", args=[token])


def read_link(token: str, *, max_age: timedelta | None = None) -> EmailLink:
    """Verify a token; raise LinkInvalid or LinkExpired rather than return anything doubtful.

    Without `max_age` the action's own lifetime applies. The action is only known once the
    signature is checked, so the token is checked against the longest lifetime first and then
    against its action's.
    """
    payload = _unsign(token, max_age or LONGEST_LIFETIME)
    link = _parse(payload)
    if max_age is None:
        _unsign(token, LIFETIMES[link.action])
    return link


def _unsign(token: str, max_age: timedelta) -> object:
    try:
        return signing.loads(token, salt=SALT, max_age=max_age)
    except signing.SignatureExpired as error:
        raise LinkExpired("This link has expired.") from error
    except (signing.BadSignature, ValueError) as error:
        # ValueError: a token whose signature is fine cannot produce one, but truncated
        # base64 or zlib data in a hand-edited token can.
        raise LinkInvalid("This link is not valid.") from error


def _parse(payload: object) -> EmailLink:
    if not isinstance(payload, dict):
        raise LinkInvalid("This link is not valid.")
    try:
        link = EmailLink(
            user_id=int(payload["u"]),
            action=str(payload["a"]),
            object_id=int(payload["o"]),
            nonce=str(payload["n"]),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise LinkInvalid("This link is not valid.") from error
    if link.action not in LIFETIMES or not link.nonce:
        raise LinkInvalid("This link is not valid.")
    return link
