"""Credentials for the outside world: API tokens and the secret calendar-feed link."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class ApiToken(models.Model):
    """A personal API token. Only a SHA-256 hash of the secret is kept: the secret itself is
    shown once, when the token is created, and cannot be recovered afterwards."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, help_text="What uses it, e.g. “Zapier” or “laptop”.")
    prefix = models.CharField(
        max_length=16, help_text="The first characters of the token, to recognise it by."
    )
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API token"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="apitoken_user_created")]
        constraints = [
            models.CheckConstraint(condition=~Q(key_hash=""), name="apitoken_has_hash"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class CalendarFeed(models.Model):
    """A user's secret iCalendar link. The token is the whole credential of a read-only feed
    that a calendar app polls, so it is kept (long and random) to show the link again;
    regenerating it replaces the token, which ends the old link."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(token=""), name="calendarfeed_has_token"),
        ]

    def __str__(self) -> str:
        return f"Calendar feed of {self.user}"
