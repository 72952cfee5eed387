"""Pages of the capture side: the Settings section's forms and the Unmatched emails list."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.forms import UserSettingsForm
from accounts.http import AuthenticatedHttpRequest
from emails import capture, capture_selectors, mailboxes
from emails.capture_forms import MailboxConnectForm, NeverLogForm, UnmatchedLinkForm
from leadhunter.forms import add_service_errors
from leads.models import Lead
from leads.normalize import normalize_email

UNMATCHED_PAGE_SIZE = 50


def _settings_page(request: AuthenticatedHttpRequest, **forms: object) -> HttpResponse:
    context = {"title": "Settings", "form": UserSettingsForm.for_user(request.user), **forms}
    return render(request, "accounts/settings.html", context, status=422)


def _to_section() -> HttpResponse:
    return redirect(f"{reverse('settings')}#email-capture")


@require_POST
def mailbox_connect(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Check the mailbox can be read, then connect it; an error shows next to its field."""
    form = MailboxConnectForm(request.POST)
    if form.is_valid():
        try:
            mailboxes.mailbox_connect(
                owner=request.user,
                host=form.cleaned_data["host"],
                port=form.cleaned_data["port"],
                use_ssl=form.cleaned_data["use_ssl"],
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
                folders=form.folder_list(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                "Mailbox connected: emails with your leads are logged within a minute.",
            )
            return _to_section()
    return _settings_page(request, mailbox_form=form)


@require_POST
def mailbox_disconnect(request: AuthenticatedHttpRequest) -> HttpResponse:
    if mailboxes.mailbox_disconnect(owner=request.user):
        messages.success(
            request, "Mailbox removed and its password forgotten; logged emails stay on leads."
        )
    return _to_section()


@require_POST
def never_log_update(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = NeverLogForm(request.POST)
    if form.is_valid():
        try:
            capture.never_log_update(owner=request.user, text=form.cleaned_data["never_log"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Never-log list saved.")
            return _to_section()
    return _settings_page(request, never_log_form=form)


@require_GET
def unmatched_email_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    rows = list(capture_selectors.unmatched_emails_of(request.user)[:UNMATCHED_PAGE_SIZE])
    suggestions = capture_selectors.leads_like(request.user, rows)
    items = [
        {"email": row, "suggested": suggestions.get(row.person_address.rsplit("@", 1)[-1], [])}
        for row in rows
    ]
    context = {
        "title": "Unmatched emails",
        "items": items,
        "total": capture_selectors.unmatched_count_of(request.user) if rows else 0,
    }
    return render(request, "emails/unmatched_list.html", context)


@require_GET
def unmatched_email_count(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The "N unmatched emails" notice Today loads beside its queue (empty when none)."""
    count = capture_selectors.unmatched_count_of(request.user)
    return render(request, "emails/_unmatched_notice.html", {"unmatched_count": count})


def _unmatched_of(request: AuthenticatedHttpRequest, pk: int):
    return get_object_or_404(capture_selectors.unmatched_emails_of(request.user), pk=pk)


@require_POST
def unmatched_email_create_lead(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    unmatched = _unmatched_of(request, pk)
    try:
        lead = capture.unmatched_create_lead(unmatched=unmatched)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("unmatched-email-list")
    messages.success(request, f"{lead} is a lead now, with their email on the timeline.")
    return redirect("lead-detail", lead.pk)


@require_POST
def unmatched_email_link(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    unmatched = _unmatched_of(request, pk)
    lead_id = request.POST.get("lead")
    lead = None
    if lead_id and lead_id.isdigit():
        lead = Lead.objects.filter(owner=request.user, pk=int(lead_id)).first()
    else:
        form = UnmatchedLinkForm(request.POST)
        if form.is_valid():
            address = normalize_email(form.cleaned_data["lead_email"])
            lead = Lead.objects.filter(owner=request.user, email=address).first()
    if lead is None:
        messages.error(request, "No lead of yours has that address: create the lead instead.")
        return redirect("unmatched-email-list")
    capture.unmatched_link(unmatched=unmatched, lead=lead)
    messages.success(request, f"Logged on {lead}.")
    return redirect("unmatched-email-list")


@require_POST
def unmatched_email_discard(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    unmatched = _unmatched_of(request, pk)
    capture.unmatched_discard(unmatched=unmatched)
    messages.success(request, f"Discarded the email with {unmatched.person_address}.")
    return redirect("unmatched-email-list")
