"""The public page and its embeddable form (no login), and the salesperson's settings for them.

The public views are csrf_exempt: the form is anonymous and is posted from other sites' pages
(the embed), where the browser sends no cookie. What guards it instead: a signed stamp that
says when the form was handed out (a minimum fill time), a honeypot field, per-IP and per-page
rate limits in the cache, and size limits on the request and every field.
"""

from __future__ import annotations

from csp.constants import NONE
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from accounts.http import AuthenticatedHttpRequest
from accounts.lockout import client_ip
from handraise import services
from handraise.forms import HandRaiseForm, PublicPageForm, form_started_age, form_started_stamp
from handraise.models import Channel, PublicPage
from handraise.throttle import throttle_hit
from leadhunter.forms import add_service_errors
from leads.models import ActivityKind

# A submission is a few kilobytes at most; anything far larger is refused before it is read.
MAX_BODY_BYTES = 32 * 1024


def _page_or_404(token: str) -> PublicPage:
    page = PublicPage.objects.select_related("owner").filter(token=token).first()
    if page is None or not page.owner.is_active:
        raise Http404("No such page.")
    return page


def owner_name(page: PublicPage) -> str:
    return page.owner.get_full_name() or page.owner.get_username()


def consent_text(page: PublicPage) -> str:
    """The sentence the visitor agrees to; kept word for word with their hand-raise."""
    return (
        f"I agree that {owner_name(page)} may contact me about this request and keep my "
        "details for that purpose."
    )


# --- The visitor's side --------------------------------------------------------------------


@login_not_required
@csrf_exempt
@require_http_methods(["GET", "POST"])
def public_page(request: HttpRequest, token: str) -> HttpResponse:
    """The salesperson's page: their intro, the form, and (when on) bookable slots."""
    page = _page_or_404(token)
    return _form_view(request, page, channel=Channel.PAGE)


@login_not_required
@csrf_exempt
@xframe_options_exempt
@require_http_methods(["GET", "POST"])
def public_page_embed(request: HttpRequest, token: str) -> HttpResponse:
    """The form alone, to show in an iframe on the sites the salesperson listed."""
    page = _page_or_404(token)
    return _framable(_form_view(request, page, channel=Channel.EMBED), page)


@login_not_required
@require_http_methods(["GET"])
def public_page_thanks(request: HttpRequest, token: str) -> HttpResponse:
    page = _page_or_404(token)
    return render(request, "handraise/public_page_thanks.html", _context(page))


@login_not_required
@xframe_options_exempt
@require_http_methods(["GET"])
def public_page_embed_thanks(request: HttpRequest, token: str) -> HttpResponse:
    page = _page_or_404(token)
    context = {**_context(page), "embedded": True}
    return _framable(render(request, "handraise/public_page_thanks.html", context), page)


def _framable(response: HttpResponse, page: PublicPage) -> HttpResponse:
    """Only the sites the salesperson named may frame this response; with none, no site may.

    django-csp's per-response override (what its csp_replace decorator sets), so the strict
    frame-ancestors 'none' of every other page is untouched. The origins were validated as
    http(s) origins when saved (services.embed_origins_clean).
    """
    response._csp_replace = {"frame-ancestors": page.embed_origin_list or [NONE]}  # type: ignore[attr-defined]
    return response


def _context(page: PublicPage, **extra: object) -> dict[str, object]:
    return {
        "page": page,
        "owner_name": owner_name(page),
        "title": owner_name(page),
        **extra,
    }


