"""Project-wide response policies that belong to no single app."""

from __future__ import annotations

from django.utils.cache import patch_cache_control


class PrivateNoStoreMiddleware:
    """Pages, partials, API answers and exports carry a salesperson's data: no browser or
    proxy may keep a copy (a shared computer's back button or disk cache would show it to the
    next person). A view that chose its own Cache-Control keeps it; static files never get
    here (whitenoise answers them before this middleware and caches them for a year)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True, no_store=True)
        return response
