from __future__ import annotations

from django.urls import path

from api import settings_views

urlpatterns = [
    path("api-tokens/", settings_views.api_token_create, name="api-token-create"),
    path("api-tokens/<int:pk>/revoke/", settings_views.api_token_revoke, name="api-token-revoke"),
    path("calendar/", settings_views.calendar_feed_regenerate, name="calendar-feed-regenerate"),
    path("calendar/off/", settings_views.calendar_feed_delete, name="calendar-feed-delete"),
]
