"""Django's authentication URLs (password reset, change, logout) with our login page."""

from __future__ import annotations

from django.contrib.auth import urls as django_auth_urls
from django.urls import path

from accounts.views import LoginView

urlpatterns = [
    path("login/", LoginView.as_view(), name="login"),
    *[pattern for pattern in django_auth_urls.urlpatterns if pattern.name != "login"],
]
