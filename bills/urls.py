from django.urls import path

from bills import views, views_bulk, views_payments, views_queue, views_send, views_unbilled

app_name = "bills"
urlpatterns = [
    path("dashboard", views.dashboard, name="dashboard"),
    path("dashboard/awaiting", views_queue.awaiting_count, name="awaiting_count"),
    path("bills/generate", views.generate, name="generate"),
    path("bills/jobs/<str:job_id>", views.generation_job, name="generation_job"),
    path("bills/unbilled", views_unbilled.unbilled, name="unbilled"),
    path("bills/bulk/<str:action>", views_bulk.bulk, name="bulk"),
    path("bills/<int:pk>", views.detail, name="detail"),
    path("bills/<int:pk>/invoice", views.invoice, name="invoice"),
    path("bills/<int:pk>/invoice.pdf", views.invoice_download, name="invoice_pdf"),
    path("bills/<int:pk>/credit-note.pdf", views.credit_note_download, name="credit_note_pdf"),
    path("bills/<int:pk>/approve", views.approve, name="approve"),
    path("bills/<int:pk>/reject", views.reject, name="reject"),
    path("bills/<int:pk>/revert", views.revert, name="revert"),
    path("bills/<int:pk>/update", views.update, name="update"),
    # GET: the send preview; POST: views.send.
    path("bills/<int:pk>/send", views_send.send, name="send"),
    path("bills/<int:pk>/send/preview.pdf", views_send.preview_pdf, name="send_preview_pdf"),
    path("bills/<int:pk>/void", views.void, name="void"),
    path("bills/<int:pk>/rebill", views.rebill, name="rebill"),
    path("bills/<int:pk>/resend", views.resend, name="resend"),
    path("bills/<int:pk>/dismiss", views.dismiss, name="dismiss"),
    path("bills/<int:pk>/payments", views_payments.record, name="payment_record"),
    path(
        "bills/<int:pk>/payments/<int:payment_id>/undo",
        views_payments.undo,
        name="payment_undo",
    ),
]
