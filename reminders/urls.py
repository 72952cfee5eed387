from __future__ import annotations

from django.urls import path

from reminders import views

app_name = "reminders"

urlpatterns = [
    path("<str:token>/", views.email_link, name="email-link"),
]
