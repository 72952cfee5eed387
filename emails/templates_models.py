"""A salesperson's email templates: subject and body with merge fields, their own to change.

Every salesperson starts with a few good defaults (`emails/templates_defaults.py`), given once:
`EmailTemplateDefaults` records that they were, so a default deleted stays deleted.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

TEMPLATE_NAME_MAX_LENGTH = 100
TEMPLATE_SUBJECT_MAX_LENGTH = 200
TEMPLATE_BODY_MAX_LENGTH = 20_000


class EmailTemplate(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_templates"
    )
    name = models.CharField(max_length=TEMPLATE_NAME_MAX_LENGTH)
    subject = models.CharField(max_length=TEMPLATE_SUBJECT_MAX_LENGTH, blank=True)
    body = models.TextField(max_length=TEMPLATE_BODY_MAX_LENGTH)
    # Which default it started as ("first_touch", …), blank for one the salesperson wrote.
    default_key = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "name"],
                name="email_template_name_once_per_owner",
                violation_error_message="You already have a template with this name.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class EmailTemplateDefaults(models.Model):
    """The defaults were given to this salesperson (once; deleting one does not bring it back)."""

    owner = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_template_defaults"
    )
    given_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Default templates given to {self.owner}"
