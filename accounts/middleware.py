from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpResponse, HttpResponseRedirect

# The API answers 401 itself; the admin has its own login; static files are public.
OPEN_PREFIXES = ("/welcome", "/api/", "/admin/", "/static/", "/healthz", "/favicon.ico")


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
            # htmx would swap the login page into a table cell; ask it to navigate instead.
            return HttpResponse(status=401, headers={"HX-Redirect": target})
        return HttpResponseRedirect(target)
