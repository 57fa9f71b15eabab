"""Every URL of the JSON API (under /api/). docs/api.md is the reference."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts import api as accounts_api
from bills import api as bills_api
from bills import api_bulk as bills_api_bulk
from bills import api_payments as bills_api_payments
from bills import api_queue as bills_api_queue
from bills import api_unbilled as bills_api_unbilled
from customers import api as customers_api
from usage import api as usage_api

app_name = "api"

urlpatterns = [
    path("users", accounts_api.UserCreateView.as_view(), name="users"),
    path("users/<int:pk>", accounts_api.UserDetailView.as_view(), name="user"),
    path("session", accounts_api.SessionView.as_view(), name="session"),
    path("customers", customers_api.CustomerListView.as_view(), name="customers"),
    path("customers/<int:pk>", customers_api.CustomerDetailView.as_view(), name="customer"),
    path("usage", usage_api.UsageView.as_view(), name="usage"),
    path("usage.csv", usage_api.UsageCSVView.as_view(), name="usage-csv"),
    path("usage/summary", usage_api.UsageSummaryView.as_view(), name="usage-summary"),
    path(
        "usage/<int:pk>/revisions",
        usage_api.UsageRevisionsView.as_view(),
        name="usage-revisions",
    ),
    path("bills", bills_api.BillListView.as_view(), name="bills"),
    path("bills.csv", bills_api.BillCSVView.as_view(), name="bills-csv"),
    path("bills/generate", bills_api.BillGenerateView.as_view(), name="bills-generate"),
    path("jobs/<str:job_id>", bills_api.JobView.as_view(), name="job"),
    path("bills/unbilled", bills_api_unbilled.UnbilledListView.as_view(), name="bills-unbilled"),
    path("bills/awaiting", bills_api_queue.AwaitingCountView.as_view(), name="bills-awaiting"),
    *bills_api_bulk.urlpatterns,  # bills/bulk/{approve,reject,send}[/preview]
    path("bills/<int:pk>", bills_api.BillDetailView.as_view(), name="bill"),
    path("bills/<int:pk>/approve", bills_api.BillApproveView.as_view(), name="bill-approve"),
    path("bills/<int:pk>/reject", bills_api.BillRejectView.as_view(), name="bill-reject"),
    path("bills/<int:pk>/revert", bills_api.BillRevertView.as_view(), name="bill-revert"),
    path("bills/<int:pk>/send", bills_api.BillSendView.as_view(), name="bill-send"),
    path("bills/<int:pk>/void", bills_api.BillVoidView.as_view(), name="bill-void"),
    path("bills/<int:pk>/resend", bills_api.BillResendView.as_view(), name="bill-resend"),
    path("bills/<int:pk>/rebill", bills_api.BillRebillView.as_view(), name="bill-rebill"),
    path("bills/<int:pk>/dismiss", bills_api.BillDismissView.as_view(), name="bill-dismiss"),
    path(
        "bills/<int:pk>/payments",
        bills_api_payments.BillPaymentsView.as_view(),
        name="bill-payments",
    ),
    path(
        "bills/<int:pk>/payments/<int:payment_id>/undo",
        bills_api_payments.BillPaymentUndoView.as_view(),
        name="bill-payment-undo",
    ),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its script at ?script rather than inline, for the site's CSP.
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api:schema", template_name="api/docs.html"),
        name="docs",
    ),
]
