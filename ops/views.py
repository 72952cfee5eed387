"""The managers' Status page: the checks of `manage.py doctor`, in the app."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.http import AuthenticatedHttpRequest
from ops import health
from ops.checks import overall, system_checks


@require_GET
@never_cache
def system_status(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Each check with what it found and what to do; managers only (it names paths and hosts)."""
    if not request.user.is_manager:
        raise PermissionDenied("The Status page is for sales managers.")
    checks = system_checks()
    context = {
        "title": "Status",
        "checks": checks,
        "overall": overall(checks),
        "checked_at": timezone.now(),
    }
    return render(request, "ops/status.html", context)


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
