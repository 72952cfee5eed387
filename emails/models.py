"""Emails to and from leads: each one logged once per lead and owner, whatever brought it.

An email reaches a lead's timeline by one of three roads (`EmailSource`): sent from LeadHunter,
BCC'd or forwarded to the owner's capture address, or read from a mailbox the owner connected.
The same message can arrive by two roads (BCC'd and seen in the Sent folder): the unique
constraint on (owner, lead, Message-ID) keeps it once, across restarts and concurrent polls.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from leads.models import Activity, Direction, Lead

# Bodies are kept up to this many characters (`Email.body_truncated` says when cut).
BODY_MAX_CHARS = 100_000
# RFC 5322 allows a line of 998 characters; a longer Message-ID is hashed (`emails.parsing`).
MESSAGE_ID_MAX_LENGTH = 998


class EmailSource(models.TextChoices):
    SENT = "sent", "Sent from LeadHunter"
    CAPTURE = "capture", "Capture address (BCC or forward)"
    MAILBOX = "mailbox", "Connected mailbox"


class Email(models.Model):
    """One email on one lead's timeline."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="emails"
    )
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="emails")
    # The timeline touch or signal it became; none for an auto-reply or a bounce.
    activity = models.OneToOneField(
        Activity, on_delete=models.SET_NULL, null=True, blank=True, related_name="email"
    )
    message_id = models.CharField(max_length=MESSAGE_ID_MAX_LENGTH)
    # The conversation: the first Message-ID in References, else In-Reply-To, else its own.
    thread_key = models.CharField(max_length=MESSAGE_ID_MAX_LENGTH)
    direction = models.CharField(max_length=10, choices=Direction.choices)
    source = models.CharField(max_length=10, choices=EmailSource.choices)
    from_address = models.CharField(max_length=320)
    to_addresses = models.JSONField(default=list)
    cc_addresses = models.JSONField(default=list)
    subject = models.CharField(max_length=MESSAGE_ID_MAX_LENGTH, blank=True)
    body_text = models.TextField(blank=True)
    body_truncated = models.BooleanField(default=False)
    attachment_names = models.JSONField(default=list)
    sent_at = models.DateTimeField()
    is_auto_reply = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-sent_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "lead", "message_id"], name="email_once_per_lead"
            ),
        ]
        indexes = [
            models.Index(fields=["lead", "thread_key", "sent_at"], name="email_lead_thread"),
        ]

    def __str__(self) -> str:
        return f"{self.subject or '(no subject)'} · {self.lead}"


# Templates live in their own module; imported here so Django finds their models.
# The capture side's models live in their own module; imported here so Django finds them.
from emails.capture_models import (  # noqa: E402
    CaptureProfile,
    Mailbox,
    MailboxFolder,
    UnmatchedEmail,
)
from emails.templates_models import EmailTemplate, EmailTemplateDefaults  # noqa: E402

__all__ = [
    "CaptureProfile",
    "Email",
    "EmailSource",
    "EmailTemplate",
    "EmailTemplateDefaults",
    "Mailbox",
    "MailboxFolder",
    "UnmatchedEmail",
]
