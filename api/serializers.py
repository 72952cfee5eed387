"""What the API accepts and returns. Serializers only validate and shape data: the views pass
what they validated to the services, which do every write.

Fields a client may not set (owner, scores, denormalised dates) are read-only here, so a client
that posts them is ignored rather than refused: a record read from the API can be sent back.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.db.models import Model, QuerySet
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User
from icp.models import ICP, Criterion
from icp.selectors import icps_visible_to
from leads.models import (
    Activity,
    ActivityKind,
    Company,
    FollowUp,
    FollowUpKind,
    FollowUpResolution,
    Grade,
    Lead,
    Source,
    Stage,
)
from leads.selectors import companies_visible_to, leads_visible_to
from referrals.models import AskOutcome, ReferralAsk, ReferralSource
from referrals.selectors import referral_sources_visible_to

# An activity or ask may be logged a little ahead (time zones), not planned: that's a follow-up.
FUTURE_TOLERANCE = timedelta(days=1)
MAX_ID = 2**63 - 1
MAX_TEXT = 10_000
MAX_WEIGHT = 32_767  # the column is a small integer


class VisibleRelatedField(serializers.PrimaryKeyRelatedField):
    """The id of a record the requesting user may see. Another owner's id reads exactly like a
    missing one, so the answer gives nothing away."""

    def __init__(self, *, visible_to: Callable[[User], QuerySet], noun: str, **kwargs) -> None:
        self.visible_to = visible_to
        super().__init__(**kwargs)
        self.error_messages["does_not_exist"] = f"No {noun} with id {{pk_value}}."
        self.error_messages["incorrect_type"] = f"Give the {noun}'s id as a number."

    def get_queryset(self) -> QuerySet:
        return self.visible_to(self.context["request"].user)

    def to_internal_value(self, data: object) -> Model:
        if isinstance(data, int) and not isinstance(data, bool) and not 0 < data <= MAX_ID:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


def _not_ahead(moment, *, what: str):
    if moment is not None and moment > timezone.now() + FUTURE_TOLERANCE:
        raise serializers.ValidationError(f"{what} can't be dated more than a day ahead.")
    return moment


class ErrorSerializer(serializers.Serializer):
    """The body of every 4xx answer."""

    error = serializers.CharField(help_text="What went wrong, in one sentence.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages by field, for invalid input (dotted paths for nested values).",
    )


# --- Leads ---------------------------------------------------------------------------------


class LeadSerializer(serializers.ModelSerializer):
    company = VisibleRelatedField(
        queryset=Company.objects.all(),
        visible_to=companies_visible_to,
        noun="company",
        required=False,
        allow_null=True,
        help_text="The id of one of your companies.",
    )
    company_name = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text=(
            "The company's name. Written without `company`, your company of this name is "
            "found, or created; an empty name leaves the lead without a company."
        ),
    )
    referred_by = VisibleRelatedField(
        queryset=ReferralSource.objects.all(),
        visible_to=referral_sources_visible_to,
        noun="referral source",
        required=False,
        allow_null=True,
        help_text="The id of the referral source credited for this lead.",
    )
    tags = serializers.ListField(
        child=serializers.CharField(max_length=50), max_length=50, required=False
    )
    stage = serializers.ChoiceField(
        choices=Stage.choices,
        required=False,
        help_text="On create, the starting stage (default new). On update, a move to another "
        "stage, recorded in the stage history; moving to lost needs `stage_reason`.",
    )
    stage_reason = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="Why the stage changes; required when moving to lost.",
    )
    full_name = serializers.CharField(read_only=True)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=MAX_TEXT)
    page_url = serializers.SerializerMethodField(help_text="The lead's page in the app.")

    class Meta:
        model = Lead
        fields = [
            "id",
            "owner",
            "full_name",
            "first_name",
            "last_name",
            "title",
            "seniority",
            "email",
            "phone",
            "linkedin_url",
            "company",
            "company_name",
            "stage",
            "stage_reason",
            "stage_changed_at",
            "lost_reason",
            "won_at",
            "source",
            "source_detail",
            "referred_by",
            "expected_value",
            "currency",
            "expected_close_date",
            "do_not_contact",
            "tags",
            "notes",
            "fit_score",
            "intent_score",
            "total_score",
            "grade",
            "best_icp",
            "scored_at",
            "next_follow_up_at",
            "last_contacted_at",
            "last_inbound_at",
            "created_at",
            "updated_at",
            "page_url",
        ]
        read_only_fields = [
            "owner",
            "stage_changed_at",
            "lost_reason",
            "won_at",
            "fit_score",
            "intent_score",
            "total_score",
            "grade",
            "best_icp",
            "scored_at",
            "next_follow_up_at",
            "last_contacted_at",
            "last_inbound_at",
            "created_at",
            "updated_at",
        ]
        # The services check uniqueness (same email or LinkedIn profile) with their own words.
        validators: list = []

    def to_representation(self, lead: Lead) -> dict:
        data = super().to_representation(lead)
        data["company_name"] = lead.company.name if lead.company_id else ""
        return data

    @extend_schema_field(OpenApiTypes.URI)
    def get_page_url(self, lead: Lead) -> str:
        path = reverse("lead-detail", args=[lead.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class LeadFilterSerializer(serializers.Serializer):
    """The lead list's query parameters."""

    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="Words to find in the name, email or company name.",
    )
    stage = serializers.ChoiceField(choices=Stage.choices, required=False)
    source = serializers.ChoiceField(choices=Source.choices, required=False)
    grade = serializers.ChoiceField(choices=Grade.choices, required=False)
    follow_up = serializers.ChoiceField(
        choices=[("yes", "Has one"), ("no", "Has none"), ("overdue", "Overdue")],
        required=False,
        help_text="Whether the lead has a next follow-up planned.",
    )
    cold = serializers.BooleanField(
        required=False, default=False, help_text="Only leads going cold in their stage."
    )
    owner = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text="Managers: only this salesperson's leads.",
    )


class StageMoveSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=Stage.choices)
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="Why; required when moving to lost.",
    )


class BestIcpSerializer(serializers.ModelSerializer):
    class Meta:
        model = ICP
        fields = ["id", "name"]


class ScoreSignalSerializer(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()
    at = serializers.DateTimeField()
    points = serializers.FloatField(help_text="Points after decay.")


class ScoreExplanationSerializer(serializers.Serializer):
    """Why the lead scores what it does (empty until the lead is first scored)."""

    icp = serializers.CharField(
        required=False, allow_null=True, help_text="The ICP the lead fits best."
    )
    icp_id = serializers.IntegerField(required=False, allow_null=True)
    fit = serializers.IntegerField(required=False)
    matched = serializers.ListField(child=serializers.CharField(), required=False)
    unmatched = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="Criteria the lead's data does not meet (those it can't tell are in unknown).",
    )
    unknown = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="Criteria the lead's data can't tell: worth researching.",
    )
    knocked_out_by = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="Required criteria the lead fails; any one makes the fit 0.",
    )
    note = serializers.CharField(required=False, allow_null=True)
    signals = ScoreSignalSerializer(many=True, required=False)
    intent = serializers.IntegerField(required=False)
    referral_bonus = serializers.IntegerField(required=False)
    total = serializers.IntegerField(required=False)
    grade = serializers.CharField(required=False)
    half_life_days = serializers.FloatField(required=False)

    def to_representation(self, explanation: dict) -> dict:
        # Only what the scoring wrote: a lead never scored has an empty explanation.
        data = super().to_representation(explanation)
        return {name: value for name, value in data.items() if name in explanation}


class LeadScoreSerializer(serializers.ModelSerializer):
    lead = serializers.IntegerField(source="pk", read_only=True)
    best_icp = BestIcpSerializer(read_only=True, allow_null=True)
    explanation = ScoreExplanationSerializer(source="score_explanation", read_only=True)

    class Meta:
        model = Lead
        fields = [
            "lead",
            "fit_score",
            "intent_score",
            "total_score",
            "grade",
            "best_icp",
            "scored_at",
            "explanation",
        ]
        read_only_fields = fields


# --- Activities ----------------------------------------------------------------------------


# Every activity kind but a referral ask: what a client may log through /api/v1/activities/.
LOGGABLE_ACTIVITY_KINDS = [
    (kind, label) for kind, label in ActivityKind.choices if kind != ActivityKind.REFERRAL_ASK
]


