"""A lead's privacy actions: download everything held about the person, and erase them."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import messages
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from accounts.http import AuthenticatedHttpRequest
from leads import selectors
from privacy import services as privacy


class EraseForm(forms.Form):
    confirm = forms.CharField(label="Type the person's name to confirm", max_length=300, strip=True)

    def __init__(self, *args: Any, expected: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.expected = expected

    def clean_confirm(self) -> str:
        typed = self.cleaned_data["confirm"]
        if " ".join(typed.split()).casefold() != " ".join(self.expected.split()).casefold():
            raise forms.ValidationError(f"Type “{self.expected}” exactly to erase this person.")
        return typed


@require_GET
def lead_personal_data(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Everything held about the person, as a JSON download (a subject access request)."""
    lead = get_object_or_404(selectors.leads_visible_to(request.user), pk=pk)
    data = privacy.lead_personal_data_export(lead=lead, by=request.user)
    response = HttpResponse(
        json.dumps(data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="lead-{lead.pk}-personal-data.json"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_http_methods(["GET", "POST"])
def lead_erase(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """GET: what erasing deletes, and a box for the person's name; POST: erase them."""
    lead = get_object_or_404(selectors.leads_visible_to(request.user), pk=pk)
    form = EraseForm(request.POST or None, expected=lead.full_name)
    if request.method == "POST" and form.is_valid():
        identifiers = privacy.lead_identifiers(lead)
        privacy.lead_erase(lead=lead, by=request.user)
        _forget_in_this_session(request, identifiers)
        # No name in the message: it is stored (cookie or session) until it is shown.
        messages.success(request, f"Lead #{pk} was erased everywhere LeadHunter kept it.")
        return redirect("lead-list")
    # An unconfirmed POST shows the page again with the form's error, as a GET would.
    return render(
        request, "privacy/lead_erase.html", {"title": f"Erase {lead}", "lead": lead, "form": form}
    )


def _forget_in_this_session(request: HttpRequest, identifiers: list[str]) -> None:
    """This request's own session and pending messages are saved after the erasure ran, so
    what they say about the person is dropped here, or the response would write it back."""
    pending = list(messages.get_messages(request))  # read: the storage drops them on save
    for message in pending:
        if not privacy.mentions(message.message, identifiers):
            messages.add_message(request, message.level, message.message, message.extra_tags)
    for key in list(request.session.keys()):
        if privacy.mentions(request.session[key], identifiers):
            del request.session[key]
