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
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from leads.models import Activity, ActivityKind, Lead

# 32 random bytes, URL-safe: 43 characters, never guessed.
TOKEN_BYTES = 32
INTRO_MAX_LENGTH = 2000


def new_page_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def default_booking_hours() -> list[list[str] | None]:
    """Monday to Friday, 9:00 to 17:00; no weekend."""
    return [["09:00", "17:00"]] * 5 + [None, None]


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
    # Weekly availability, in the owner's own time zone (User.time_zone): for each weekday,
    # Monday first, ["HH:MM", "HH:MM"] or null (not bookable that day). See handraise/slots.py.
    booking_hours = models.JSONField(default=default_booking_hours, blank=True)
    meeting_minutes = models.PositiveSmallIntegerField(
        "meeting length (minutes)",
        default=30,
        validators=[MinValueValidator(10), MaxValueValidator(240)],
    )
    buffer_minutes = models.PositiveSmallIntegerField(
        "buffer between meetings (minutes)",
        default=10,
        validators=[MaxValueValidator(120)],
    )
    booking_days_ahead = models.PositiveSmallIntegerField(
        "how far ahead (days)", default=14, validators=[MinValueValidator(1), MaxValueValidator(90)]
    )
    booking_notice_hours = models.PositiveSmallIntegerField(
        "minimum notice (hours)", default=12, validators=[MaxValueValidator(24 * 14)]
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


def new_cancel_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


class Booking(models.Model):
    """A meeting a visitor booked on the page: one slot of the owner's, held by the database.

    Two visitors racing for one slot: the partial unique constraint lets exactly one insert
    win; a cancelled booking leaves the slot free again. The visitor manages it (sees what was
    stored, cancels, asks for erasure) at an unguessable cancel token.
    """

    page = models.ForeignKey(PublicPage, on_delete=models.CASCADE, related_name="bookings")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bookings"
    )
    # Set in the same transaction as the booking (services.booking_create); it goes with the
    # hand-raise, so erasing the lead erases the booking too.
    hand_raise = models.OneToOneField(
        HandRaise, on_delete=models.CASCADE, related_name="booking", null=True, blank=True
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    visitor_time_zone = models.CharField(max_length=64, default="UTC")
    cancel_token = models.CharField(max_length=64, unique=True, default=new_cancel_token)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    erasure_requested_at = models.DateTimeField(null=True, blank=True)
    # The invite's SEQUENCE (RFC 5546): a cancellation is the same event, one step later.
    sequence = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "starts_at"],
                condition=Q(cancelled_at__isnull=True),
                name="one_booking_per_owner_start",
            ),  # also the index the busy-time and feed reads use
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="booking_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"Booking {self.starts_at:%Y-%m-%d %H:%M} UTC with {self.owner}"

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None


class BookingEmailPurpose(models.TextChoices):
    VISITOR_INVITE = "visitor_invite", "Invite to the visitor"
    OWNER_CANCEL = "owner_cancel", "Cancellation to the salesperson"
    VISITOR_CANCEL = "visitor_cancel", "Cancellation to the visitor"


class BookingEmail(models.Model):
    """An email about a booking, as an outbox row: claimed, sent and settled once (see
    handraise/booking_emails.py). The salesperson's invite rides on the hand-raise email."""

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="emails")
    purpose = models.CharField(max_length=20, choices=BookingEmailPurpose.choices)
    status = models.CharField(
        max_length=10, choices=NotifyStatus.choices, default=NotifyStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["booking", "purpose"], name="one_email_per_purpose"),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "sending"]),
                name="bookingemail_unsent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} · {self.booking_id}"
