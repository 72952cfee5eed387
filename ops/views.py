"""The managers' Status page: the checks of `manage.py doctor`, in the app."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.http import AuthenticatedHttpRequest
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
