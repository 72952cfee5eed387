"""The referrals pages: who to ask this week, every referral source, and one source's tree.

Each htmx swap target is a named partial of the page template; a GET picks the region by the
HX-Target header, a POST answers with the partial it changed (or, without JavaScript, redirects
back to the page with a message).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from leadhunter.htmx import render_region, trigger, wants_partial
from referrals import selectors, services
from referrals.forms import (
    ReferralAskForm,
    ReferralAskOutcomeForm,
    ReferralSourceCreateForm,
    ReferralSourceUpdateForm,
    return_to,
)
from referrals.models import ReferralAsk, ReferralSource

LIST_TEMPLATE = "referrals/referral_list.html"
DETAIL_TEMPLATE = "referrals/referral_detail.html"
SOURCES_PER_PAGE = 50

# Regions a GET may ask for by its HX-Target; anything else gets the whole page.
LIST_REGIONS = ("who-to-ask", "sources-table")
DETAIL_REGIONS = ("source-summary", "asks-history")

# HX-Trigger events: regions that show what changed listen for them and refresh themselves.
SOURCE_ADDED = "referralSourceAdded"
SOURCE_UPDATED = "referralSourceUpdated"
ASKED = "referralAsked"


@require_GET
def referral_list(request: HttpRequest) -> HttpResponse:
    """Who to ask this week, then every referral source with its referrals and won value."""
    region = _requested_region(request, LIST_REGIONS)
    context = _list_context(request, region=region)
    if region:
        return render_region(request, LIST_TEMPLATE, region, context)
    return render(request, LIST_TEMPLATE, context)


@require_POST
def referral_create(request: HttpRequest) -> HttpResponse:
    form = ReferralSourceCreateForm(request.POST)
    if form.is_valid():
        try:
            source = services.referral_source_create(owner=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_service_error(error)
        else:
            if wants_partial(request):
                context = {"create_form": ReferralSourceCreateForm(), "created_source": source}
                response = render_region(request, LIST_TEMPLATE, "source-create-form", context)
                return trigger(response, SOURCE_ADDED)
            messages.success(request, f"Added {source.name} as a referral source.")
            return redirect("referral-list")
    if wants_partial(request):
        return render_region(
            request, LIST_TEMPLATE, "source-create-form", {"create_form": form}, status=422
        )
    return render(request, LIST_TEMPLATE, _list_context(request, create_form=form), status=422)


@require_GET
def referral_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One source: how strong the relationship is, every ask, and the tree of who they sent."""
    source = _visible_source(request, pk)
    region = _requested_region(request, DETAIL_REGIONS)
    context = _detail_context(request, source, region=region)
    if region:
        return render_region(request, DETAIL_TEMPLATE, region, context)
    return render(request, DETAIL_TEMPLATE, context)


@require_POST
def referral_update(request: HttpRequest, pk: int) -> HttpResponse:
    source = _visible_source(request, pk)
    form = ReferralSourceUpdateForm(request.POST)
    if form.is_valid():
        try:
            source = services.referral_source_update(source=source, **form.cleaned_data)
        except ValidationError as error:
            source.refresh_from_db()
            form.add_service_error(error)
        else:
            if wants_partial(request):
                context = {
                    "source": source,
                    "update_form": ReferralSourceUpdateForm.for_source(source),
                    "saved": True,
                }
                response = render_region(request, DETAIL_TEMPLATE, "source-form", context)
                return trigger(response, SOURCE_UPDATED)
            messages.success(request, f"Saved {source.name}.")
            return redirect("referral-detail", source.pk)
    if wants_partial(request):
        context = {"source": source, "update_form": form}
        return render_region(request, DETAIL_TEMPLATE, "source-form", context, status=422)
    return render(
        request, DETAIL_TEMPLATE, _detail_context(request, source, update_form=form), status=422
    )


@require_POST
def referral_ask(request: HttpRequest, pk: int) -> HttpResponse:
    """Log that the source was asked for referrals (the one-click "Asked ✓")."""
    source = _visible_source(request, pk)
    form = ReferralAskForm(request.POST)
    ask = None
    if form.is_valid():
        try:
            ask = services.referral_ask_record(
                source=source, user=request.user, channel=form.cleaned_data["channel"]
            )
        except ValidationError as error:
            form.add_service_error(error)
    if not wants_partial(request):
        if ask is not None:
            messages.success(request, f"Logged your referral ask to {source.name}.")
        else:
            messages.error(request, " ".join(_errors(form)))
        return _redirect_back(return_to(form), source)
    source.refresh_from_db()
    if return_to(form) == "detail":
        context = _detail_context(
            request, source, region="asks-history", ask_form=None if ask else form
        )
        response = render_region(request, DETAIL_TEMPLATE, "asks-history", context)
    else:
        context = {
            "item": selectors.referral_source_ranked(source),
            "ask": ask,
            "row_errors": [] if ask else _errors(form),
        }
        response = render_region(request, LIST_TEMPLATE, "who-to-ask-row", context)
    if ask is None:
        response.status_code = 422  # swapped in all the same (htmx-config): the errors show
        return response
    return trigger(response, ASKED)


