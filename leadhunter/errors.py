"""Error pages: the API answers every error in its own JSON shape, pages keep Django's.

Some errors happen before any view runs (a body over DATA_UPLOAD_MAX_MEMORY_SIZE, an address
that matches no URL pattern, a crash), so DRF's exception handler never sees them; these
handlers give the API's clients {"error": …, "fields": {}} there too.
"""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

API_PREFIX = "/api/"


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def _api_error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message, "fields": {}}, status=status)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if not _is_api(request):
        return defaults.bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        return _api_error("The request body is too large.", 413)
    if isinstance(exception, TooManyFieldsSent):
        return _api_error("The request has too many fields.", 400)
    return _api_error("Bad request.", 400)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if not _is_api(request):
        return defaults.page_not_found(request, exception)
    return _api_error("No API endpoint at this address; see /api/v1/docs/.", 404)


def server_error(request: HttpRequest) -> HttpResponse:
    if not _is_api(request):
        return defaults.server_error(request)
    return _api_error("Something went wrong on the server; nothing was saved.", 500)
