from __future__ import annotations

from django.urls import path

from emails import views

urlpatterns = [
    path("leads/<int:pk>/email/", views.lead_email_compose, name="lead-email-compose"),
    path("leads/<int:pk>/email/preview/", views.lead_email_preview, name="lead-email-preview"),
]
