"""ICP pages: the list, and the editor with its criteria and live preview."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from accounts.http import AuthenticatedHttpRequest
from icp import selectors, services
from icp.forms import NEW_ICP, NEW_ICP_NAME, CriterionForm, ICPForm, SuggestionForm
from icp.models import ICP, Criterion
from icp.rescoring import criterion_spec
from icp.suggestions import MIN_CLOSED_DEALS
from leadhunter.forms import add_service_errors, form_error_messages
from leadhunter.htmx import render_region, trigger, wants_partial


@require_GET
def icp_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    icps = selectors.icps_with_counts(request.user)
    return render_region(
        request, "icp/icp_list.html", "icp-table", {"title": "ICP", "icps": icps, "form": ICPForm()}
    )


@require_POST
def icp_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = ICPForm(request.POST)
    if form.is_valid():
        try:
            icp = services.icp_create(owner=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Created {icp}. Add its criteria below.")
            return redirect("icp-detail", pk=icp.pk)
    icps = selectors.icps_with_counts(request.user)
    return render_region(
        request,
        "icp/icp_list.html",
        "icp-create",
        {"title": "ICP", "icps": icps, "form": form},
        status=422,
    )


def _icp_for(request: AuthenticatedHttpRequest, pk: int) -> ICP:
    return get_object_or_404(selectors.icps_visible_to(request.user), pk=pk)


def _editor_context(request: AuthenticatedHttpRequest, icp: ICP, **extra: object) -> dict:
    criteria = list(icp.criteria.all())
    context = {
        "title": icp.name,
        "icp": icp,
        "criteria": criteria,
        "icp_form": ICPForm(instance=icp),
        "criterion_form": CriterionForm(),
        "preview": selectors.icp_preview(
            icp=icp, criteria_specs=[criterion_spec(c) for c in criteria], owner=icp.owner
        ),
    }
    context.update(extra)
    return context


@require_GET
def icp_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    icp = _icp_for(request, pk)
    return render_region(
        request, "icp/icp_detail.html", "icp-criteria", _editor_context(request, icp)
    )


@require_POST
def icp_update(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    icp = _icp_for(request, pk)
    form = ICPForm(request.POST, instance=ICP.objects.get(pk=icp.pk))
    if form.is_valid():
        try:
            services.icp_update(icp=icp, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
    if form.errors:
        context = _editor_context(request, icp, icp_form=form)
        return render_region(request, "icp/icp_detail.html", "icp-settings", context, status=422)
    messages.success(request, "Saved. Leads are being rescored.")
    if wants_partial(request):
        response = render_region(
            request, "icp/icp_detail.html", "icp-settings", _editor_context(request, icp)
        )
        return trigger(response, "criteriaChanged")
    return redirect("icp-detail", pk=pk)


@require_POST
def criterion_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    icp = _icp_for(request, pk)
    form = CriterionForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.criterion_create(
                icp=icp,
                field=data["field"],
                operator=data["operator"],
                value=data["json_value"],
                weight=data["weight"],
                required=data["required"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
    if form.errors:
        context = _editor_context(request, icp, criterion_form=form)
        return render_region(request, "icp/icp_detail.html", "icp-criteria", context, status=422)
    if wants_partial(request):
        response = render_region(
            request, "icp/icp_detail.html", "icp-criteria", _editor_context(request, icp)
        )
        return _criteria_changed(response)
    messages.success(request, "Criterion added. Leads are being rescored.")
    return redirect("icp-detail", pk=pk)


@require_POST
def criterion_delete(request: AuthenticatedHttpRequest, pk: int, criterion_pk: int) -> HttpResponse:
    icp = _icp_for(request, pk)
    criterion = get_object_or_404(Criterion, pk=criterion_pk, icp=icp)
    services.criterion_delete(criterion=criterion)
    if wants_partial(request):
        response = render_region(
            request, "icp/icp_detail.html", "icp-criteria", _editor_context(request, icp)
        )
        return _criteria_changed(response)
    messages.success(request, "Criterion removed.")
    return redirect("icp-detail", pk=pk)


def _criteria_changed(response: HttpResponse) -> HttpResponse:
    """Announce the change after the swap: the preview refresh reads the criterion form, and
    only the freshly swapped-in (empty) one — before it, the criterion just added would still
    be in the form and count a second time, as a draft."""
    return trigger_client_event(response, "criteriaChanged", after="swap")


# The criterion form's selects always carry a value; only these are typed in.
DRAFT_TYPED_FIELDS = ("value", "minimum", "maximum")


def _draft_from(query) -> CriterionForm | None:
    """The criterion being typed, or None while nothing is typed (an untouched form is no
    draft: neither counted nor an error)."""
    if not any(query.get(name, "").strip() for name in DRAFT_TYPED_FIELDS):
        return None
    return CriterionForm(query)


@require_GET
def icp_preview(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The live preview: saved criteria plus the one being typed, scored without saving."""
    icp = _icp_for(request, pk)
    specs = [criterion_spec(c) for c in icp.criteria.all()]
    draft = _draft_from(request.GET)
    draft_error = ""
    if draft is not None and not draft.is_valid():
        draft_error = " ".join(form_error_messages(draft))
    elif draft is not None:
        data = draft.cleaned_data
        candidate = Criterion(
            icp=icp,
            field=data["field"],
            operator=data["operator"],
            value=data["json_value"],
            weight=data["weight"],
            required=data["required"],
        )
        try:
            candidate.clean()
        except ValidationError as error:
            draft_error = " ".join(error.messages)
        else:
            specs.append(criterion_spec(candidate))
    preview = selectors.icp_preview(icp=icp, criteria_specs=specs, owner=icp.owner)
    context = {
        "icp": icp,
        "preview": preview,
        "draft_included": draft is not None and not draft_error,
        "draft_error": draft_error,
    }
    if not wants_partial(request):
        return redirect("icp-detail", pk=pk)
    return render_region(request, "icp/icp_detail.html", "icp-preview", context)


