from __future__ import annotations

from django.contrib.auth import middleware
from django.http import HttpResponse


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
