from django.contrib import admin
from django.db import DatabaseError, connection
from django.http import HttpResponse
from django.urls import include, path

from billing_site.core import health


def healthz(request):
    """200 "ok" when the app can run a query; 503 "database unreachable" when it cannot."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return HttpResponse("database unreachable", status=503, content_type="text/plain")
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("billing_site.api_urls")),
    path("healthz", healthz, name="healthz"),
    # For the proxy and the orchestrator (issue 12): billing_site/core/health.py.
    path("health/live", health.live, name="health-live"),
    path("health/ready", health.ReadyView.as_view(), name="health-ready"),
    path("", include("accounts.urls")),
    path("", include("customers.urls")),
    path("", include("bills.urls")),
    path("", include("usage.urls")),
]

handler400 = "billing_site.handlers.bad_request"
handler403 = "billing_site.handlers.permission_denied"
handler404 = "billing_site.handlers.not_found"
handler500 = "billing_site.handlers.server_error"