# --- Suggestions from wins and losses ----------------------------------------------------------

SUGGESTIONS_PAGE = "icp/icp_suggestions.html"


def _suggestion_form(request: AuthenticatedHttpRequest, data=None, **kwargs) -> SuggestionForm:
    icps = list(selectors.icps_visible_to(request.user).filter(owner=request.user))
    return SuggestionForm(data, icps=icps, **kwargs)


@require_GET
def icp_suggestions(request: AuthenticatedHttpRequest) -> HttpResponse:
    """What the user's wins have that their losses lack, each offered as a criterion."""
    result = selectors.icp_suggestions(request.user)
    cards = [
        (
            suggestion,
            _suggestion_form(
                request,
                initial={**suggestion.candidate.form_data(), "weight": suggestion.weight},
                prefix=f"s{index}",
            ),
        )
        for index, suggestion in enumerate(result.suggestions)
    ]
    context = {
        "title": "ICP suggestions",
        "result": result,
        "cards": cards,
        "min_closed": MIN_CLOSED_DEALS,
        "sample_size": selectors.SUGGESTION_SAMPLE_SIZE,
    }
    return render_region(request, SUGGESTIONS_PAGE, "suggestion-list", context)


def _target_icp(request: AuthenticatedHttpRequest, choice: str) -> ICP | None:
    """The user's own ICP picked in the form, or None for a new one."""
    if choice == NEW_ICP:
        return None
    return get_object_or_404(ICP, pk=int(choice), owner=request.user)


def _suggested_criterion(form: SuggestionForm, icp: ICP | None) -> Criterion:
    data = form.cleaned_data
    return Criterion(
        icp=icp,
        field=data["field"],
        operator=data["operator"],
        value=data["json_value"],
        weight=data["weight"],
        required=False,
    )


@require_GET
def icp_suggestion_preview(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The effect of adding a suggested criterion on the user's open leads, before saving."""
    prefix = request.GET.get("prefix", "")
    form = _suggestion_form(request, request.GET, prefix=prefix or None)
    context: dict[str, object] = {"form": form, "prefix": prefix, "effect": None}
    if form.is_valid():
        icp = _target_icp(request, form.cleaned_data["icp"])
        candidate = _suggested_criterion(form, icp)
        try:
            candidate.clean()
        except ValidationError as error:
            context["error"] = " ".join(error.messages)
        else:
            context["effect"] = selectors.suggestion_effect(
                icp=icp,
                criterion=criterion_spec(candidate),
                owner=request.user,
                new_icp_name=NEW_ICP_NAME,
            )
    else:
        context["error"] = " ".join(form_error_messages(form))
    if not wants_partial(request):
        context["title"] = "Preview a suggested criterion"
        return render_region(
            request, SUGGESTIONS_PAGE, "suggestion-list", {**context, "standalone_preview": True}
        )
    return render_region(request, SUGGESTIONS_PAGE, "suggestion-effect", context)


@require_POST
def icp_suggestion_add(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Add the suggested criterion to the chosen ICP (or a new one); its leads are rescored."""
    prefix = request.POST.get("prefix", "")
    form = _suggestion_form(request, request.POST, prefix=prefix or None)
    if not form.is_valid():
        messages.error(request, " ".join(form_error_messages(form)))
        return redirect("icp-suggestions")
    data = form.cleaned_data
    icp = _target_icp(request, data["icp"])
    try:
        if icp is None:
            criterion = services.criterion_create_in_new_icp(
                owner=request.user,
                icp_name=NEW_ICP_NAME,
                field=data["field"],
                operator=data["operator"],
                value=data["json_value"],
                weight=data["weight"],
            )
        else:
            criterion = services.criterion_create(
                icp=icp,
                field=data["field"],
                operator=data["operator"],
                value=data["json_value"],
                weight=data["weight"],
            )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("icp-suggestions")
    messages.success(
        request, f"Added “{criterion.label}” to {criterion.icp.name}. Leads are being rescored."
    )
    return redirect("icp-detail", pk=criterion.icp_id)
