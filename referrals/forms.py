"""Forms of the referrals pages: they validate input; the services do the writing."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from referrals.models import AskChannel, AskOutcome, ReferralSource, SourceKind

STRENGTH_CHOICES = [
    (1, "1 — barely know them"),
    (2, "2 — acquaintance"),
    (3, "3 — on good terms"),
    (4, "4 — strong relationship"),
    (5, "5 — would do anything for you"),
]

# Where an ask or outcome form was posted from: the htmx swap target and the no-JS redirect.
# A referred lead's own fields as ReferredLeadForm names them, for `add_service_errors`: its
# first and last name are one "name" field here.
REFERRED_LEAD_FIELDS = {"first_name": "name", "last_name": "name"}

RETURN_TO_CHOICES = [("list", "Referrals page"), ("detail", "Referral source page")]

_source_fields = {field.name: field for field in ReferralSource._meta.get_fields()}


class ReferralSourceFieldsForm(forms.Form):
    strength = forms.TypedChoiceField(
        label="Relationship strength",
        choices=STRENGTH_CHOICES,
        coerce=int,
        initial=3,
    )
    ask_cadence_days = forms.IntegerField(
        label="Ask every (days)",
        min_value=7,
        max_value=730,
        initial=90,
        help_text="How often to ask them for a referral: 7 to 730 days.",
    )
    notes = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What they care about, who they know, how they like to be asked.",
    )


class ReferralSourceCreateForm(ReferralSourceFieldsForm):
    """A partner or friend who sends business (won customers become sources by themselves)."""

    name = forms.CharField(max_length=_source_fields["name"].max_length)
    email = forms.EmailField(required=False)
    kind = forms.ChoiceField(choices=SourceKind.choices, initial=SourceKind.PARTNER)

    field_order = ("name", "email", "kind", "strength", "ask_cadence_days", "notes")


class ReferralSourceUpdateForm(ReferralSourceFieldsForm):
    opted_out = forms.BooleanField(
        label="Opted out of referral asks",
        required=False,
        help_text="They asked not to be asked; they leave “who to ask” for good.",
    )

    field_order = ("strength", "ask_cadence_days", "opted_out", "notes")

    @classmethod
    def for_source(cls, source: ReferralSource) -> ReferralSourceUpdateForm:
        return cls(
            initial={
                "strength": source.strength,
                "ask_cadence_days": source.ask_cadence_days,
                "opted_out": source.opted_out,
                "notes": source.notes,
            }
        )


class ReferralAskForm(forms.Form):
    channel = forms.ChoiceField(
        label="Asked by", choices=AskChannel.choices, initial=AskChannel.EMAIL
    )
    return_to = forms.ChoiceField(
        choices=RETURN_TO_CHOICES, required=False, widget=forms.HiddenInput
    )


class ReferralAskOutcomeForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=[(AskOutcome.DECLINED, "Declined"), (AskOutcome.GAVE, "Gave referrals")]
    )
    referrals_given = forms.IntegerField(min_value=0, max_value=100, required=False)
    return_to = forms.ChoiceField(
        choices=RETURN_TO_CHOICES, required=False, widget=forms.HiddenInput
    )

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("outcome") == AskOutcome.GAVE and not cleaned.get("referrals_given"):
            self.add_error("referrals_given", "How many referrals did they give? At least 1.")
        if cleaned.get("outcome") == AskOutcome.DECLINED:
            cleaned["referrals_given"] = 0
        return cleaned


def return_to(form: forms.Form) -> str:
    """The page a referral ask form came from, even when the form itself is invalid."""
    value = form.data.get("return_to")
    return value if value in dict(RETURN_TO_CHOICES) else "list"


# Rows offered at most on "Add them now", however many referrals an ask gave.
MAX_REFERRED_ROWS = 20


class ReferredLeadForm(forms.Form):
    """One person a source named: enough to add them as a lead, the rest later."""

    name = forms.CharField(max_length=201, required=False)
    email = forms.EmailField(required=False)
    company = forms.CharField(max_length=200, required=False)

    def clean(self) -> dict:
        cleaned = super().clean()
        if not self.errors and not (cleaned.get("name", "").strip() or cleaned.get("email")):
            self.add_error("name", "Give their name or email address.")
        return cleaned


class BaseReferredLeadsFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        if not any(form.has_changed() for form in self.forms):
            raise ValidationError("Fill in at least one person.")

    def people(self) -> list[tuple[int, dict]]:
        """The filled rows as (row index, cleaned data); blank rows are left out."""
        return [
            (row, form.cleaned_data) for row, form in enumerate(self.forms) if form.has_changed()
        ]


def referred_leads_formset(count: int, data=None) -> BaseReferredLeadsFormSet:
    """`count` rows of ReferredLeadForm (at most 20); blank rows are skipped."""
    formset_class = forms.formset_factory(
        ReferredLeadForm,
        formset=BaseReferredLeadsFormSet,
        extra=max(1, min(count, MAX_REFERRED_ROWS)),
        max_num=MAX_REFERRED_ROWS,
        absolute_max=MAX_REFERRED_ROWS,
        validate_max=True,
    )
    return formset_class(data, prefix="person")
