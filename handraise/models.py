"""A salesperson's public page, and each hand-raise that lands through it.

The page answers at an unguessable token (regenerating it makes the old address stop
answering). Every accepted submission (the page's form, the embedded form, later a booking) is
kept as a HandRaise: what the visitor sent, the consent text they saw, their IP and browser, the
activity it became on the salesperson's lead, and the state of the email that tells the
salesperson at once (an outbox row, like reminders.Reminder: claimed, sent, settled once).
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q

from leads.models import Activity, ActivityKind, Lead

# 32 random bytes, URL-safe: 43 characters, never guessed.
TOKEN_BYTES = 32
INTRO_MAX_LENGTH = 2000


def new_page_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


class PublicPage(models.Model):
    """A salesperson's public "tell me what you need" page: one per salesperson."""

    owner = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="public_page"
    )
    token = models.CharField(max_length=64, unique=True, default=new_page_token)
    intro = models.TextField(
        "what you want visitors to read",
        max_length=INTRO_MAX_LENGTH,
        blank=True,
        help_text="Plain text; blank lines start a new paragraph.",
    )
    booking_enabled = models.BooleanField(
        default=False, help_text="Show bookable slots on the page."
    )
    embed_origins = models.TextField(
        "sites that may embed the form",
        blank=True,
        help_text="One per line, like https://www.example.com (scheme, host and any port).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Public page of {self.owner}"

    @property
    def embed_origin_list(self) -> list[str]:
        """The origins allowed to frame the embeddable form, as stored (validated on save)."""
        return [line.strip() for line in self.embed_origins.splitlines() if line.strip()]


HAND_RAISE_KIND_CHOICES = [
    (ActivityKind.ASKED_FOR_INFO.value, ActivityKind.ASKED_FOR_INFO.label),
    (ActivityKind.BOOKED_MEETING.value, ActivityKind.BOOKED_MEETING.label),
]


class Channel(models.TextChoices):
    PAGE = "page", "Public page"
    EMBED = "embed", "Embedded form"
    BOOKING = "booking", "Booking"


class NotifyStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


class HandRaise(models.Model):
    """One submission or booking that landed: what was sent, with its consent and origin."""

    page = models.ForeignKey(PublicPage, on_delete=models.CASCADE, related_name="hand_raises")
    # The signal on the lead. It moves with its lead when leads are merged and goes when the
    # lead is erased, taking this record (and the visitor's details) with it.
    activity = models.OneToOneField(Activity, on_delete=models.CASCADE, related_name="hand_raise")
    kind = models.CharField(max_length=20, choices=HAND_RAISE_KIND_CHOICES)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.PAGE)
    created_lead = models.BooleanField(
        default=False, help_text="A new lead was created (no lead of the owner had this email)."
    )
    name = models.CharField(max_length=200)
    email = models.EmailField(max_length=254)
    company = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    message = models.TextField(max_length=4000, blank=True)
    consent_text = models.TextField(max_length=2000)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()

    # The email to the salesperson, sent at once: an outbox row (see handraise/notify.py).
    notify_status = models.CharField(
        max_length=10, choices=NotifyStatus.choices, default=NotifyStatus.PENDING
    )
    notify_attempts = models.PositiveSmallIntegerField(default=0)
    notify_next_attempt_at = models.DateTimeField()
    notify_claimed_at = models.DateTimeField(null=True, blank=True)
    notify_sent_at = models.DateTimeField(null=True, blank=True)
    notify_last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["page", "-created_at"], name="handraise_page_time"),
            models.Index(
                fields=["notify_next_attempt_at"],
                condition=Q(notify_status__in=["pending", "sending"]),
                name="handraise_notify_unsent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.name} <{self.email}>"

    @property
    def lead(self) -> Lead:
        """The lead this hand-raise landed on (through its activity: it follows a merge)."""
        return self.activity.lead
