from __future__ import annotations

from django.urls import path

from accounts import views

urlpatterns = [
    path("", views.user_settings, name="settings"),
]
