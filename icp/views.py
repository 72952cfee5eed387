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
from icp.forms import CriterionForm, ICPForm
from icp.models import ICP, Criterion
from icp.rescoring import criterion_spec
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
