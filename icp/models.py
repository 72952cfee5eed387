from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from leads.models import AuditHistory


class ICP(models.Model):
    """An Ideal Customer Profile: the criteria a lead and its company should meet."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="icps"
    )
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = AuditHistory(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = "ICP"
        verbose_name_plural = "ICPs"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="icp_name_unique_per_owner")
        ]

    def __str__(self) -> str:
        return self.name


class Field(models.TextChoices):
    INDUSTRY = "industry", "Industry"
    EMPLOYEE_COUNT = "employee_count", "Employee count"
    ANNUAL_REVENUE = "annual_revenue", "Annual revenue"
    COUNTRY = "country", "Country"
    REGION = "region", "Region / city"
    TITLE = "title", "Job title"
    SENIORITY = "seniority", "Seniority"
    TAGS = "tags", "Tags"
    SOURCE = "source", "Lead source"


class Operator(models.TextChoices):
    EQUALS = "equals", "equals"
    ONE_OF = "one_of", "is one of"
    RANGE = "range", "is between"
    CONTAINS = "contains", "contains"


NUMERIC_FIELDS = (Field.EMPLOYEE_COUNT, Field.ANNUAL_REVENUE)

# Which operators make sense for which field; anything else is refused with a clear message.
OPERATORS_BY_FIELD: dict[str, tuple[str, ...]] = {
    Field.INDUSTRY: (Operator.EQUALS, Operator.ONE_OF, Operator.CONTAINS),
    Field.EMPLOYEE_COUNT: (Operator.EQUALS, Operator.RANGE),
    Field.ANNUAL_REVENUE: (Operator.EQUALS, Operator.RANGE),
    Field.COUNTRY: (Operator.EQUALS, Operator.ONE_OF),
    Field.REGION: (Operator.EQUALS, Operator.ONE_OF, Operator.CONTAINS),
    Field.TITLE: (Operator.EQUALS, Operator.ONE_OF, Operator.CONTAINS),
    Field.SENIORITY: (Operator.EQUALS, Operator.ONE_OF),
    Field.TAGS: (Operator.CONTAINS, Operator.ONE_OF),
    Field.SOURCE: (Operator.EQUALS, Operator.ONE_OF),
}


class Criterion(models.Model):
    """One test of a lead or company attribute, weighted; a required one is a knock-out.

    `value` holds a string for equals/contains, a list of strings for one_of and
    {"min": n, "max": n} (either may be absent) for range.
    """

    icp = models.ForeignKey(ICP, on_delete=models.CASCADE, related_name="criteria")
    field = models.CharField(max_length=20, choices=Field.choices)
    operator = models.CharField(max_length=10, choices=Operator.choices)
    value = models.JSONField()
    weight = models.PositiveSmallIntegerField(default=10)
    required = models.BooleanField(default=False, help_text="A lead that fails it fits 0.")
    history = AuditHistory()

    class Meta:
        verbose_name_plural = "criteria"
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(weight__gt=0), name="criterion_weight_positive"),
            models.CheckConstraint(
                condition=Q(field__in=Field.values), name="criterion_field_valid"
            ),
            models.CheckConstraint(
                condition=Q(operator__in=Operator.values), name="criterion_operator_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return describe(self.field, self.operator, self.value)

    def clean(self) -> None:
        errors = validate_criterion(self.field, self.operator, self.value, self.weight)
        if errors:
            raise ValidationError(errors)


def validate_criterion(field: str, operator: str, value: object, weight: int | None) -> dict:
    """Field-keyed error messages for a criterion; empty when it is valid."""
    errors: dict[str, str] = {}
    if field not in Field.values:
        errors["field"] = f"Unknown field {field!r}."
        return errors
    allowed = OPERATORS_BY_FIELD[field]
    if operator not in allowed:
        names = ", ".join(f"“{Operator(op).label}”" for op in allowed)
        errors["operator"] = f"{Field(field).label} can be tested with {names} only."
        return errors
    if weight is None or weight <= 0:
        errors["weight"] = "Weight must be greater than 0."
    if operator == Operator.RANGE:
        if not isinstance(value, dict) or not ({"min", "max"} & value.keys()):
            errors["value"] = "A range needs a minimum, a maximum or both."
        else:
            bounds = [value.get("min"), value.get("max")]
            if any(b is not None and not isinstance(b, int | float) for b in bounds):
                errors["value"] = "Range bounds must be numbers."
            elif None not in bounds and bounds[0] > bounds[1]:
                errors["value"] = "The minimum must not be greater than the maximum."
    elif operator == Operator.ONE_OF:
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(v, str) and v.strip() for v in value)
        ):
            errors["value"] = "List at least one value."
    elif field in NUMERIC_FIELDS:
        if not isinstance(value, int | float) or isinstance(value, bool):
            errors["value"] = "Enter a number."
    elif not isinstance(value, str) or not value.strip():
        errors["value"] = "Enter a value."
    return errors


def describe(field: str, operator: str, value: object) -> str:
    """A criterion in words, e.g. 'Employee count is between 50 and 500'."""
    field_label = Field(field).label if field in Field.values else field
    if operator == Operator.RANGE and isinstance(value, dict):
        low, high = value.get("min"), value.get("max")
        if low is not None and high is not None:
            return f"{field_label} is between {low:,} and {high:,}"
        if low is not None:
            return f"{field_label} is at least {low:,}"
        return f"{field_label} is at most {high:,}"
    if operator == Operator.ONE_OF and isinstance(value, list):
        return f"{field_label} is one of {', '.join(map(str, value))}"
    op_label = Operator(operator).label if operator in Operator.values else operator
    return f"{field_label} {op_label} {value}"


class RescoreKind(models.TextChoices):
    LEAD = "lead", "One lead"
    ICP = "icp", "The leads an ICP scores"
    OWNER = "owner", "All of one owner's leads"


class RescoreRequest(models.Model):
    """A rescore asked for and not yet started: the database's record of it, not the broker's.

    Written in the transaction of the edit that asked for it (so it commits or rolls back with
    the edit), one row per target however many edits. The rescore task deletes it when it
    starts; the sweep (`icp.rescoring.rescore_requests_sweep`, every minute) sends again the
    ones still here after a grace period, e.g. because the broker was down when the edit was
    saved. Holds ids only.
    """

    kind = models.CharField(max_length=5, choices=RescoreKind.choices)
    target_id = models.PositiveBigIntegerField()
    # The oldest edit still waiting (or when the sweep last sent it); the sweep's index.
    requested_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "target_id"], name="rescore_request_one_per_target"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=RescoreKind.values), name="rescore_request_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Rescore {self.kind} {self.target_id}"
