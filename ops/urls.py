from __future__ import annotations

from django.urls import path

from ops import views

urlpatterns = [
    path("", views.system_status, name="system-status"),
]
