"""A user's own settings page, and the login page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from accounts import services
from accounts.forms import FirstAccountForm, UserSettingsForm
from accounts.lockout import client_ip, failed_logins_left, lockout_minutes
from accounts.tasks import send_password_reset
from api import selectors as api_selectors
from api import services as api_services
from api.forms import ApiTokenForm
from leadhunter.forms import add_service_errors


class LoginView(auth_views.LoginView):
    """Django's login page, which also warns before the last attempt that would lock it.

    A class, unlike our other views: it extends Django's own login view, which is one.
    """

    def get(self, request, *args, **kwargs):
        # A fresh database has nobody to log in as: offer the first account instead.
        if services.no_user_exists():
            return redirect("first-account")
        return super().get(request, *args, **kwargs)

    def form_invalid(self, form):
        username = form.data.get("username", "")
        context = self.get_context_data(
            form=form,
            attempts_left=failed_logins_left(self.request, username),
            lockout_minutes=lockout_minutes(),
        )
        return self.render_to_response(context)


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset page, except that the email is sent by the worker and requests are
    limited per address and per IP. The answer is the same page in the same time whether the
    address has an account or not: the request only notes it and queues the task."""

    def form_valid(self, form):
        email = form.cleaned_data["email"]
        if not services.password_reset_request(email=email, ip_address=client_ip(self.request)):
            form.add_error(None, "Too many reset requests; try again in an hour.")
            return self.render_to_response(self.get_context_data(form=form), status=429)
        # robust: with the broker down the answer is still the same page (the request is noted,
        # the email is not sent and the person may ask again); the error goes to the log.
        transaction.on_commit(lambda: send_password_reset.delay(email), robust=True)
        return HttpResponseRedirect(self.get_success_url())


@login_not_required
@require_http_methods(["GET", "POST"])
def first_account(request: HttpRequest) -> HttpResponse:
    """The first-run page, "Create the first account", on a database without users: the
    account becomes a sales manager and is logged in. Once anyone exists the page is gone
    (404): nobody makes themselves a manager of a running team from outside."""
    if not services.no_user_exists():
        raise Http404("There are accounts already: log in.")
    form = FirstAccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.first_account_create(**form.account_fields())
        except services.FirstAccountTaken:
            messages.info(request, "Someone created the first account a moment ago: log in.")
            return redirect("login")
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(
                request,
                f"Welcome, {user}: you are a sales manager. Import your contacts or add a lead "
                "to start; add your salespeople on the Team page.",
            )
            return redirect("today")
    context = {"title": "Create the first account", "form": form}
    return render(request, "registration/first_account.html", context)


@require_http_methods(["GET", "POST"])
def user_settings(request: HttpRequest) -> HttpResponse:
    """Time zone, daily touch goal and reminder emails; a plain form that saves and redirects."""
    if request.method == "POST":
        form = UserSettingsForm(request.POST)
        if form.is_valid():
            try:
                services.user_update_settings(user=request.user, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "Settings saved.")
                return redirect("settings")
    else:
        form = UserSettingsForm.for_user(request.user)
    return render(request, "accounts/settings.html", {"title": "Settings", "form": form})


# --- API tokens and the calendar feed (their sections of the settings page) ------------------


@require_POST
def api_token_create(request: HttpRequest) -> HttpResponse:
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
def api_token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(api_selectors.api_tokens_of(request.user), pk=pk)
    api_services.api_token_revoke(token=token)
    messages.success(request, f"Revoked the token “{token.name}”: programs using it are refused.")
    return redirect(f"{reverse('settings')}#api-tokens")


@require_POST
def calendar_feed_regenerate(request: HttpRequest) -> HttpResponse:
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
def calendar_feed_delete(request: HttpRequest) -> HttpResponse:
    api_services.calendar_feed_delete(user=request.user)
    messages.success(request, "Calendar feed turned off; its link no longer works.")
    return redirect(f"{reverse('settings')}#calendar-feed")
