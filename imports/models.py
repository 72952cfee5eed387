"""Import jobs: one uploaded file on its way from upload through mapping and preview to done."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class ImportFormat(models.TextChoices):
    AUTO = "auto", "Detect automatically"
    LINKEDIN = "linkedin", "LinkedIn connections (Connections.csv)"
    GOOGLE = "google", "Google Contacts (CSV)"
    VCARD = "vcard", "vCard (.vcf)"
    CSV = "csv", "CSV from another CRM or a spreadsheet"


class DuplicatePolicy(models.TextChoices):
    FILL_EMPTY = "fill_empty", "Fill in what existing leads lack (never overwrite)"
    SKIP = "skip", "Leave existing leads alone"


class FirstTouch(models.TextChoices):
    """What the import plans for the leads it creates."""

    NETWORK = "network", "Add to my network pool"
    NEXT_DAY = "next_day", "Plan a first touch for each on the next business day"


# Formats of one's own contacts: they join the network pool unless the person says otherwise.
NETWORK_FORMATS = ("linkedin", "google", "vcard")


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", "Waiting for you to confirm"
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Importing"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ImportJob(models.Model):
    """An import of one file by its owner. The file waits in DATA_DIR/imports/<id> until the
    import is done; the row keeps the counts and the per-row error report afterwards."""

    # A UUID: it names the stored file too, and can't be guessed from another job's id.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="import_jobs"
    )
    filename = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField(default=0)
    format = models.CharField(max_length=10, choices=ImportFormat.choices)
    source = models.CharField(
        max_length=20,
        blank=True,
        help_text="Lead source for rows that name none; blank: by format.",
    )
    # Everyone the import adds is credited to this referral source (a customer's list of
    # introductions, a partner's event attendees); chosen on upload.
    referred_by = models.ForeignKey(
        "referrals.ReferralSource",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    duplicates = models.CharField(
        max_length=10, choices=DuplicatePolicy.choices, default=DuplicatePolicy.FILL_EMPTY
    )
    tags = models.JSONField(default=list, blank=True, help_text="Added to each lead it creates.")
    first_touch = models.CharField(
        max_length=10, choices=FirstTouch.choices, default=FirstTouch.NEXT_DAY
    )
    headers = models.JSONField(default=list, blank=True)
    mapping = models.JSONField(default=list, blank=True, help_text="A target per column.")
    status = models.CharField(
        max_length=10, choices=ImportStatus.choices, default=ImportStatus.UPLOADED
    )
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    skipped_duplicates = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    error_rows = models.JSONField(default=list, blank=True)
    failure = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # Bumped with every progress save; a redelivered task leaves a job with a fresh heartbeat
    # to the worker that is still on it.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ImportStatus.values), name="importjob_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(format__in=ImportFormat.values), name="importjob_format_valid"
            ),
            models.CheckConstraint(
                condition=Q(first_touch__in=FirstTouch.values), name="importjob_first_touch_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="importjob_owner_created"),
            models.Index(fields=["status", "created_at"], name="importjob_status_created"),
        ]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_status_display()})"

    @property
    def is_active(self) -> bool:
        """Queued or running: the page keeps polling."""
        return self.status in (ImportStatus.QUEUED, ImportStatus.RUNNING)

    @property
    def is_finished(self) -> bool:
        return self.status in (ImportStatus.DONE, ImportStatus.FAILED)

    @property
    def into_network_pool(self) -> bool:
        return self.first_touch == FirstTouch.NETWORK

    @property
    def progress_percent(self) -> int:
        if not self.total_rows:
            return 100 if self.is_finished else 0
        return min(100, round(100 * self.processed_rows / self.total_rows))