def _form_view(request: HttpRequest, page: PublicPage, *, channel: str) -> HttpResponse:
    template = (
        "handraise/public_page_embed.html"
        if channel == Channel.EMBED
        else "handraise/public_page.html"
    )
    thanks = "public-page-embed-thanks" if channel == Channel.EMBED else "public-page-thanks"
    embedded = channel == Channel.EMBED
    consent = consent_text(page)
    if request.method != "POST":
        form = HandRaiseForm(
            consent_text=consent, initial={"started": form_started_stamp(page.token)}
        )
        return render(request, template, _context(page, form=form, embedded=embedded))

    refused = _refused(request, page)
    if refused is not None:
        return refused
    form = HandRaiseForm(request.POST, consent_text=consent)
    if form.is_valid() and form.cleaned_data["website"]:
        # A bot filled the honeypot: it is told it worked, and nothing lands.
        return redirect(thanks, token=page.token)
    problem = _too_fast_or_stale(form, page)
    if form.is_valid() and problem is None:
        data = form.cleaned_data
        try:
            services.hand_raise_land(
                page=page,
                name=data["name"],
                email=data["email"],
                company=data["company"],
                phone=data["phone"],
                message=data["message"],
                kind=ActivityKind.ASKED_FOR_INFO,
                consent_text=consent,
                ip=client_ip(request) or "",
                user_agent=request.headers.get("User-Agent", ""),
                channel=channel,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect(thanks, token=page.token)
    # A person is never lost: the form comes back with what they typed and a fresh stamp.
    data = request.POST.copy()
    data["started"] = form_started_stamp(page.token)
    form.data = data
    if problem is not None and not form.errors:
        form.add_error(None, problem)
    return render(request, template, _context(page, form=form, embedded=embedded), status=422)


def _too_fast_or_stale(form: HandRaiseForm, page: PublicPage) -> str | None:
    age = form_started_age(
        form.data.get("started", ""), page.token, max_age=settings.HAND_RAISE_FORM_MAX_AGE
    )
    if age is None:
        return "This form had expired. Please check your details and press Send again."
    if age < settings.HAND_RAISE_MIN_FILL_SECONDS:
        return "That was very quick! Please check your details and press Send again."
    return None


def _refused(request: HttpRequest, page: PublicPage) -> HttpResponse | None:
    """Too large (413) or too many (429): answered before the form is read."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = MAX_BODY_BYTES + 1
    if length > MAX_BODY_BYTES:
        return render(
            request,
            "handraise/refused.html",
            _context(page, reason="too_large"),
            status=413,
        )
    window = settings.HAND_RAISE_THROTTLE_WINDOW
    ip = client_ip(request) or "unknown"
    # The page's count takes only what the address's limit let through: one flooding address
    # cannot use up the page's limit and shut out everyone else.
    allowed = throttle_hit(
        f"ip:{ip}", limit=settings.HAND_RAISES_PER_IP, window_seconds=window
    ) and throttle_hit(
        f"page:{page.pk}", limit=settings.HAND_RAISES_PER_PAGE, window_seconds=window
    )
    if allowed:
        return None
    response = render(
        request,
        "handraise/refused.html",
        _context(page, reason="too_many", minutes=window // 60),
        status=429,
    )
    response["Retry-After"] = str(window)
    return response


# --- The salesperson's side ----------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def public_page_settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Settings → Public page: the intro, the address (copy, regenerate), the embed snippet."""
    page = services.public_page_for(owner=request.user)
    if request.method == "POST":
        form = PublicPageForm(request.POST)
        if form.is_valid():
            try:
                services.public_page_update(page=page, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "Public page saved.")
                return redirect("public-page-settings")
        status = 422
    else:
        form = PublicPageForm(initial={"intro": page.intro, "embed_origins": page.embed_origins})
        status = 200
    page_url = request.build_absolute_uri(reverse("public-page", args=[page.token]))
    embed_url = request.build_absolute_uri(reverse("public-page-embed", args=[page.token]))
    context = {
        "title": "Public page",
        "page": page,
        "form": form,
        "page_url": page_url,
        "embed_url": embed_url,
        "embed_snippet": (
            f'<iframe src="{embed_url}" title="Contact {owner_name(page)}" loading="lazy" '
            'style="width:100%;max-width:520px;height:720px;border:0"></iframe>'
        ),
    }
    return render(request, "handraise/public_page_settings.html", context, status=status)


@require_POST
def public_page_regenerate(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A new address; the old one answers 404 from now on."""
    page = services.public_page_for(owner=request.user)
    services.public_page_regenerate_token(page=page)
    messages.success(
        request, "Your page has a new address. The old one no longer works: share the new one."
    )
    return redirect("public-page-settings")
