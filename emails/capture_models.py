"""Capturing emails: the capture address, connected mailboxes and emails nobody matched yet.

Imported by `emails.models` so Django finds them; kept apart from the sending side's models.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q

from emails.models import MESSAGE_ID_MAX_LENGTH
from leads.models import Direction

CAPTURE_TOKEN_BYTES = 6


def new_capture_token() -> str:
    # Lower-case letters and digits only: some mail servers lower-case the local part.
    return secrets.token_hex(CAPTURE_TOKEN_BYTES)


class CaptureProfile(models.Model):
    """A salesperson's personal capture address (crm+<token>@…) and never-log list."""

    owner = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="capture_profile"
    )
    token = models.CharField(max_length=32, unique=True, default=new_capture_token)
    # Addresses (dana@buyer.example) and domains (buyer.example), one per line, lower-case:
    # mail with them is never logged, by the capture address or a connected mailbox.
    never_log = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"Capture address of {self.owner}"


class MailboxKind(models.TextChoices):
    CAPTURE = "capture", "Capture mailbox"
    PERSONAL = "personal", "Connected mailbox"


class Mailbox(models.Model):
    """An IMAP mailbox LeadHunter reads: the install's capture mailbox (configured in the
    environment; no owner, no stored credentials) or a salesperson's own (read-only)."""

    kind = models.CharField(max_length=10, choices=MailboxKind.choices)
    owner = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="mailbox",
    )
    host = models.CharField(max_length=255, blank=True)
    port = models.PositiveIntegerField(default=993)
    use_ssl = models.BooleanField(default=True)
    username = models.CharField(max_length=320, blank=True)
    # Fernet token of the password (EMAIL_CREDENTIALS_KEY); never shown again.
    password_encrypted = models.TextField(blank=True)
    folders = models.JSONField(default=list)
    # The last failure, shown on Settings and the Status page until a poll succeeds.
    last_error = models.CharField(max_length=500, blank=True)
    failures = models.PositiveIntegerField(default=0)
    # Backoff after failures: beat skips the mailbox until then.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind"], condition=Q(kind="capture"), name="mailbox_one_capture"
            ),
            models.CheckConstraint(
                condition=Q(kind="capture", owner__isnull=True)
                | Q(kind="personal", owner__isnull=False),
                name="mailbox_owner_iff_personal",
            ),
        ]

    def __str__(self) -> str:
        return self.get_kind_display() if self.owner_id is None else f"Mailbox of {self.owner}"


class MailboxFolder(models.Model):
    """How far a folder has been read: UIDs up to `last_uid` under `uid_validity` are done."""

    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="folder_states")
    name = models.CharField(max_length=255)
    uid_validity = models.BigIntegerField(default=0)
    last_uid = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["mailbox", "name"], name="mailbox_folder_once")
        ]

    def __str__(self) -> str:
        return f"{self.mailbox} / {self.name}"


class UnmatchedStatus(models.TextChoices):
    PENDING = "pending", "Waiting"
    LOGGED = "logged", "Logged on a lead"
    DISCARDED = "discarded", "Discarded"


class UnmatchedEmail(models.Model):
    """A captured email with a person who is nobody's lead yet: one row per person, so one
    click makes that person a lead (or links them to one) and logs the email there.

    A discarded or logged row stays (its status says so) so that reading the message again,
    e.g. after the mailbox's UIDVALIDITY changed, does not bring it back.
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="unmatched_emails"
    )
    person_address = models.CharField(max_length=320)
    person_name = models.CharField(max_length=200, blank=True)
    status = models.CharField(
        max_length=10, choices=UnmatchedStatus.choices, default=UnmatchedStatus.PENDING
    )
    message_id = models.CharField(max_length=MESSAGE_ID_MAX_LENGTH)
    thread_key = models.CharField(max_length=MESSAGE_ID_MAX_LENGTH, blank=True)
    direction = models.CharField(max_length=10, choices=Direction.choices)
    from_address = models.CharField(max_length=320)
    to_addresses = models.JSONField(default=list)
    cc_addresses = models.JSONField(default=list)
    subject = models.CharField(max_length=MESSAGE_ID_MAX_LENGTH, blank=True)
    body_text = models.TextField(blank=True)
    attachment_names = models.JSONField(default=list)
    sent_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-sent_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "message_id", "person_address"], name="unmatched_once_per_person"
            )
        ]
        indexes = [models.Index(fields=["owner", "status"], name="unmatched_owner_status")]

    def __str__(self) -> str:
        return f"{self.subject or '(no subject)'} · {self.person_address}"
