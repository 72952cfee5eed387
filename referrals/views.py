"""The referrals pages: who to ask this week, every referral source, and one source's tree.

Each htmx swap target is a named partial of the page template; a GET picks the region by the
HX-Target header, a POST answers with the partial it changed (or, without JavaScript, redirects
back to the page with a message).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.http import AuthenticatedHttpRequest
from leadhunter.forms import add_service_errors, form_error_messages
from leadhunter.htmx import render_region, trigger, wants_partial
from leads.models import Stage
from leads.selectors import leads_visible_to
from referrals import selectors, services
from referrals.forms import (
    REFERRED_LEAD_FIELDS,
    ReferralAskForm,
    ReferralAskOutcomeForm,
    ReferralSourceCreateForm,
    ReferralSourceUpdateForm,
    referred_leads_formset,
    return_to,
)
from referrals.models import AskChannel, AskOutcome, ReferralAsk, ReferralSource

LIST_TEMPLATE = "referrals/referral_list.html"
DETAIL_TEMPLATE = "referrals/referral_detail.html"
SOURCES_PER_PAGE = 50

TELL_REFERRER_STAGES = (Stage.QUALIFIED, Stage.PROPOSAL, Stage.WON)

# Regions a GET may ask for by its HX-Target; anything else gets the whole page.
LIST_REGIONS = ("who-to-ask", "sources-table")
DETAIL_REGIONS = ("source-summary", "asks-history")

# HX-Trigger events: regions that show what changed listen for them and refresh themselves.
SOURCE_ADDED = "referralSourceAdded"
SOURCE_UPDATED = "referralSourceUpdated"
ASKED = "referralAsked"


@require_GET
def referral_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Who to ask this week, then every referral source with its referrals and won value."""
    region = _requested_region(request, LIST_REGIONS)
    context = _list_context(request, region=region)
    if region:
        return render_region(request, LIST_TEMPLATE, region, context)
    return render(request, LIST_TEMPLATE, context)


