from django.urls import path

from customers import views

app_name = "customers"
urlpatterns = [
    path("customers", views.customer_index, name="list"),
    path("customers/<int:pk>", views.customer_detail, name="detail"),
    path("customers/suggest", views.customer_suggest, name="suggest"),
]