@require_POST
def referral_ask_outcome(request: HttpRequest, pk: int) -> HttpResponse:
    """Record how an ask went: declined, or gave N referrals."""
    ask = get_object_or_404(
        selectors.referral_asks_visible_to(request.user).select_related("source"), pk=pk
    )
    form = ReferralAskOutcomeForm(request.POST)
    saved = False
    if form.is_valid():
        try:
            ask = services.referral_ask_set_outcome(
                ask=ask,
                user=request.user,
                outcome=form.cleaned_data["outcome"],
                referrals_given=form.cleaned_data["referrals_given"] or 0,
            )
            saved = True
        except ValidationError as error:
            ask.refresh_from_db()
            form.add_service_error(error)
    source = ask.source
    if not wants_partial(request):
        if saved:
            messages.success(request, f"Saved how your ask to {source.name} went.")
        else:
            messages.error(request, " ".join(_errors(form)))
        return _redirect_back(return_to(form), source)
    errors = [] if saved else _errors(form)
    if return_to(form) == "detail":
        context = _detail_context(
            request, source, region="asks-history", outcome_errors={ask.pk: errors}
        )
        response = render_region(request, DETAIL_TEMPLATE, "asks-history", context)
    else:
        context = {
            "item": selectors.referral_source_ranked(source),
            "ask": ask,
            "row_errors": errors,
        }
        response = render_region(request, LIST_TEMPLATE, "who-to-ask-row", context)
    if not saved:
        response.status_code = 422  # swapped in all the same (htmx-config): the errors show
        return response
    # The source's summary counts the names given in asks: it refreshes on this.
    return trigger(response, ASKED)


def _visible_source(request: HttpRequest, pk: int) -> ReferralSource:
    # Someone else's source answers 404, exactly like one that does not exist.
    return get_object_or_404(
        selectors.referral_sources_visible_to(request.user).select_related("owner", "lead"),
        pk=pk,
    )


def _requested_region(request: HttpRequest, regions: tuple[str, ...]) -> str | None:
    if not wants_partial(request) or request.htmx.history_restore_request:
        return None
    return request.htmx.target if request.htmx.target in regions else None


def _list_context(
    request: HttpRequest,
    *,
    region: str | None = None,
    create_form: ReferralSourceCreateForm | None = None,
) -> dict[str, object]:
    user = request.user
    context: dict[str, object] = {
        "title": "Referrals",
        "create_form": create_form or ReferralSourceCreateForm(),
    }
    if region in (None, "who-to-ask"):
        asks_due = selectors.referral_asks_due(user)
        context["asks_due"] = asks_due
        if not asks_due:
            mine = selectors.referral_sources_visible_to(user).filter(owner=user)
            context["has_own_sources"] = mine.exists()
    if region in (None, "sources-table"):
        sources = selectors.referral_sources_visible_to(user).select_related("owner")
        page = Paginator(sources.order_by("name", "pk"), SOURCES_PER_PAGE).get_page(
            request.GET.get("page")
        )
        context["page_obj"] = page
        context["source_rows"] = selectors.referral_source_rows(page.object_list)
    return context


def _detail_context(
    request: HttpRequest,
    source: ReferralSource,
    *,
    region: str | None = None,
    update_form: ReferralSourceUpdateForm | None = None,
    ask_form: ReferralAskForm | None = None,
    outcome_errors: dict[int, list[str]] | None = None,
) -> dict[str, object]:
    context: dict[str, object] = {
        "title": source.name,
        "source": source,
        "update_form": update_form or ReferralSourceUpdateForm.for_source(source),
        "ask_form": ask_form or ReferralAskForm(initial={"return_to": "detail"}),
        "outcome_errors": outcome_errors or {},
    }
    if region in (None, "source-summary"):
        context["row"] = selectors.referral_source_rows([source])[0]
        context["named_in_asks"] = selectors.referrals_named_in_asks(source)
    if region in (None, "asks-history"):
        asks: list[ReferralAsk] = list(source.asks.select_related("asked_by"))
        for ask in asks:
            # Template variables cannot index a dict by a variable, so each ask carries its own.
            ask.outcome_errors = context["outcome_errors"].get(ask.pk, [])
        context["asks"] = asks
    if region is None:
        tree = selectors.referral_tree(source)
        context["tree"] = tree
        context["tree_totals"] = selectors.referral_tree_totals(tree)
    return context


def _redirect_back(page: str, source: ReferralSource) -> HttpResponse:
    if page == "detail":
        return redirect("referral-detail", source.pk)
    return redirect("referral-list")


def _errors(form: ReferralAskForm | ReferralAskOutcomeForm) -> list[str]:
    return [error for errors in form.errors.values() for error in errors]