class ActivityKindField(serializers.ChoiceField):
    """The kinds a client may log here: every kind but a referral ask, which is recorded on
    its referral source (and told so, rather than "not a valid choice")."""

    def __init__(self, **kwargs):
        super().__init__(choices=LOGGABLE_ACTIVITY_KINDS, **kwargs)

    def to_internal_value(self, data):
        if data == ActivityKind.REFERRAL_ASK:
            raise serializers.ValidationError(
                "Record a referral ask on its referral source: "
                "POST /api/v1/referral-sources/{id}/asks/."
            )
        return super().to_internal_value(data)


class ActivitySerializer(serializers.ModelSerializer):
    lead = VisibleRelatedField(
        queryset=Lead.objects.all(), visible_to=leads_visible_to, noun="lead"
    )
    kind = ActivityKindField()
    direction = serializers.ChoiceField(
        choices=Activity._meta.get_field("direction").choices,
        required=False,
        help_text="Defaults to inbound for hand-raise signals, outbound for touches.",
    )
    occurred_at = serializers.DateTimeField(required=False, help_text="Defaults to now.")
    text = serializers.CharField(required=False, allow_blank=True, max_length=MAX_TEXT)

    class Meta:
        model = Activity
        fields = ["id", "lead", "user", "kind", "direction", "outcome", "occurred_at", "text"]
        read_only_fields = ["user"]

    def validate_occurred_at(self, occurred_at):
        return _not_ahead(occurred_at, what="An activity")


class ActivityFilterSerializer(serializers.Serializer):
    lead = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Only this lead's activities."
    )
    kind = serializers.ChoiceField(choices=ActivityKind.choices, required=False)


# --- Follow-ups ----------------------------------------------------------------------------


class FollowUpSerializer(serializers.ModelSerializer):
    lead = VisibleRelatedField(
        queryset=Lead.objects.all(), visible_to=leads_visible_to, noun="lead"
    )
    lead_name = serializers.CharField(source="lead.full_name", read_only=True)
    kind = serializers.ChoiceField(choices=FollowUpKind.choices, default=FollowUpKind.CUSTOM)
    resolution = serializers.ChoiceField(
        choices=FollowUpResolution.choices,
        allow_blank=True,
        read_only=True,
        help_text="How it ended; empty while pending.",
    )

    class Meta:
        model = FollowUp
        fields = [
            "id",
            "lead",
            "lead_name",
            "kind",
            "due_at",
            "note",
            "rule",
            "created_by",
            "done_at",
            "resolution",
            "snooze_count",
            "created_at",
        ]
        read_only_fields = [
            "rule",
            "created_by",
            "done_at",
            "resolution",
            "snooze_count",
            "created_at",
        ]

    def validate_due_at(self, due_at):
        if due_at < timezone.now() - timedelta(days=1):
            raise serializers.ValidationError("Pick today or a day ahead.")
        return due_at


class FollowUpFilterSerializer(serializers.Serializer):
    lead = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Only this lead's follow-up."
    )
    due_before = serializers.DateTimeField(
        required=False, help_text="Only follow-ups due before this time (overdue included)."
    )


class FollowUpCompletedSerializer(serializers.Serializer):
    completed = FollowUpSerializer(help_text="The follow-up, now done.")
    next = FollowUpSerializer(
        allow_null=True, help_text="The lead's next follow-up by the cadence, if any."
    )


class SnoozeSerializer(serializers.Serializer):
    days = serializers.IntegerField(min_value=1, max_value=90, default=3)


# --- Referrals -----------------------------------------------------------------------------


class ReferralSourceSerializer(serializers.ModelSerializer):
    lead = VisibleRelatedField(
        queryset=Lead.objects.all(),
        visible_to=leads_visible_to,
        noun="lead",
        required=False,
        allow_null=True,
        help_text="The customer's own lead, when the source is a customer.",
    )
    strength = serializers.IntegerField(min_value=1, max_value=5, default=3)
    ask_cadence_days = serializers.IntegerField(min_value=7, max_value=730, default=90)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=MAX_TEXT)

    class Meta:
        model = ReferralSource
        fields = [
            "id",
            "owner",
            "name",
            "email",
            "kind",
            "lead",
            "strength",
            "ask_cadence_days",
            "last_asked_at",
            "next_ask_at",
            "opted_out",
            "notes",
            "created_at",
        ]
        read_only_fields = ["owner", "last_asked_at", "next_ask_at", "created_at"]
        validators: list = []


