"""Small helpers shared by the htmx views."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_htmx.http import trigger_client_event


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


def trigger(response: HttpResponse, *events: str) -> HttpResponse:
    """Announce changes with HX-Trigger so other regions refresh themselves."""
    for event in events:
        trigger_client_event(response, event)
    return response
