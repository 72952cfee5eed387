from __future__ import annotations

import functools

from django.urls import reverse

NAVIGATION = [
    ("today", "Today"),
    ("lead-list", "Leads"),
    ("pipeline", "Pipeline"),
    ("referral-list", "Referrals"),
    ("prospect-lookalikes", "Prospect"),
    ("icp-list", "ICP"),
    ("reports", "Reports"),
]


def navigation(request) -> dict[str, object]:
    """The main navigation, with the current section marked."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    path = request.path
    items = []
    for url, label in _navigation_urls():
        current = path == url if url == "/" else path.startswith(url)
        items.append({"url": url, "label": label, "current": current})
    is_manager = request.user.is_manager
    if is_manager:
        url = _team_url()
        items.append({"url": url, "label": "Team", "current": path.startswith(url)})
    return {"nav_items": items, "is_manager": is_manager}


# Reversed once per process: the URLconf does not change while it runs, and seven `reverse`
# calls were a twentieth of the lead list's CPU (issue 20).
@functools.cache
def _navigation_urls() -> tuple[tuple[str, str], ...]:
    return tuple((reverse(url_name), label) for url_name, label in NAVIGATION)


@functools.cache
def _team_url() -> str:
    # Reversed by name only: accounts does not import the team app above it.
    return reverse("team")
