from __future__ import annotations

from django.urls import path

from imports import views

urlpatterns = [
    path("", views.import_start, name="import-start"),
    path("<uuid:pk>/", views.import_detail, name="import-detail"),
    path("<uuid:pk>/mapping/", views.import_mapping, name="import-mapping"),
    path("<uuid:pk>/preview/", views.import_preview, name="import-preview"),
    path("<uuid:pk>/run/", views.import_run, name="import-run"),
    path("<uuid:pk>/errors.csv", views.import_errors_csv, name="import-errors-csv"),
    path("export/leads.csv", views.lead_export_csv, name="lead-export-csv"),
    path("export/leads.json", views.lead_export_json, name="lead-export-json"),
    path("export/account.zip", views.account_export, name="account-export"),
]
