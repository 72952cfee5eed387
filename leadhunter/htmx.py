"""Small helpers shared by the htmx views, and the request type they are annotated with."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_htmx.http import trigger_client_event
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """A request past django-htmx's HtmxMiddleware (in MIDDLEWARE for every request), which
    sets `request.htmx`; typed the way django-htmx's example project types its views."""

    htmx: HtmxDetails


def wants_partial(request: HtmxHttpRequest) -> bool:
    """An htmx request that swaps a region (a boosted navigation wants the whole page)."""
    return bool(request.htmx) and not request.htmx.boosted


def render_region(
    request: HtmxHttpRequest,
    template: str,
    region: str,
    context: Mapping[str, Any],
    *,
    status: int = 200,
) -> HttpResponse:
    """`template#region` for htmx requests, the whole page otherwise (no-JavaScript fallback)."""
    name = f"{template}#{region}" if wants_partial(request) else template
    return render(request, name, context, status=status)


def trigger(response: HttpResponse, *events: str) -> HttpResponse:
    """Announce changes with HX-Trigger so other regions refresh themselves."""
    for event in events:
        trigger_client_event(response, event)
    return response
