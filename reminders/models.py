from __future__ import annotations

from django.conf import settings
from django.db import models


class ReminderKind(models.TextChoices):
    WEEKLY_REFERRALS = "weekly_referrals", "Weekly referral-ask reminder"
    DAILY_DIGEST = "daily_digest", "Daily follow-up digest"


class ReminderStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    EXPIRED = "expired", "Expired"
    SKIPPED = "skipped", "Skipped (nothing to say)"


class Reminder(models.Model):
    """One email to one user for one period (an ISO week or a local date).

    The row, not a broker message, is the source of truth: the unique (user, kind, period)
    makes each email exist once, and a conditional UPDATE claims it before sending, so retries,
    restarts and two dispatchers at once still send it at most once.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminders"
    )
    kind = models.CharField(max_length=20, choices=ReminderKind.choices)
    period = models.CharField(max_length=10, help_text="ISO week (2026-W48) or date (2026-11-30).")
    due_at = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=ReminderStatus.choices, default=ReminderStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    subject = models.CharField(max_length=200, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-due_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind", "period"], name="one_reminder_per_user_kind_period"
            ),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="reminder_status_next")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.period} → {self.user}"


class EmailLinkUse(models.Model):
    """A signed one-click email link that has been used, so a second click changes nothing."""

    key = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    action = models.CharField(max_length=30)
    used_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.action} by {self.user} at {self.used_at:%Y-%m-%d %H:%M}"


class ReminderSendToSelf(models.Model):
    """One "Send it to me now" of a reminder email, from Settings: kept to limit how many a
    user may send in an hour (the button must not become a way to flood an inbox)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=ReminderKind.choices)
    requested_at = models.DateTimeField()
    sent = models.BooleanField(default=False, help_text="The mail server accepted it.")

    class Meta:
        ordering = ["-requested_at"]
        indexes = [models.Index(fields=["user", "requested_at"], name="send_to_self_user_time")]

    def __str__(self) -> str:
        return (
            f"{self.get_kind_display()} sent to {self.user} at {self.requested_at:%Y-%m-%d %H:%M}"
        )
