"""Summary events for changes made many rows at a time, and for erasures.

Per-row changes of leads, ICPs, criteria and referral sources are recorded by
django-simple-history (who, when, every field before and after). A bulk operation recorded that
way would be noise (a nightly rescore touches every lead) or would not be recorded at all (a
bulk UPDATE bypasses save()), and an erasure deletes the per-row history on purpose. Those
leave one AuditEvent each: who, when, what kind, on which model, how many rows, and details
made of ids and field values only, never a person's name, email or notes.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditAction(models.TextChoices):
    BULK_STAGE_CHANGE = "bulk_stage_change", "Bulk stage change"
    BULK_FOLLOW_UP = "bulk_follow_up", "Bulk follow-up"
    BULK_REASSIGN = "bulk_reassign", "Bulk reassign"
    IMPORT = "import", "Import"
    RESCORE = "rescore", "Rescore"
    PERSONAL_DATA_EXPORT = "personal_data_export", "Personal data export"
    ERASE = "erase", "Erasure"
    MERGE = "merge", "Merge"


class AuditEvent(models.Model):
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who did it; empty for the system (a scheduled task).",
    )
    occurred_at = models.DateTimeField(default=timezone.now)
    action = models.CharField(max_length=30, choices=AuditAction.choices)
    target = models.CharField(max_length=100, help_text="The model changed, e.g. leads.Lead.")
    count = models.PositiveIntegerField(default=0, help_text="How many rows it changed.")
    details = models.JSONField(
        default=dict, blank=True, help_text="Ids and field values; never personal data."
    )

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(action__in=AuditAction.values), name="auditevent_action_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["-occurred_at"], name="auditevent_time"),
            models.Index(fields=["action", "-occurred_at"], name="auditevent_action_time"),
        ]

    def __str__(self) -> str:
        """E.g. "lead #123 erased by sam at 2026-11-30 09:00", "40 leads reassigned by …"."""
        who = self.actor.get_username() if self.actor else "the system"
        subject = self.target.rsplit(".", 1)[-1].lower()
        object_id = self.details.get("id") if isinstance(self.details, dict) else None
        what = f"{subject} #{object_id}" if object_id is not None else f"{self.count} × {subject}"
        done = PAST_TENSE.get(self.action, self.action)
        return f"{what} {done} by {who} at {self.occurred_at:%Y-%m-%d %H:%M}"


PAST_TENSE = {
    AuditAction.BULK_STAGE_CHANGE: "moved to another stage",
    AuditAction.BULK_FOLLOW_UP: "given a follow-up",
    AuditAction.BULK_REASSIGN: "reassigned",
    AuditAction.IMPORT: "imported or filled in",
    AuditAction.RESCORE: "rescored",
    AuditAction.PERSONAL_DATA_EXPORT: "exported (personal data)",
    AuditAction.ERASE: "erased",
    AuditAction.MERGE: "merged",
}