@require_POST
def referral_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = ReferralSourceCreateForm(request.POST)
    if form.is_valid():
        try:
            source = services.referral_source_create(owner=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
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
def referral_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """One source: how strong the relationship is, every ask, and the tree of who they sent."""
    source = _visible_source(request, pk)
    region = _requested_region(request, DETAIL_REGIONS)
    context = _detail_context(request, source, region=region)
    if region:
        return render_region(request, DETAIL_TEMPLATE, region, context)
    return render(request, DETAIL_TEMPLATE, context)


@require_POST
def referral_update(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    source = _visible_source(request, pk)
    form = ReferralSourceUpdateForm(request.POST)
    if form.is_valid():
        try:
            source = services.referral_source_update(source=source, **form.cleaned_data)
        except ValidationError as error:
            source.refresh_from_db()
            add_service_errors(form, error)
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
def referral_ask(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Log that the source was asked for referrals (the one-click "Asked ✓")."""
    source = _visible_source(request, pk)
    ask, form = _record_ask(request, source)
    if not wants_partial(request):
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
            "row_errors": [] if ask else form_error_messages(form),
            "ask_channels": AskChannel.choices,
        }
        response = render_region(request, LIST_TEMPLATE, "who-to-ask-row", context)
    if ask is None:
        response.status_code = 422  # swapped in all the same (htmx-config): the errors show
        return response
    return trigger(response, ASKED)


@require_POST
def referral_ask_outcome(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
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
            add_service_errors(form, error)
    source = ask.source
    if saved and ask.outcome == AskOutcome.GAVE and request.POST.get("then") == "add":
        # "Add them now": straight on to one short form per person named.
        add_url = reverse("referral-ask-add-leads", args=[ask.pk])
        add_url = f"{add_url}?count={ask.referrals_given}"
        if wants_partial(request):
            return HttpResponseClientRedirect(add_url)
        return redirect(add_url)
    if not wants_partial(request):
        if saved:
            messages.success(request, f"Saved how your ask to {source.name} went.")
        else:
            messages.error(request, " ".join(form_error_messages(form)))
        return _redirect_back(return_to(form), source)
    errors = [] if saved else form_error_messages(form)
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
            "ask_channels": AskChannel.choices,
        }
        response = render_region(request, LIST_TEMPLATE, "who-to-ask-row", context)
    if not saved:
        response.status_code = 422  # swapped in all the same (htmx-config): the errors show
        return response
    # The source's summary counts the names given in asks: it refreshes on this.
    return trigger(response, ASKED)


@require_GET
def referrer_search(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The "Referred by" type-ahead's options for what was typed so far (leads/referrers.py).

    The options come from the book of the lead being edited (`lead`, when it is visible to
    the user), else the user's own; that lead is never offered as its own referrer.
    """
    field = request.GET.get("field", "referred_by")
    query = request.GET.get(f"{field}_name", request.GET.get("q", "")).strip()[:100]
    owner, exclude = request.user, None
    lead_id = request.GET.get("lead", "")
    if lead_id.isdigit():
        lead = get_object_or_404(leads_visible_to(request.user).select_related("owner"), pk=lead_id)
        owner, exclude = lead.owner, lead.pk
    options = selectors.referrer_options(owner, query, exclude_lead_id=exclude)
    context = {
        "options": options,
        "query": query,
        "listbox": request.GET.get("listbox", "referrer-options"),
        # "Add as new" is offered unless someone already has exactly that name.
        "offer_new": bool(query)
        and not any(option.name.casefold() == query.casefold() for option in options),
    }
    return render(request, "referrals/_referrer_options.html", context)


ADD_LEADS_TEMPLATE = "referrals/referral_ask_add_leads.html"


@require_http_methods(["GET", "POST"])
def referral_ask_add_leads(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """ "Add them now": one short row per person a source named in an ask, saved in one go.

    Each lead is credited to the source and linked to the ask. A row the service refuses shows
    its error next to its field, and every row keeps what was typed; nothing is saved until
    every filled row can be.
    """
    ask = get_object_or_404(
        selectors.referral_asks_visible_to(request.user).select_related("source__owner"), pk=pk
    )
    source = ask.source
    if request.method == "GET":
        wanted = request.GET.get("count", "")
        count = int(wanted) if wanted.isdigit() else ask.referrals_given
        formset = referred_leads_formset(count or 1)
    else:
        formset = referred_leads_formset(0, data=request.POST)
        if formset.is_valid():
            people = formset.people()
            try:
                leads = services.referral_ask_add_leads(
                    ask=ask, user=request.user, people=[person for _, person in people]
                )
            except services.ReferredLeadsInvalid as problem:
                for index, error in problem.errors.items():
                    add_service_errors(
                        formset.forms[people[index][0]], error, renamed=REFERRED_LEAD_FIELDS
                    )
            else:
                names = ", ".join(str(lead) for lead in leads)
                messages.success(
                    request, f"Added {names} as referred by {source.name}. First touches planned."
                )
                return redirect("referral-detail", source.pk)
    context = {"title": f"Add the people {source.name} referred", "ask": ask, "source": source}
    return render(request, ADD_LEADS_TEMPLATE, {**context, "formset": formset})


# --- The "who to ask" card on Today -----------------------------------------------------------
#
# Today belongs to the leads app, which is below referrals and must not import it. So the card
# is this app's region: the Today page has a placeholder that htmx fills from referral_today
# once the page is shown (a plain link to the Referrals page without JavaScript). The card owns
# its Ask button, and an ask announces "todayChanged" so Today's touch bar counts it.

TODAY_TEMPLATE = "referrals/referral_today.html"
TODAY_ASKS_SHOWN = 5


@require_GET
def referral_today(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The Today page's card: the best few sources due a referral ask this week."""
    if not wants_partial(request):
        return redirect(f"{reverse('referral-list')}#who-to-ask")
    asks_due = selectors.referral_asks_due(request.user, limit=TODAY_ASKS_SHOWN + 1)
    context = {
        "asks_due": asks_due[:TODAY_ASKS_SHOWN],
        "more_asks": len(asks_due) > TODAY_ASKS_SHOWN,
        "channels": AskChannel.choices,
    }
    return render(request, f"{TODAY_TEMPLATE}#today-asks", context)


@require_POST
def referral_today_ask(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Record an ask made from Today's card, by the channel the salesperson picked."""
    source = _visible_source(request, pk)
    ask, form = _record_ask(request, source)
    if not wants_partial(request):
        return redirect("today")
    source.refresh_from_db()
    context = {
        "item": selectors.referral_source_ranked(source),
        "ask": ask,
        "row_errors": [] if ask else form_error_messages(form),
        "channels": AskChannel.choices,
    }
    response = render(request, f"{TODAY_TEMPLATE}#today-ask-row", context)
    return trigger(response, ASKED, "todayChanged") if ask else response


def _record_ask(
    request: AuthenticatedHttpRequest, source: ReferralSource
) -> tuple[ReferralAsk | None, ReferralAskForm]:
    """Record the ask the form posted (by the channel picked); without JavaScript the next page
    says how it went. The ask, or None and the form with its errors."""
    form = ReferralAskForm(request.POST)
    ask = None
    if form.is_valid():
        try:
            ask = services.referral_ask_record(
                source=source, user=request.user, channel=form.cleaned_data["channel"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
    if not wants_partial(request):
        if ask is not None:
            messages.success(request, f"Logged your referral ask to {source.name}.")
        else:
            messages.error(request, " ".join(form_error_messages(form)))
    return ask, form


def _visible_source(request: AuthenticatedHttpRequest, pk: int) -> ReferralSource:
    # Someone else's source answers 404, exactly like one that does not exist.
    return get_object_or_404(
        selectors.referral_sources_visible_to(request.user).select_related("owner", "lead"),
        pk=pk,
    )


def _requested_region(request: AuthenticatedHttpRequest, regions: tuple[str, ...]) -> str | None:
    if not wants_partial(request) or request.htmx.history_restore_request:
        return None
    return request.htmx.target if request.htmx.target in regions else None


def _list_context(
    request: AuthenticatedHttpRequest,
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
    request: AuthenticatedHttpRequest,
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
    }
    outcome_errors = outcome_errors or {}
    context["outcome_errors"] = outcome_errors
    if region in (None, "source-summary"):
        context["row"] = selectors.referral_source_rows([source])[0]
        context["named_in_asks"] = selectors.referrals_named_in_asks(source)
    if region in (None, "asks-history"):
        asks = list(source.asks.select_related("asked_by").annotate(added=Count("produced_leads")))
        for ask in asks:
            # Template variables cannot index a dict by a variable, so each ask carries its own
            # (attributes for the template only, hence the ignores).
            ask.outcome_errors = outcome_errors.get(ask.pk, [])  # type: ignore[attr-defined]
            # Named in the ask but not yet added as leads: what "Add them now" offers.
            ask.to_add = max(ask.referrals_given - ask.added, 0)  # type: ignore[attr-defined]
        context["asks"] = asks
    if region is None:
        tree = selectors.referral_tree(source)
        context["tree"] = tree
        # A source without a lead of its own has nowhere to hold "Thank the referrer": the page
        # lists whom to tell them about instead.
        context["tell_them"] = [node for node in tree if node.stage in TELL_REFERRER_STAGES]
        context["tree_totals"] = selectors.referral_tree_totals(tree)
    return context


def _redirect_back(page: str, source: ReferralSource) -> HttpResponse:
    if page == "detail":
        return redirect("referral-detail", source.pk)
    return redirect("referral-list")
