"""Login lockout (django-axes): which client address a failed login is counted against."""

from __future__ import annotations

from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone


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


def failure_limit(request: HttpRequest, credentials: dict | None = None) -> int:
    """django-axes' limit for this attempt (AXES_FAILURE_LIMIT points here).

    Axes counts per username + address (LOGIN_FAILURES_PER_USERNAME). Guessing many usernames
    from one address is limited too: once that address has failed LOGIN_FAILURES_PER_ADDRESS
    times within the cool-off, whatever the usernames, its limit drops to 0 and every login
    from it answers the lockout page until the cool-off ends. The address limit is much higher
    than the username one, so an office behind one NAT address is not locked out by a few typos.
    """
    if address_failures(request) >= settings.LOGIN_FAILURES_PER_ADDRESS:
        return 0
    return settings.LOGIN_FAILURES_PER_USERNAME


def address_failures(request: HttpRequest) -> int:
    """Failed logins from this client address within the cool-off, for any username."""
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    failures = AccessAttempt.objects.filter(
        ip_address=client_ip(request), attempt_time__gte=since
    ).aggregate(total=Sum("failures_since_start"))["total"]
    return failures or 0


def failed_logins_left(request: HttpRequest, username: str) -> int:
    """How many more wrong passwords for this username from this address before the lockout.

    Counted the way django-axes counts (AXES_LOCKOUT_PARAMETERS), the same for known and
    unknown usernames, so the answer tells nobody whether an account exists.
    """
    credentials = {"username": username}
    failures = AxesProxyHandler.get_failures(request, credentials)
    return max(0, failure_limit(request, credentials) - failures)
