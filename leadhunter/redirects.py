"""Where a view may send the browser after a POST: only back into this site."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def next_url(request: HttpRequest, default: str) -> str:
    """The `next` the form posted if it stays on this host, else `default`.

    A `next` of //evil.example, https://evil.example, /\\evil.example or javascript:… would
    turn a LeadHunter link into a phishing hop (an open redirect); Django's own check, the one
    its login and logout views use, tells them apart from our own paths.
    """
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    # A control character (CR/LF/NUL…) cannot go into a Location or HX-Redirect header: it
    # would turn the change the view has just saved into a 500.
    if any(ord(character) < 32 or ord(character) == 127 for character in candidate):
        return default
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default
