from django.urls import path

from bills import views

app_name = "bills"
urlpatterns = [
    path("dashboard", views.dashboard, name="dashboard"),
    path("bills/generate", views.generate, name="generate"),
    path("bills/<int:pk>", views.detail, name="detail"),
    path("bills/<int:pk>/invoice", views.invoice, name="invoice"),
    path("bills/<int:pk>/invoice.pdf", views.invoice_download, name="invoice_pdf"),
    path("bills/<int:pk>/credit-note.pdf", views.credit_note_download, name="credit_note_pdf"),
    path("bills/<int:pk>/approve", views.approve, name="approve"),
    path("bills/<int:pk>/reject", views.reject, name="reject"),
    path("bills/<int:pk>/revert", views.revert, name="revert"),
    path("bills/<int:pk>/update", views.update, name="update"),
    path("bills/<int:pk>/send", views.send, name="send"),
    path("bills/<int:pk>/void", views.void, name="void"),
    path("bills/<int:pk>/rebill", views.rebill, name="rebill"),
    path("bills/<int:pk>/dismiss", views.dismiss, name="dismiss"),
]
