from __future__ import annotations

from django.urls import path

from reports import views

urlpatterns = [
    path("", views.report_index, name="reports"),
    path("<slug:slug>/", views.report_detail, name="report-detail"),
    path("<slug:slug>.csv", views.report_csv, name="report-csv"),
]
