from __future__ import annotations

from django.urls import path

from forecast import views

urlpatterns = [
    path("leads/<int:pk>/", views.lead_forecast, name="lead-forecast"),
    path("pipeline/", views.pipeline_forecast, name="pipeline-forecast"),
]
