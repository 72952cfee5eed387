from __future__ import annotations

from django.contrib.auth import middleware
from django.http import HttpResponse
from django.utils import timezone


class LoginRequiredMiddleware(middleware.LoginRequiredMiddleware):
    """Every view needs a logged-in user unless marked @login_not_required.

    An htmx request cannot follow a redirect to the login page into a swap target, so it gets
    401 with HX-Redirect, which makes htmx load the login page as a full page.
    """

    def handle_no_permission(self, request, view_func):
        response = super().handle_no_permission(request, view_func)
        if request.headers.get("HX-Request") == "true":
            unauthorised = HttpResponse(status=401)
            unauthorised["HX-Redirect"] = response["Location"]
            return unauthorised
        return response


class UserTimeZoneMiddleware:
    """Dates and times on pages show in the logged-in user's own time zone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            timezone.activate(user.zone)
        else:
            timezone.deactivate()
        return self.get_response(request)
