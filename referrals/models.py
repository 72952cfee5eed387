from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from leads.models import AuditHistory


class SourceKind(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    PARTNER = "partner", "Partner"
    FRIEND = "friend", "Friend / contact"


class ReferralSource(models.Model):
    """Someone who refers leads: usually a won customer, or a partner or friend."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="referral_sources"
    )
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    kind = models.CharField(max_length=10, choices=SourceKind.choices, default=SourceKind.CUSTOMER)
    lead = models.OneToOneField(
        "leads.Lead",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="as_referral_source",
        help_text="The customer's own lead, when the source is a won customer.",
    )
    strength = models.PositiveSmallIntegerField(
        "relationship strength",
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text="1 = barely know them, 5 = would do anything for you.",
    )
    ask_cadence_days = models.PositiveSmallIntegerField(
        default=90, validators=[MinValueValidator(7), MaxValueValidator(730)]
    )
    last_asked_at = models.DateTimeField(null=True, blank=True)
    next_ask_at = models.DateTimeField(
        null=True, blank=True, help_text="When asking again is due; kept by the services."
    )
    opted_out = models.BooleanField("opted out of asks", default=False)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # When to ask is bookkeeping kept by the asks (which are their own record), not an edit.
    history = AuditHistory(excluded_fields=["last_asked_at", "next_ask_at"])

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(strength__gte=1) & Q(strength__lte=5), name="referral_strength_1_to_5"
            ),
        ]
        indexes = [models.Index(fields=["owner", "next_ask_at"], name="referralsource_owner_due")]

    def __str__(self) -> str:
        return self.name


class AskChannel(models.TextChoices):
    EMAIL = "email", "Email"
    CALL = "call", "Call"
    MEETING = "meeting", "Meeting"
    LINKEDIN = "linkedin", "LinkedIn"
    IN_PERSON = "in_person", "In person"


class AskOutcome(models.TextChoices):
    PENDING = "pending", "Waiting for an answer"
    DECLINED = "declined", "Declined"
    GAVE = "gave", "Gave referrals"


class ReferralAsk(models.Model):
    source = models.ForeignKey(ReferralSource, on_delete=models.CASCADE, related_name="asks")
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    asked_at = models.DateTimeField()
    channel = models.CharField(max_length=10, choices=AskChannel.choices, default=AskChannel.EMAIL)
    outcome = models.CharField(
        max_length=10, choices=AskOutcome.choices, default=AskOutcome.PENDING
    )
    referrals_given = models.PositiveSmallIntegerField(default=0)
    note = models.CharField(max_length=300, blank=True)
    # Set when the ask was logged from a signed email link, so a second click logs nothing.
    link_key = models.CharField(max_length=64, null=True, blank=True, unique=True)

    class Meta:
        ordering = ["-asked_at", "-id"]
        indexes = [models.Index(fields=["source", "-asked_at"], name="referralask_source_time")]

    def __str__(self) -> str:
        return f"Ask {self.source} ({self.get_outcome_display()})"
