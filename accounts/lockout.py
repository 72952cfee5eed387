"""Login lockout (django-axes): which client address a failed login is counted against."""

from __future__ import annotations

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def client_ip(request: HttpRequest) -> str | None:
    """The address failed logins are counted against.

    Behind our one reverse proxy (BEHIND_PROXY), REMOTE_ADDR is the proxy for everyone, so
    the address is the last X-Forwarded-For entry: the one the proxy itself appended. The
    entries before it come from the client and could be forged to dodge the lockout.
    """
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if settings.BEHIND_PROXY and forwarded.strip():
        return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR")


def locked_out(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """The page for a locked-out login: the same for a known and an unknown username, so it
    tells nobody which usernames exist. 429 Too Many Requests, like django-axes' own."""
    context = {"title": "Too many failed logins", "minutes": lockout_minutes()}
    return render(request, "registration/locked_out.html", context, status=429)


def lockout_minutes() -> int:
    """How long a lockout lasts, in whole minutes (AXES_COOLOFF_TIME)."""
    return int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)


def failed_logins_left(request: HttpRequest, username: str) -> int:
    """How many more wrong passwords for this username from this address before the lockout.

    Counted the way django-axes counts (AXES_LOCKOUT_PARAMETERS), the same for known and
    unknown usernames, so the answer tells nobody whether an account exists.
    """
    failures = AxesProxyHandler.get_failures(request, {"username": username})
    return max(0, settings.AXES_FAILURE_LIMIT - failures)
