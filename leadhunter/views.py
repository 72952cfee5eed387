from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.http import AuthenticatedHttpRequest
from ops import health


@require_GET
@never_cache
@login_not_required
def healthz(request: HttpRequest) -> JsonResponse:
    """Whether LeadHunter works, for load balancers and uptime monitors.

    503 when the database or the broker does not answer (this web server cannot do its job).
    A worker that is down (no heartbeat for three intervals) or cut off from the broker makes
    the status "degraded" but keeps the 200, so that a load balancer keeps sending pages to a
    web server that can serve them and the compose worker, which waits for a healthy web
    server, can start; `?worker=required` makes it a 503 too, for monitors that read only the
    status code.
    """
    checks = {"database": health.database_ok(), "broker": health.broker_ok()}
    body = {name: "ok" if ok else "unavailable" for name, ok in checks.items()}
    body["worker"] = health.worker_status() if checks["database"] else "unknown"
    if not all(checks.values()):
        status, code = "unavailable", 503
    elif body["worker"] != "ok":
        status, code = "degraded", 503 if request.GET.get("worker") == "required" else 200
    else:
        status, code = "ok", 200
    return JsonResponse({"status": status, **body}, status=code)


@require_GET
def coming_soon(request: AuthenticatedHttpRequest, *, title: str):
    """A section whose pages have not landed yet."""
    return render(request, "coming_soon.html", {"title": title})
