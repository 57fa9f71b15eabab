"""Error answers outside the views: JSON under /api/ (SPEC: JSON in and out), the templates
elsewhere. They cover what never reaches a DRF view: a URL that does not resolve (/api/bills/abc),
a rejected request, and an unhandled exception, which says nothing of its cause, except that
the database cannot be reached: that is a 503 (try again), not a 500 (our bug)."""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.views import csrf, defaults

from billing_site.core.http import htmx_failure

API_PREFIX = "/api/"
# How long a client should wait before trying again while the database is unreachable (seconds).
RETRY_AFTER = 10
DATABASE_DOWN = (
    "The database cannot be reached right now. Nothing was changed; try again in a moment."
)


# To htmx (a button in a row, a filter), each failure is one sentence for the page's message
# area, never the whole error page swapped into a fragment (core.http.htmx_failure).
BAD_REQUEST = "The request could not be read. Reload the page and try again."
FORBIDDEN = "You may not do this."
NOT_FOUND = "This no longer exists (it may have been removed). Reload the page."
SERVER_ERROR = "Something went wrong; nothing was changed. Try again."
CSRF_EXPIRED = (
    "This page has expired (you logged in again, perhaps in another tab). Reload it and try again."
)


def _is_api(request) -> bool:
    return request.path.startswith(API_PREFIX)


def _is_htmx(request) -> bool:
    # The handlers also answer requests that never passed HtmxMiddleware (a 400 raised early).
    return request.headers.get("HX-Request") == "true" and not _is_api(request)


def csrf_failure(request, reason=""):
    """settings.CSRF_FAILURE_VIEW: the form-expired page, or to htmx a message with Reload."""
    if _is_htmx(request):
        return htmx_failure(request, status=403, message=CSRF_EXPIRED, kind="csrf")
    return csrf.csrf_failure(request, reason=reason)


def bad_request(request, exception):
    if _is_api(request):
        return JsonResponse({"detail": "Bad request."}, status=400)
    if _is_htmx(request):
        return htmx_failure(request, status=400, message=BAD_REQUEST)
    return defaults.bad_request(request, exception)


def permission_denied(request, exception):
    if _is_api(request):
        return JsonResponse({"detail": FORBIDDEN}, status=403)
    if _is_htmx(request):
        return htmx_failure(request, status=403, message=FORBIDDEN)
    return defaults.permission_denied(request, exception)


def not_found(request, exception):
    if _is_api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    if _is_htmx(request):
        return htmx_failure(request, status=404, message=NOT_FOUND)
    return defaults.page_not_found(request, exception)


def database_unreachable() -> bool:
    """Whether the exception being handled is the database being unreachable (a connection that
    failed or broke), rather than a bug."""
    return isinstance(sys.exc_info()[1], OperationalError | InterfaceError)


def server_error(request):
    if database_unreachable():
        if _is_api(request):
            response = JsonResponse({"detail": DATABASE_DOWN}, status=503)
        elif _is_htmx(request):
            response = htmx_failure(request, status=503, message=DATABASE_DOWN)
        else:
            body = loader.get_template("503.html").render({"message": DATABASE_DOWN})
            response = HttpResponse(body, status=503)
        response["Retry-After"] = str(RETRY_AFTER)
        return response
    if _is_api(request):
        return JsonResponse({"detail": "Server error. It has been logged."}, status=500)
    if _is_htmx(request):
        return htmx_failure(request, status=500, message=SERVER_ERROR)
    return defaults.server_error(request)
