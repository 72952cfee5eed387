"""Django's authentication URLs (password reset, change, logout) with our login page."""

from __future__ import annotations

from django.contrib.auth import urls as django_auth_urls
from django.urls import path

from accounts.views import LoginView, PasswordResetView, first_account

OURS = {"login", "password_reset"}

urlpatterns = [
    path("login/", LoginView.as_view(), name="login"),
    path("first-account/", first_account, name="first-account"),
    path("password_reset/", PasswordResetView.as_view(), name="password_reset"),
    *[pattern for pattern in django_auth_urls.urlpatterns if pattern.name not in OURS],
]
