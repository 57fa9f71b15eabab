"""Error answers outside the views: JSON under /api/ (SPEC: JSON in and out), the templates
elsewhere. They cover what never reaches a DRF view: a URL that does not resolve (/api/bills/abc),
a rejected request, and an unhandled exception, which says nothing of its cause, except that
the database cannot be reached: that is a 503 (try again), not a 500 (our bug)."""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.views import defaults

API_PREFIX = "/api/"
# How long a client should wait before trying again while the database is unreachable (seconds).
RETRY_AFTER = 10
DATABASE_DOWN = (
    "The database cannot be reached right now. Nothing was changed; try again in a moment."
)


def _is_api(request) -> bool:
    return request.path.startswith(API_PREFIX)


def bad_request(request, exception):
    if _is_api(request):
        return JsonResponse({"detail": "Bad request."}, status=400)
    return defaults.bad_request(request, exception)


def permission_denied(request, exception):
    if _is_api(request):
        return JsonResponse({"detail": "You may not do this."}, status=403)
    return defaults.permission_denied(request, exception)


def not_found(request, exception):
    if _is_api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def database_unreachable() -> bool:
    """Whether the exception being handled is the database being unreachable (a connection that
    failed or broke), rather than a bug."""
    return isinstance(sys.exc_info()[1], OperationalError | InterfaceError)


def server_error(request):
    if database_unreachable():
        if _is_api(request):
            response = JsonResponse({"detail": DATABASE_DOWN}, status=503)
        else:
            body = loader.get_template("503.html").render({"message": DATABASE_DOWN})
            response = HttpResponse(body, status=503)
        response["Retry-After"] = str(RETRY_AFTER)
        return response
    if _is_api(request):
        return JsonResponse({"detail": "Server error. It has been logged."}, status=500)
    return defaults.server_error(request)
