from __future__ import annotations

from django.urls import path

from accounts import views

urlpatterns = [
    path("", views.user_settings, name="settings"),
    path("api-tokens/", views.api_token_create, name="api-token-create"),
    path("api-tokens/<int:pk>/revoke/", views.api_token_revoke, name="api-token-revoke"),
    path("calendar/", views.calendar_feed_regenerate, name="calendar-feed-regenerate"),
    path("calendar/off/", views.calendar_feed_delete, name="calendar-feed-delete"),
]