class ReferralSourceUpdateSerializer(ReferralSourceSerializer):
    """Changing a source; which lead it is stays as created."""

    lead = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    strength = serializers.IntegerField(min_value=1, max_value=5, required=False)
    ask_cadence_days = serializers.IntegerField(min_value=7, max_value=730, required=False)


class ReferralSourceFilterSerializer(serializers.Serializer):
    opted_out = serializers.BooleanField(required=False, allow_null=True, default=None)


class ReferralAskSerializer(serializers.ModelSerializer):
    asked_at = serializers.DateTimeField(required=False, help_text="Defaults to now.")

    class Meta:
        model = ReferralAsk
        fields = [
            "id",
            "source",
            "asked_by",
            "asked_at",
            "channel",
            "outcome",
            "referrals_given",
            "note",
        ]
        read_only_fields = ["source", "asked_by", "outcome", "referrals_given"]

    def validate_asked_at(self, asked_at):
        return _not_ahead(asked_at, what="An ask")


class ReferralAskFilterSerializer(serializers.Serializer):
    source = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Only this source's asks."
    )


class AskOutcomeSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=AskOutcome.choices)
    referrals_given = serializers.IntegerField(
        min_value=0, max_value=1000, default=0, help_text="How many; at least 1 when they gave."
    )


# --- ICPs ----------------------------------------------------------------------------------


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "maxLength": 200, "description": "equals / contains: one text"},
            {"type": "number", "description": "equals on a numeric field"},
            {
                "type": "array",
                "items": {"type": "string", "maxLength": 200},
                "maxItems": 100,
                "description": "one_of: the accepted texts",
            },
            {
                "type": "object",
                "properties": {
                    "min": {"type": "number", "nullable": True},
                    "max": {"type": "number", "nullable": True},
                },
                "additionalProperties": False,
                "description": "range: a minimum, a maximum or both",
            },
        ]
    }
)
class CriterionValueField(serializers.JSONField):
    """A criterion's value: a text, a number, a list of texts or a {min, max} range. Which one
    fits which operator is the model's rule; this only refuses other shapes."""

    def to_internal_value(self, data: object) -> object:
        value = super().to_internal_value(data)
        if isinstance(value, str):
            self._check_text(value)
        elif isinstance(value, list):
            if len(value) > 100 or not all(isinstance(item, str) for item in value):
                self.fail_with("List up to 100 texts.")
            for item in value:
                self._check_text(item)
        elif isinstance(value, dict):
            if not value.keys() <= {"min", "max"} or not all(
                bound is None or (isinstance(bound, int | float) and not isinstance(bound, bool))
                for bound in value.values()
            ):
                self.fail_with('A range is {"min": number, "max": number}.')
        elif isinstance(value, bool) or not isinstance(value, int | float):
            self.fail_with("Give a text, a number, a list of texts or a {min, max} range.")
        return value

    def _check_text(self, text: str) -> None:
        if "\x00" in text or len(text) > 200:
            self.fail_with("Texts are up to 200 characters, without null characters.")

    @staticmethod
    def fail_with(message: str) -> None:
        raise serializers.ValidationError(message)


class CriterionSerializer(serializers.ModelSerializer):
    icp = VisibleRelatedField(queryset=ICP.objects.all(), visible_to=icps_visible_to, noun="ICP")
    value = CriterionValueField()
    weight = serializers.IntegerField(min_value=1, max_value=MAX_WEIGHT, default=10)
    label = serializers.CharField(read_only=True, help_text="The criterion in words.")

    class Meta:
        model = Criterion
        fields = ["id", "icp", "field", "operator", "value", "weight", "required", "label"]


class CriterionUpdateSerializer(CriterionSerializer):
    """Changing a criterion; the ICP it belongs to stays."""

    icp = serializers.PrimaryKeyRelatedField(read_only=True)
    value = CriterionValueField(required=False)
    weight = serializers.IntegerField(min_value=1, max_value=MAX_WEIGHT, required=False)


class CriterionFilterSerializer(serializers.Serializer):
    icp = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Only this ICP's criteria."
    )


class IcpSerializer(serializers.ModelSerializer):
    criteria = CriterionSerializer(many=True, read_only=True)
    description = serializers.CharField(required=False, allow_blank=True, max_length=MAX_TEXT)

    class Meta:
        model = ICP
        fields = [
            "id",
            "owner",
            "name",
            "description",
            "is_active",
            "criteria",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["owner", "created_at", "updated_at"]
        validators: list = []
