"""The win probability card of a lead page and the forecast strip of the pipeline.

Both are regions their pages load with htmx (`hx-trigger="load"`) from here: leads sits below
forecast in the app layers and must not import it, and a region of its own keeps the lead page
and the board as fast as they were (the forecast reads the owner's closed deals). Asked for as
a whole page (no JavaScript: the regions' fallback links), each renders on a page of its own.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from accounts.http import AuthenticatedHttpRequest
from forecast import selectors
from leadhunter.htmx import render_region, wants_partial
from leads.selectors import leads_visible_to


@require_GET
def lead_forecast(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    lead = get_object_or_404(leads_visible_to(request.user).select_related("owner"), pk=pk)
    context = {
        "title": f"Win probability: {lead}",
        "lead": lead,
        "forecast": selectors.lead_forecast(lead, viewer=request.user),
    }
    return render_region(request, "forecast/lead_forecast.html", "lead-forecast", context)


@require_GET
def pipeline_forecast(request: AuthenticatedHttpRequest) -> HttpResponse:
    value = request.GET.get("owner", "")
    owner_id = int(value) if value.isdigit() else None
    context = {
        "title": "Forecast",
        "owner_id": owner_id,
        # Swapped into the pipeline page, where a manager's rep picker reloads it.
        "on_board": wants_partial(request),
        "forecast": selectors.pipeline_forecast(request.user, owner_id=owner_id),
    }
    return render_region(request, "forecast/pipeline_forecast.html", "pipeline-forecast", context)
