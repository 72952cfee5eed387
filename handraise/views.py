"""The public page and its embeddable form (no login), and the salesperson's settings for them.

The public views are csrf_exempt: the form is anonymous and is posted from other sites' pages
(the embed), where the browser sends no cookie. What guards it instead: a signed stamp that
says when the form was handed out (a minimum fill time), a honeypot field, per-IP and per-page
rate limits in the cache, and size limits on the request and every field.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from itertools import groupby
from typing import Any
from zoneinfo import ZoneInfo

from csp.constants import NONE
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from accounts.http import AuthenticatedHttpRequest
from accounts.lockout import client_ip
from accounts.models import TIME_ZONE_CHOICES
from handraise import selectors, services
from handraise.forms import (
    VISITOR_ZONES,
    BookingForm,
    BookingSettingsForm,
    HandRaiseForm,
    PublicPageForm,
    form_started_age,
    form_started_stamp,
)
from handraise.models import Booking, Channel, PublicPage
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
        extra = {} if embedded else _booking_context(request, page)
        return render(request, template, _context(page, form=form, embedded=embedded, **extra))

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
    extra = {} if embedded else _booking_context(request, page)
    return render(
        request, template, _context(page, form=form, embedded=embedded, **extra), status=422
    )


def _too_fast_or_stale(form: HandRaiseForm | BookingForm, page: PublicPage) -> str | None:
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
            _context(page, reason="too_large", back_url=request.get_full_path()),
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
        _context(page, reason="too_many", minutes=window // 60, back_url=request.get_full_path()),
        status=429,
    )
    response["Retry-After"] = str(window)
    return response


# --- Booking a meeting ---------------------------------------------------------------------


def _visitor_zone(request: HttpRequest, page: PublicPage) -> tuple[str, bool]:
    """The zone to show times in: the `tz` asked for (the browser's, or one the visitor chose),
    else the owner's (without JavaScript). The flag says whether the visitor asked."""
    asked = request.GET.get("tz", "") if request.method == "GET" else request.POST.get("tz", "")
    if asked in VISITOR_ZONES:
        return asked, True
    return page.owner.time_zone, False


def slot_days(starts: Iterable[datetime], zone_name: str) -> list[tuple[date, list[dict]]]:
    """The free slots grouped by the visitor's local day, each with its UTC value and its
    local time."""
    zone = ZoneInfo(zone_name)
    slots: list[dict[str, Any]] = [
        {"value": start.strftime("%Y-%m-%dT%H:%MZ"), "local": start.astimezone(zone)}
        for start in starts
    ]
    return [
        (day, list(group)) for day, group in groupby(slots, key=lambda slot: slot["local"].date())
    ]


def _booking_context(request: HttpRequest, page: PublicPage, **extra: object) -> dict:
    if not page.booking_enabled:
        return {}
    zone_name, asked = _visitor_zone(request, page)
    return {
        "booking_zone": zone_name,
        "booking_zone_asked": asked,
        "booking_days": slot_days(selectors.free_slots_of(page, now=timezone.now()), zone_name),
        "zone_choices": TIME_ZONE_CHOICES,
        "owner_zone": page.owner.time_zone,
        **extra,
    }


def _page_with_slots(request: HttpRequest, page: PublicPage, *, error: str, status: int):
    form = HandRaiseForm(
        consent_text=consent_text(page), initial={"started": form_started_stamp(page.token)}
    )
    extra = _booking_context(request, page, booking_error=error)
    return render(
        request, "handraise/public_page.html", _context(page, form=form, **extra), status=status
    )


@login_not_required
@csrf_exempt
@require_http_methods(["GET", "POST"])
def booking_new(request: HttpRequest, token: str) -> HttpResponse:
    """The visitor picked a slot: who they are, then the booking (or "just taken")."""
    page = _page_or_404(token)
    if not page.booking_enabled:
        raise Http404("This page takes no bookings.")
    consent = consent_text(page)
    zone_name, _asked = _visitor_zone(request, page)
    if request.method != "POST":
        form = BookingForm(
            consent_text=consent,
            initial={
                "start": request.GET.get("start", ""),
                "tz": zone_name,
                "started": form_started_stamp(page.token),
            },
        )
        start = _slot_start(request.GET.get("start", ""))
        if start is None or not selectors.slot_is_free(page, start=start, now=timezone.now()):
            return _page_with_slots(
                request, page, error="That time is no longer free, pick another.", status=200
            )
        return _booking_form(request, page, form, start=start, zone_name=zone_name)

    refused = _refused(request, page)
    if refused is not None:
        return refused
    form = BookingForm(request.POST, consent_text=consent)
    if form.is_valid() and form.cleaned_data["website"]:
        return redirect("public-page-thanks", token=page.token)
    problem = _too_fast_or_stale(form, page)
    if form.is_valid() and problem is None:
        data = form.cleaned_data
        try:
            booking = services.booking_create(
                page=page,
                starts_at=data["start"],
                visitor_time_zone=data["tz"],
                name=data["name"],
                email=data["email"],
                company=data["company"],
                message=data["message"],
                consent_text=consent,
                ip=client_ip(request) or "",
                user_agent=request.headers.get("User-Agent", ""),
            )
        except services.SlotTaken as error:
            return _page_with_slots(request, page, error=error.messages[0], status=409)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect("booking-confirmed", cancel_token=booking.cancel_token)
    data = request.POST.copy()
    data["started"] = form_started_stamp(page.token)
    form.data = data
    if problem is not None and not form.errors:
        form.add_error(None, problem)
    start = form.cleaned_data.get("start") if hasattr(form, "cleaned_data") else None
    if start is None:
        return _page_with_slots(request, page, error="Please pick a time.", status=422)
    return _booking_form(request, page, form, start=start, zone_name=zone_name, status=422)


def _slot_start(value: str) -> datetime | None:
    try:
        return BookingForm.base_fields["start"].clean(value)
    except ValidationError:
        return None


def _booking_form(
    request: HttpRequest,
    page: PublicPage,
    form: BookingForm,
    *,
    start: datetime,
    zone_name: str,
    status: int = 200,
) -> HttpResponse:
    zone = ZoneInfo(zone_name)
    context = _context(
        page,
        form=form,
        starts_local=start.astimezone(zone),
        ends_local=(start + timedelta(minutes=page.meeting_minutes)).astimezone(zone),
        booking_zone=zone_name,
        title=f"Book a meeting · {owner_name(page)}",
    )
    return render(request, "handraise/booking_new.html", context, status=status)


def _booking_or_404(cancel_token: str) -> Booking:
    booking = selectors.booking_for_cancel_token(cancel_token)
    if booking is None or booking.hand_raise is None:
        raise Http404("No such booking.")
    return booking


def _booking_page_context(booking: Booking, **extra: object) -> dict[str, object]:
    zone = ZoneInfo(booking.visitor_time_zone)
    return {
        **_context(booking.page),
        "booking": booking,
        "hand_raise": booking.hand_raise,
        "starts_local": booking.starts_at.astimezone(zone),
        "ends_local": booking.ends_at.astimezone(zone),
        "booking_zone": booking.visitor_time_zone,
        **extra,
    }


@login_not_required
@require_http_methods(["GET"])
def booking_confirmed(request: HttpRequest, cancel_token: str) -> HttpResponse:
    booking = _booking_or_404(cancel_token)
    return render(request, "handraise/booking_confirmed.html", _booking_page_context(booking))


@login_not_required
@require_http_methods(["GET"])
def booking_manage(request: HttpRequest, cancel_token: str) -> HttpResponse:
    """The cancel link's page: the booking, everything stored about the visitor, Cancel, and
    a request to erase it all."""
    booking = _booking_or_404(cancel_token)
    context = _booking_page_context(booking, title=f"Your booking · {owner_name(booking.page)}")
    return render(request, "handraise/booking_manage.html", context)


@login_not_required
@require_POST
def booking_cancel(request: HttpRequest, cancel_token: str) -> HttpResponse:
    booking = _booking_or_404(cancel_token)
    services.booking_cancel(booking=booking)
    messages.success(request, "Your meeting is cancelled.")
    return redirect("booking-manage", cancel_token=cancel_token)


@login_not_required
@require_POST
def booking_erase(request: HttpRequest, cancel_token: str) -> HttpResponse:
    booking = _booking_or_404(cancel_token)
    services.booking_request_erasure(booking=booking)
    messages.success(
        request, f"Your request is with {owner_name(booking.page)}, who will erase your data."
    )
    return redirect("booking-manage", cancel_token=cancel_token)


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
    return _settings_page(request, page, form=form, status=status)


def _settings_page(
    request: HttpRequest,
    page: PublicPage,
    *,
    form: PublicPageForm | None = None,
    booking_form: BookingSettingsForm | None = None,
    status: int = 200,
) -> HttpResponse:
    if form is None:
        form = PublicPageForm(initial={"intro": page.intro, "embed_origins": page.embed_origins})
    if booking_form is None:
        booking_form = BookingSettingsForm(initial=BookingSettingsForm.initial_for(page))
    page_url = request.build_absolute_uri(reverse("public-page", args=[page.token]))
    embed_url = request.build_absolute_uri(reverse("public-page-embed", args=[page.token]))
    context = {
        "title": "Public page",
        "page": page,
        "form": form,
        "booking_form": booking_form,
        "page_url": page_url,
        "embed_url": embed_url,
        "embed_snippet": (
            f'<iframe src="{embed_url}" title="Contact {owner_name(page)}" loading="lazy" '
            'style="width:100%;max-width:520px;height:720px;border:0"></iframe>'
        ),
    }
    return render(request, "handraise/public_page_settings.html", context, status=status)


@require_POST
def public_page_booking_settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Settings → Public page → Bookings: the weekly hours and the rules, booking on or off."""
    page = services.public_page_for(owner=request.user)
    booking_form = BookingSettingsForm(request.POST)
    if booking_form.is_valid():
        try:
            services.public_page_booking_update(page=page, **booking_form.service_arguments())
        except ValidationError as error:
            add_service_errors(booking_form, error)
        else:
            messages.success(request, "Booking settings saved.")
            return redirect(reverse("public-page-settings") + "#booking-title")
    return _settings_page(request, page, booking_form=booking_form, status=422)


@require_POST
def public_page_regenerate(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A new address; the old one answers 404 from now on."""
    page = services.public_page_for(owner=request.user)
    services.public_page_regenerate_token(page=page)
    messages.success(
        request, "Your page has a new address. The old one no longer works: share the new one."
    )
    return redirect("public-page-settings")
