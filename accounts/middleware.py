from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpResponseRedirect

from billing_site.core.http import htmx_failure

SESSION_ENDED = (
    "Your session has ended (you logged out, perhaps in another tab). Log in again to continue."
)
# The API answers 401 itself; the admin has its own login; static files and the health checks
# (for the proxy and the orchestrator) are public.
OPEN_PREFIXES = (
    "/welcome",
    "/api/",
    "/admin/",
    "/static/",
    "/healthz",
    "/health/",
    "/favicon.ico",
)


class LoginRequiredPagesMiddleware:
    """Every page but /welcome needs a login; anonymous visitors are sent to /welcome."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated or request.path.startswith(OPEN_PREFIXES):
            return self.get_response(request)
        target = settings.LOGIN_URL
        if request.method == "GET" and request.path != "/":
            target = f"{target}?{urlencode({'next': request.get_full_path()})}"
        if getattr(request, "htmx", False):
            # htmx would swap the login page into a table cell: the page says so instead, with
            # a link to log in that comes back to it (the page, not the button's URL).
            return htmx_failure(request, status=401, message=SESSION_ENDED, kind="login")
        return HttpResponseRedirect(target)
