"""The prospecting pages: "Who do I know at …?" (warm paths) and "Prospects like your best
customers" (lookalikes). Thin: the selectors read, the services write; a POST from htmx answers
with the row it changed, without JavaScript it redirects back with a message."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_GET, require_POST

from accounts.http import AuthenticatedHttpRequest
from leadhunter.htmx import render_region, wants_partial
from leads.models import Lead
from leads.selectors import companies_visible_to
from prospecting import selectors, services
from referrals.models import AskChannel

WARM_TEMPLATE = "prospecting/warm_paths.html"
LOOKALIKES_TEMPLATE = "prospecting/lookalikes.html"
MAX_QUERY = 200


@require_GET
def warm_paths(request: AuthenticatedHttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:MAX_QUERY]
    company = None
    if request.GET.get("company", "").isdigit():
        company = get_object_or_404(
            companies_visible_to(request.user), pk=int(request.GET["company"])
        )
    result = None
    if company is not None or query:
        result = selectors.warm_paths(request.user, query=query, company=company)
    context = {
        "title": f"Who do I know at {result.label}?" if result else "Who do I know at …?",
        "query": company.name if company else query,
        "result": result,
        "channels": AskChannel.choices,
        "back": request.get_full_path(),
    }
    return render(request, WARM_TEMPLATE, context)


@require_POST
def warm_path_ask(request: AuthenticatedHttpRequest) -> HttpResponse:
    key = request.POST.get("key", "")
    company = request.POST.get("company", "").strip()[:200] or "the company"
    channel = request.POST.get("channel", AskChannel.EMAIL)
    if channel not in AskChannel.values:
        channel = AskChannel.EMAIL
    back = request.POST.get("back", "")
    if not back.startswith(reverse("prospect-warm-paths")):
        back = f"{reverse('prospect-warm-paths')}?{urlencode({'q': company})}"
    try:
        source, ask = services.intro_ask_start(
            user=request.user, key=key, company=company, channel=channel
        )
    except (ValidationError, PermissionDenied) as error:
        text = " ".join(getattr(error, "messages", [str(error)]))
        if wants_partial(request):
            failed = {"ask_error": text, "company": company}
            return render(request, f"{WARM_TEMPLATE}#ask-result", failed, status=422)
        messages.error(request, text)
        return redirect(back)
    if wants_partial(request):
        asked = {"source": source, "ask": ask, "company": company}
        return render(request, f"{WARM_TEMPLATE}#ask-result", asked)
    messages.success(request, f"Asked {source.name} for an intro at {company}.")
    return redirect(back)


@require_GET
def lookalikes(request: AuthenticatedHttpRequest) -> HttpResponse:
    rows = selectors.LOOKALIKE_ROWS * (4 if request.GET.get("more") else 1)
    context = {
        "title": "Prospects like your best customers",
        "found": selectors.lookalikes(request.user, rows=rows),
        "more": bool(request.GET.get("more")),
    }
    return render(request, LOOKALIKES_TEMPLATE, context)


@require_POST
def lookalike_add(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    lead = get_object_or_404(Lead.objects.filter(owner=request.user), pk=pk)
    try:
        follow_up = services.lookalike_add_to_reconnects(user=request.user, lead=lead)
    except ValidationError as error:
        text = " ".join(error.messages)
        if wants_partial(request):
            context = {"lead_id": lead.pk, "add_error": text}
            return render_region(request, LOOKALIKES_TEMPLATE, "add-result", context, status=422)
        messages.error(request, text)
        return redirect("prospect-lookalikes")
    if wants_partial(request):
        context = {"lead_id": lead.pk, "lead": lead, "follow_up": follow_up}
        return render_region(request, LOOKALIKES_TEMPLATE, "add-result", context)
    messages.success(
        request,
        f"Added {lead} to your reconnect plan: due "
        f"{date_format(timezone.localtime(follow_up.due_at), 'D j M')}.",
    )
    return redirect("prospect-lookalikes")
