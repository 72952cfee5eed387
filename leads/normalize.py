"""Normalising contact data so the same person is recognised however it was typed."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import phonenumbers

LINKEDIN_PROFILE = re.compile(r"^/(in|pub|company)/([^/?#]+)", re.IGNORECASE)
# A profile URL as `normalize_linkedin_url` writes it with a plain slug: one that a URL field's
# validator surely passes, so validating it can be skipped.
PLAIN_PROFILE_URL = re.compile(r"https://www\.linkedin\.com/(in|pub|company)/[a-z0-9._~%-]+")


def normalize_email(email: str) -> str:
    """Trimmed and lower-cased: mailboxes are case-insensitive in practice."""
    return email.strip().lower()


def normalize_domain(value: str) -> str:
    """'https://www.Example.com/about' → 'example.com'."""
    value = value.strip().lower()
    if not value:
        return ""
    if "://" not in value:
        value = f"//{value}"
    host = urlsplit(value).hostname or ""
    return host.removeprefix("www.").rstrip(".")


def normalize_linkedin_url(url: str) -> str:
    """Any form of a profile URL → 'https://www.linkedin.com/in/<slug>'.

    Query strings, trailing slashes, country subdomains and http/https differences are dropped
    so that the same profile pasted twice is recognised as one person.
    """
    url = url.strip()
    if not url:
        return ""
    if "://" not in url:
        url = f"https://{url}"
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if not host.endswith("linkedin.com"):
        return url
    match = LINKEDIN_PROFILE.match(parts.path)
    if not match:
        return f"https://www.linkedin.com{parts.path.rstrip('/')}".lower()
    kind, slug = match.groups()
    return f"https://www.linkedin.com/{kind.lower()}/{slug.lower()}"


# E.164 strings this process has produced. Normalising one again gives itself whatever the
# region (a number starting with + ignores it), so the second pass an import makes over each
# phone (the row's candidate, then the lead service's own normalising) skips phonenumbers'
# parse, which is most of that cost. Bounded: cleared when full.
_E164_PRODUCED: dict[str, None] = {}
_E164_REMEMBERED = 50_000


def normalize_phone(phone: str, *, region: str = "") -> str:
    """E.164 ('+442071234567') when the number can be parsed, else the trimmed input."""
    phone = phone.strip()
    if not phone:
        return ""
    if phone in _E164_PRODUCED:
        return phone
    try:
        parsed = phonenumbers.parse(phone, region.upper() or None)
    except phonenumbers.NumberParseException:
        return phone
    if not phonenumbers.is_possible_number(parsed):
        return phone
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if len(_E164_PRODUCED) >= _E164_REMEMBERED:
        _E164_PRODUCED.clear()
    _E164_PRODUCED[e164] = None
    return e164
