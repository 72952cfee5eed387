from __future__ import annotations

from django.contrib.auth import middleware
from django.utils import timezone
from django_htmx.http import HttpResponseClientRedirect


class LoginRequiredMiddleware(middleware.LoginRequiredMiddleware):
    """Every view needs a logged-in user unless marked @login_not_required.

    An htmx request cannot follow a redirect to the login page into a swap target, so it gets
    django-htmx's client redirect (HX-Redirect), which makes htmx load the login page as a
    full page; with 401 instead of its default 200, as nothing was served (htmx follows
    HX-Redirect whatever the status).
    """

    def handle_no_permission(self, request, view_func):
        response = super().handle_no_permission(request, view_func)
        # request.htmx is set: HtmxMiddleware's __call__ runs before any middleware's
        # process_view, where LoginRequiredMiddleware decides.
        if request.htmx:
            return HttpResponseClientRedirect(response["Location"], status=401)
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
