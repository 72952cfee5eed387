from __future__ import annotations

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
    for url_name, label in NAVIGATION:
        url = reverse(url_name)
        current = path == url if url == "/" else path.startswith(url)
        items.append({"url": url, "label": label, "current": current})
    is_manager = request.user.is_manager
    if is_manager:
        # Reversed by name only: accounts does not import the team app above it.
        url = reverse("team")
        items.append({"url": url, "label": "Team", "current": path.startswith(url)})
    return {"nav_items": items, "is_manager": is_manager}
