"""The request type of the views behind the login (accounts.middleware.LoginRequiredMiddleware)."""

from __future__ import annotations

from accounts.models import User
from leadhunter.htmx import HtmxHttpRequest


class AuthenticatedHttpRequest(HtmxHttpRequest):
    """A request to a view behind LoginRequiredMiddleware (every view not marked
    @login_not_required): its user is a signed-in `User`, never AnonymousUser."""

    user: User
