from django.urls import path

from usage import overview, views

app_name = "usage"
urlpatterns = [
    path("usage", overview.usage_overview, name="overview"),
    path("usage/record", views.record, name="record"),
    path("usage/record/template.csv", views.csv_template, name="template"),
]
