"""Pages for emails: write to a lead (compose, preview, send) and manage one's templates."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.http import AuthenticatedHttpRequest
from emails import selectors
from emails.forms import EmailComposeForm, EmailTemplateForm
from emails.sending import (
    EmailNotSent,
    email_draft,
    email_send,
    mail_is_delivered,
    merge_values,
    new_message_id,
)
from emails.templates_merge import MERGE_FIELDS, fields_used
from emails.templates_models import EmailTemplate
from emails.templates_services import (
    email_template_create,
    email_template_delete,
    email_template_update,
    email_templates_give_defaults,
)
from leadhunter.forms import add_service_errors
from leadhunter.htmx import render_region
from leads.models import ActivityKind, Direction, Lead
from leads.selectors import leads_visible_to
from leads.services import activity_log_preview

COMPOSE_TEMPLATE = "emails/email_compose.html"

# Status of a page whose email did not go: refused by LeadHunter (do not contact, no address)
# or by the mail server, which is not the visitor's mistake.
REFUSED, SERVER_FAILED = 403, 502


def _lead_for(request: AuthenticatedHttpRequest, pk: int) -> Lead:
    return get_object_or_404(
        leads_visible_to(request.user).select_related("company", "referred_by"), pk=pk
    )


def _preview(request: AuthenticatedHttpRequest, lead: Lead, subject: str, body: str) -> dict:
    """The merged email as it would go out, and the merge fields that would come out empty."""
    try:
        draft = email_draft(user=request.user, lead=lead, subject=subject, body=body)
    except EmailNotSent as error:
        return {"preview_problem": str(error)}
    values = merge_values(user=request.user, lead=lead)
    empty = sorted(name for name in fields_used(subject, body) if not values.get(name))
    return {"draft": draft, "empty_fields": empty}


def _compose_context(
    request: AuthenticatedHttpRequest,
    lead: Lead,
    form: EmailComposeForm,
    *,
    chosen: EmailTemplate | None = None,
    send_error: str = "",
) -> dict:
    subject = form.data.get("subject", "") if form.is_bound else form.initial.get("subject", "")
    body = form.data.get("body", "") if form.is_bound else form.initial.get("body", "")
    return {
        "title": f"Email {lead}",
        "lead": lead,
        "form": form,
        "email_templates": selectors.email_templates_of(request.user),
        "chosen": chosen,
        "send_error": send_error,
        "mail_is_delivered": mail_is_delivered(),
        # What the send will plan, as the log form shows it: an email is a touch.
        "next_step": activity_log_preview(
            lead=lead, kind=ActivityKind.EMAIL, direction=Direction.OUTBOUND
        ),
        **_preview(request, lead, subject, body),
    }


@require_http_methods(["GET", "POST"])
def lead_email_compose(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Write to a lead: pick a template (GET ?template=), preview, send (POST)."""
    lead = _lead_for(request, pk)
    email_templates_give_defaults(owner=request.user)
    if request.method == "GET":
        template_id = request.GET.get("template", "")
        chosen = (
            selectors.email_templates_of(request.user).filter(pk=int(template_id)).first()
            if template_id.isdigit()
            else None
        )
        form = EmailComposeForm(
            initial={
                "message_id": new_message_id(request.user),
                "subject": chosen.subject if chosen else "",
                "body": chosen.body if chosen else "",
            }
        )
        context = _compose_context(request, lead, form, chosen=chosen)
        return render_region(request, COMPOSE_TEMPLATE, "email-compose", context)

    form = EmailComposeForm(request.POST)
    damaged_key = not form.is_valid() and "message_id" in form.errors
    if damaged_key:
        # The page's send key came back damaged: nothing is sent, the text stays, and a fresh
        # key makes the next "Send email" work without reloading.
        data = request.POST.copy()
        data["message_id"] = new_message_id(request.user)
        form = EmailComposeForm(data)
        form.is_valid()
    if damaged_key or request.POST.get("action") == "preview" or not form.is_valid():
        status = 200 if request.POST.get("action") == "preview" and not damaged_key else 422
        context = {**_compose_context(request, lead, form), "damaged_key": damaged_key}
        return render(request, COMPOSE_TEMPLATE, context, status=status)
    try:
        email = email_send(
            user=request.user,
            lead=lead,
            subject=form.cleaned_data["subject"],
            body=form.cleaned_data["body"],
            message_id=form.cleaned_data["message_id"],
        )
    except EmailNotSent as error:
        lead.refresh_from_db()  # as the send found it (do not contact, say)
        if error.field:
            form.add_error(error.field, str(error))
        context = _compose_context(request, lead, form, send_error=str(error))
        return render(
            request, COMPOSE_TEMPLATE, context, status=REFUSED if error.refused else SERVER_FAILED
        )
    if mail_is_delivered():
        messages.success(request, f"Email sent to {lead}: “{email.subject}”.")
    else:
        messages.warning(
            request,
            f"“{email.subject}” is logged on {lead}'s timeline but was not delivered: no mail "
            "server is set up (EMAIL_URL), so it was printed to the server's console.",
        )
    return redirect(reverse("lead-detail", args=[lead.pk]) + "#lead-timeline")


@require_POST
def lead_email_preview(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The preview region again as the salesperson types (htmx)."""
    lead = _lead_for(request, pk)
    context = {
        "lead": lead,
        **_preview(request, lead, request.POST.get("subject", ""), request.POST.get("body", "")),
    }
    return render(request, f"{COMPOSE_TEMPLATE}#email-preview", context)


# --- Templates (Settings) ------------------------------------------------------------------

LIST_TEMPLATE = "emails/email_template_list.html"
FORM_TEMPLATE = "emails/email_template_form.html"


def _template_for(request: AuthenticatedHttpRequest, pk: int) -> EmailTemplate:
    return get_object_or_404(selectors.email_templates_of(request.user), pk=pk)


@require_GET
def email_template_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    email_templates_give_defaults(owner=request.user)
    context = {
        "title": "Email templates",
        "email_templates": selectors.email_templates_of(request.user),
        "merge_fields": MERGE_FIELDS,
    }
    return render(request, LIST_TEMPLATE, context)


@require_http_methods(["GET", "POST"])
def email_template_create_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = EmailTemplateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            template = email_template_create(owner=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Added the template “{template.name}”.")
            return redirect("email-template-list")
    status = 422 if form.is_bound else 200
    context = {"title": "New email template", "form": form, "template": None}
    return render(request, FORM_TEMPLATE, context, status=status)


@require_http_methods(["GET", "POST"])
def email_template_update_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    template = _template_for(request, pk)
    initial = {"name": template.name, "subject": template.subject, "body": template.body}
    form = EmailTemplateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            email_template_update(template=template, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Saved the template “{template.name}”.")
            return redirect("email-template-list")
    status = 422 if form.is_bound else 200
    context = {"title": f"Edit {template.name}", "form": form, "template": template}
    return render(request, FORM_TEMPLATE, context, status=status)


@require_http_methods(["GET", "POST"])
def email_template_delete_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    template = _template_for(request, pk)
    if request.method == "POST":
        email_template_delete(template=template)
        messages.success(request, f"Deleted the template “{template.name}”.")
        return redirect("email-template-list")
    context = {"title": f"Delete {template.name}", "template": template}
    return render(request, "emails/email_template_delete.html", context)
