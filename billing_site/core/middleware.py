"""Response headers every answer of the desk carries."""

from __future__ import annotations

from django.utils.cache import patch_cache_control, patch_vary_headers


class PrivateResponsesMiddleware:
    """Nothing a signed-in user reads is kept by a shared cache or the browser's back-forward
    store as something it is not:

    - every answer gets `Cache-Control: private, no-store` unless the view chose its own: the
      pages of a signed-in user, every API answer and export, and the public pages too (their
      forms carry a CSRF token, and a 401/403/503 must not be replayed from a cache);
    - every answer varies on `HX-Request`, so an htmx fragment (a table, a row) is never stored
      or restored as the page at the same URL (Back after filtering shows the whole page).

    Static files (WhiteNoise, earlier in MIDDLEWARE) never reach here and stay cacheable.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        patch_vary_headers(response, ("HX-Request",))
        if not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True, no_store=True)
        return response
