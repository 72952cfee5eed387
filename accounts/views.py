"""A user's own settings page, and the login page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts import services
from accounts.forms import FirstAccountForm, UserSettingsForm
from accounts.http import AuthenticatedHttpRequest
from accounts.lockout import client_ip, failed_logins_left, lockout_minutes
from accounts.tasks import send_password_reset
from leadhunter.forms import add_service_errors


class LoginView(auth_views.LoginView):
    """Django's login page, which also warns before the last attempt that would lock it.

    A class, unlike our other views: it extends Django's own login view, which is one.
    """

    # The page's heading (Django's other auth views name theirs; this one does not).
    extra_context = {"title": "Log in"}

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
            login(request, user, backend="accounts.backends.UserBackend")
            messages.success(
                request,
                f"Welcome, {user}: you are a sales manager. Import your contacts or add a lead "
                "to start; add your salespeople on the Team page.",
            )
            return redirect("today")
    context = {"title": "Create the first account", "form": form}
    return render(request, "registration/first_account.html", context)


@require_http_methods(["GET", "POST"])
def user_settings(request: AuthenticatedHttpRequest) -> HttpResponse:
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
