"""The one page behind every one-click link in a reminder email."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from reminders import links, services


@require_http_methods(["GET", "POST"])
@never_cache
@login_not_required  # the signed token is the credential: the link must work on a phone
def email_link(request: HttpRequest, token: str) -> HttpResponse:
    """Verify the link; GET says what it will do with one button, and only that button's POST
    does it (once), so a mail scanner opening the link changes nothing. Either way the page
    says what happened in the salesperson's words."""
    try:
        link = links.read_link(token)
    except links.LinkExpired:
        return _result(
            request,
            "This link has expired",
            "This link has expired — open LeadHunter to do it there.",
            status=410,
        )
    except links.LinkInvalid:
        return _result(
            request,
            "This link is not valid",
            "This link is not valid. It may have been cut short by your email app — "
            "open LeadHunter to do it there.",
            status=400,
        )
    try:
        if request.method == "GET":
            preview = services.email_link_preview(link=link)
            return _result(request, preview.title, preview.message, button=preview.button)
        outcome = services.email_link_perform(link=link)
    except services.EmailLinkNotFound:
        return _result(
            request,
            "Not found",
            "What this link points to no longer exists or is no longer yours.",
            status=404,
        )
    return _result(request, outcome.title, outcome.message)


def _result(
    request: HttpRequest, title: str, message: str, *, button: str = "", status: int = 200
) -> HttpResponse:
    context = {"title": title, "message": message, "button": button}
    response = render(request, "reminders/link_result.html", context, status=status)
    # The URL carries a credential: keep it out of search indexes and other sites' logs.
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response
