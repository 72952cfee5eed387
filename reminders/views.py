"""The one page behind every one-click link in a reminder email, and the previews of the
emails (with "Send it to me now") that Settings links to."""

from __future__ import annotations

from csp.constants import NONE, SELF, UNSAFE_INLINE
from csp.decorators import csp
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.http import AuthenticatedHttpRequest
from reminders import links, selectors, services


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
    request: HttpRequest,
    title: str,
    message: str,
    *,
    button: str = "",
    status: int = 200,
) -> HttpResponse:
    context = {"title": title, "message": message, "button": button}
    response = render(request, "reminders/link_result.html", context, status=status)
    # The URL carries a credential: keep it out of search indexes and other sites' logs.
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


# --- Previews and "Send it to me now" (linked from Settings) -------------------------------


def _kind(slug: str) -> str:
    try:
        return selectors.KIND_BY_SLUG[slug]
    except KeyError:
        raise Http404("No such email.") from None


@require_GET
@never_cache  # the email's one-click links are credentials
def reminder_email_preview(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    """The email as it would be sent today: subject, recipient, the HTML part in a sandboxed
    frame (reminder_email_preview_html) and the plain-text part, with "Send it to me now"."""
    preview = selectors.reminder_preview(user=request.user, kind=_kind(slug))
    context = {"title": f"Preview: {preview.title}", "preview": preview}
    return render(request, "reminders/email_preview.html", context)


@require_GET
@never_cache
@xframe_options_sameorigin
# The email's HTML uses inline styles (mail apps ignore style sheets): allowed here, for this
# response only, which runs no script (and the frame showing it is sandboxed besides).
# django-csp 4.0 types its decorators for views taking the request alone (not a slug too).
@csp(  # type: ignore[arg-type]
    {
        "default-src": [NONE],
        "style-src": [UNSAFE_INLINE],
        "img-src": ["data:"],
        "frame-ancestors": [SELF],
        "form-action": [NONE],
        "base-uri": [NONE],
    }
)
def reminder_email_preview_html(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    """The HTML part alone, for the preview page's frame."""
    preview = selectors.reminder_preview(user=request.user, kind=_kind(slug))
    if not preview.html:
        raise Http404(preview.nothing_to_send)
    # Its links open in a new tab: the pages they lead to refuse to be framed.
    html = preview.html.replace("<head>", '<head><base target="_blank">', 1)
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_POST
def reminder_email_send(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    """Send the email to the user's own address now, and say so (or why not) on the page the
    button was on."""
    result = services.reminder_send_to_self(user=request.user, kind=_kind(slug))
    (messages.success if result.sent else messages.error)(request, result.message)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = reverse("settings")  # its top, where the message is
    return redirect(back)
