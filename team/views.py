"""The Team page: a sales manager sees the team, adds people, sets their daily touch goals,
deactivates someone (their work goes to a colleague) and removes the demo data."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth import logout
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts import services as account_services
from accounts.http import AuthenticatedHttpRequest
from accounts.models import User
from accounts.selectors import team_settings
from leadhunter.forms import add_service_errors
from reminders.services import email_delivery_note
from team import selectors, services
from team.forms import DeactivateForm, TeamMemberAddForm, TouchGoalForm


def manager_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Salespeople get the app's 403 page; the Team link is not in their menu either."""

    @wraps(view)
    def wrapped(request: AuthenticatedHttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_manager:
            raise PermissionDenied("Only sales managers manage the team.")
        return view(request, *args, **kwargs)

    return wrapped


def _team_page(
    request: AuthenticatedHttpRequest,
    *,
    add_form: TeamMemberAddForm | None = None,
    goal_form: tuple[int, TouchGoalForm] | None = None,
    new_member: account_services.TeamMemberAdded | None = None,
    status: int = 200,
) -> HttpResponse:
    # Each member with the form for their daily touch goal (the one that failed, if any).
    members = [
        (
            member,
            goal_form[1]
            if goal_form and goal_form[0] == member.pk
            else TouchGoalForm(
                initial={"daily_touch_goal": member.daily_touch_goal},
                auto_id=f"id_goal_{member.pk}_%s",
            ),
        )
        for member in selectors.team_members()
    ]
    context = {
        "title": "Team",
        "members": members,
        "add_form": add_form or TeamMemberAddForm(),
        "new_member": new_member,
        "demo": selectors.demo_data(),
        "team_settings": team_settings(),
    }
    response = render(request, "team/team_list.html", context, status=status)
    if new_member is not None:
        # The one-time password is on this response only: no cache keeps it.
        response["Cache-Control"] = "private, no-store"
    return response


@require_http_methods(["GET"])
@manager_required
def team_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _team_page(request)


@require_POST
@manager_required
def team_member_add(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = TeamMemberAddForm(request.POST)
    if form.is_valid():
        try:
            added = account_services.team_member_add(by=request.user, **form.member_fields())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if added.one_time_password is None:
                messages.success(
                    request,
                    f"Added {added.user}. We emailed {added.user.email} a link to choose a "
                    f"password; it works for 3 days.{email_delivery_note()}",
                )
                return redirect("team")
            return _team_page(request, new_member=added)
    return _team_page(request, add_form=form, status=422)


@require_POST
@manager_required
def team_member_goal(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    member = get_object_or_404(User, pk=pk)
    form = TouchGoalForm(request.POST, auto_id=f"id_goal_{member.pk}_%s")
    if form.is_valid():
        try:
            account_services.user_set_daily_touch_goal(
                user=member, daily_touch_goal=form.cleaned_data["daily_touch_goal"], by=request.user
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, f"{member}'s daily touch goal is now {member.daily_touch_goal}."
            )
            # The top of the page, where the message is (an anchor scrolled it out of view).
            return redirect("team")
    return _team_page(request, goal_form=(member.pk, form), status=422)


@require_POST
@manager_required
def team_settings_update(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The Introductions card: whether teammates' contacts show on each other's warm paths."""
    share = request.POST.get("share_contacts") == "on"
    account_services.team_settings_update(by=request.user, share_contacts=share)
    if share:
        messages.success(request, "Teammates' contacts now show on “Who do I know at …?”.")
    else:
        messages.success(request, "Teammates' contacts no longer show on “Who do I know at …?”.")
    return redirect("team")


@require_http_methods(["GET", "POST"])
@manager_required
def team_member_deactivate(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Who gets their work, what moves, then the move and the lock-out in one go."""
    member = get_object_or_404(User, pk=pk)
    targets = selectors.deactivation_targets(member)
    form = DeactivateForm(request.POST or None, targets=targets)
    if request.method == "POST" and form.is_valid():
        try:
            done = services.team_member_deactivate(
                member=member, to_owner=form.cleaned_data["to_owner"], by=request.user
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                f"{done.member} is deactivated and can no longer log in. {done.to_owner} now "
                f"has their {done.leads} lead{'s' if done.leads != 1 else ''} (with follow-ups "
                f"and history), {done.referral_sources} referral source"
                f"{'s' if done.referral_sources != 1 else ''} and {done.companies} "
                f"compan{'ies' if done.companies != 1 else 'y'}.",
            )
            if done.skipped:
                messages.warning(
                    request,
                    f"{len(done.skipped)} lead{'s' if len(done.skipped) != 1 else ''} stayed with "
                    f"{done.member} because {done.to_owner} already has the same person: "
                    + "; ".join(done.skipped[:5])
                    + ". Open them from Leads to merge.",
                )
            return redirect("team")
    context = {
        "title": f"Deactivate {member}",
        "member": member,
        "form": form,
        "work": selectors.work_of(member),
        "is_self": member.pk == request.user.pk,
    }
    return render(
        request,
        "team/team_member_deactivate.html",
        context,
        status=422 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
@manager_required
def demo_remove(request: AuthenticatedHttpRequest) -> HttpResponse:
    """What "Remove the demo data" deletes, then the button that confirms it."""
    demo = selectors.demo_data()
    refusal = None
    if request.method == "POST" and demo:
        try:
            removal = services.demo_remove(by=request.user)
        except services.DemoRemovalRefused as error:
            refusal = str(error)
        else:
            if removal.removed_self:
                logout(request)
                messages.success(
                    request, "The demo data is gone. Create your own account to start."
                )
                return redirect("first-account")
            leads = removal.deleted.get("leads.Lead", 0)
            messages.success(
                request,
                f"Removed the demo data: {', '.join(removal.users)} and their {leads} "
                f"lead{'s' if leads != 1 else ''}. Everyone else's data is as it was.",
            )
            return redirect("team")
    elif demo:
        refusal = services.demo_removal_refused_for(request.user)
    context = {"title": "Remove the demo data", "demo": demo, "refusal": refusal}
    return render(request, "team/demo_remove.html", context, status=409 if refusal else 200)
