"""Small helpers shared by the htmx views."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def wants_partial(request: HttpRequest) -> bool:
    """An htmx request that swaps a region (a boosted navigation wants the whole page)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted


def render_region(
    request: HttpRequest, template: str, region: str, context: dict, *, status: int = 200
) -> HttpResponse:
    """`template#region` for htmx requests, the whole page otherwise (no-JavaScript fallback)."""
    name = f"{template}#{region}" if wants_partial(request) else template
    return render(request, name, context, status=status)


def trigger(response: HttpResponse, *events: str, **detailed: object) -> HttpResponse:
    """Announce changes with HX-Trigger so other regions refresh themselves."""
    payload: dict[str, object] = dict.fromkeys(events, True)
    payload.update(detailed)
    response["HX-Trigger"] = json.dumps(payload)
    return response
