"""The API's and the calendar feed's sections of the settings page (accounts/settings.html):
create and revoke API tokens, turn the calendar link on, regenerate it, or turn it off."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.forms import UserSettingsForm
from accounts.http import AuthenticatedHttpRequest
from api import selectors as api_selectors
from api import services as api_services
from api.forms import ApiTokenForm


@require_POST
def api_token_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Create a token and show its secret on this one response; it is never stored."""
    form = ApiTokenForm(request.POST)
    if form.is_valid():
        try:
            token, secret = api_services.api_token_create(user=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error("name" if "name" in getattr(error, "error_dict", {}) else None, error)
        else:
            response = render(
                request,
                "accounts/settings.html",
                {
                    "title": "Settings",
                    "form": UserSettingsForm.for_user(request.user),
                    "new_api_token": secret,
                    "new_api_token_name": token.name,
                },
            )
            response["Cache-Control"] = "private, no-store"
            return response
    context = {
        "title": "Settings",
        "form": UserSettingsForm.for_user(request.user),
        "api_token_form": form,
    }
    return render(request, "accounts/settings.html", context, status=422)


@require_POST
def api_token_revoke(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(api_selectors.api_tokens_of(request.user), pk=pk)
    api_services.api_token_revoke(token=token)
    messages.success(request, f"Revoked the token “{token.name}”: programs using it are refused.")
    return redirect(f"{reverse('settings')}#api-tokens")


@require_POST
def calendar_feed_regenerate(request: AuthenticatedHttpRequest) -> HttpResponse:
    had_feed = api_selectors.calendar_feed_of(request.user) is not None
    api_services.calendar_feed_regenerate(user=request.user)
    messages.success(
        request,
        "New calendar link created; the old one no longer works."
        if had_feed
        else "Calendar link created: add it to your calendar app.",
    )
    return redirect(f"{reverse('settings')}#calendar-feed")


@require_POST
def calendar_feed_delete(request: AuthenticatedHttpRequest) -> HttpResponse:
    api_services.calendar_feed_delete(user=request.user)
    messages.success(request, "Calendar feed turned off; its link no longer works.")
    return redirect(f"{reverse('settings')}#calendar-feed")
