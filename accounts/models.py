from __future__ import annotations

import zoneinfo
from functools import cached_property

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

TIME_ZONE_CHOICES = [
    (name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())
]


DEFAULT_LOST_REASONS = [
    "No budget",
    "Chose a competitor",
    "No decision / went quiet",
    "Bad timing",
    "Not a fit",
]


def default_lost_reasons() -> list[str]:
    return list(DEFAULT_LOST_REASONS)


class User(AbstractUser):
    """A salesperson (or sales manager) who owns leads."""

    time_zone = models.CharField(
        max_length=64,
        choices=TIME_ZONE_CHOICES,
        default="UTC",
        help_text="Follow-ups, reminders and 'today' follow this time zone.",
    )
    daily_touch_goal = models.PositiveSmallIntegerField(
        default=20,
        validators=[MinValueValidator(1), MaxValueValidator(500)],
        help_text="How many touches (calls, emails, meetings, messages) you aim for each day.",
    )
    reconnects_per_day = models.PositiveSmallIntegerField(
        "reconnects per day",
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="How many imported contacts from your network come up for a first touch a day.",
    )
    lost_reasons = models.JSONField(
        default=default_lost_reasons,
        blank=True,
        help_text="The reasons offered when a lead is marked lost (free text is always allowed).",
    )
    weekly_referral_email = models.BooleanField(
        "weekly referral-ask email",
        default=True,
        help_text="Monday morning: who to ask for a referral this week.",
    )
    daily_digest_email = models.BooleanField(
        "daily follow-up digest",
        default=True,
        help_text="Each morning: overdue and due-today follow-ups and new hand-raisers.",
    )
    is_demo = models.BooleanField(
        "demo account",
        default=False,
        editable=False,
        help_text="Created by the demo data; 'Remove the demo data' deletes it and its records.",
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @cached_property
    def is_manager(self) -> bool:
        """Sales managers see and reassign the whole team's records.

        The logged-in user has it already: `accounts.backends.UserBackend` reads it with them.
        """
        if self.is_superuser:
            return True
        return self.groups.filter(name=settings.SALES_MANAGERS_GROUP).exists()

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class PasswordResetRequest(models.Model):
    """One "send me a reset link" request, kept a day to limit them per address and per IP.

    The address is kept only as a keyed digest: the table tells nobody which addresses were
    tried, and rows exist for unknown addresses too, so they tell nobody who has an account.
    """

    email_digest = models.CharField(max_length=64)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    requested_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["email_digest", "requested_at"], name="reset_email_time"),
            models.Index(fields=["ip_address", "requested_at"], name="reset_ip_time"),
        ]

    def __str__(self) -> str:
        return f"Password reset request at {self.requested_at:%Y-%m-%d %H:%M}"


class TeamSettings(models.Model):
    """Settings of the whole team, which a sales manager changes on the Team page: one row
    (`team_settings()` in accounts.selectors makes it on first read)."""

    share_contacts = models.BooleanField(
        "share contacts for introductions",
        default=False,
        help_text=(
            "“Who do I know at …?” also lists teammates' contacts at the company, by name and "
            "title only, as “ask Jordan for an intro”. Notes and contact details stay private."
        ),
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name_plural = "team settings"

    def __str__(self) -> str:
        return "Team settings"
