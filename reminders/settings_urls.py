"""The reminder emails' previews, under Settings."""

from __future__ import annotations

from django.urls import path

from reminders import views

urlpatterns = [
    path("<slug:slug>/", views.reminder_email_preview, name="reminder-email-preview"),
    path("<slug:slug>/html/", views.reminder_email_preview_html, name="reminder-email-html"),
    path("<slug:slug>/send/", views.reminder_email_send, name="reminder-email-send"),
]
