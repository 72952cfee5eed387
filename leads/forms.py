from __future__ import annotations

from datetime import datetime, time
from urllib.parse import urlencode

from django import forms
from django.utils import timezone

from leads.models import (
    ActivityKind,
    Company,
    FollowUpKind,
    Grade,
    Lead,
    Outcome,
    Source,
    Stage,
)
from leads.referrers import ReferrerField, referrer_choice_of
from leads.services import NextStep

LOGGABLE_KINDS = [
    (kind.value, kind.label) for kind in ActivityKind if kind not in (ActivityKind.REFERRAL_ASK,)
]


# What the next-step plan is computed from (see lead_next_step).
NEXT_STEP_PARAMS = "kind,outcome,occurred_at,row_id"


class ActivityForm(forms.Form):
    kind = forms.ChoiceField(choices=LOGGABLE_KINDS, initial=ActivityKind.CALL)
    outcome = forms.ChoiceField(choices=Outcome.choices, required=False)
    occurred_at = forms.DateTimeField(
        label="When",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Leave empty for now.",
    )
    text = forms.CharField(label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def watch_next_step(self, *, url: str, target: str) -> ActivityForm:
        """Reload the next-step fields (`target`) from `url` when what is logged changes."""
        for name in ("kind", "outcome", "occurred_at"):
            self.fields[name].widget.attrs.update(
                {
                    "hx-get": url,
                    "hx-trigger": "change",
                    "hx-target": f"#{target}",
                    "hx-swap": "outerHTML",
                    "hx-include": "closest form",
                    # Only what the plan depends on (not the CSRF token) goes in the URL; a
                    # change made while a request is on its way waits for it (no stale plan
                    # arriving last, no aborted request).
                    "hx-params": NEXT_STEP_PARAMS,
                    "hx-sync": "closest form:queue last",
                }
            )
        return self


class SnoozeForm(forms.Form):
    """1 day, 3 days, a week (the preset buttons send `days`) or a day picked (`until`)."""

    days = forms.IntegerField(
        min_value=1,
        max_value=90,
        required=False,
        error_messages={
            "min_value": "Snooze for 1 to 90 days.",
            "max_value": "Snooze for 1 to 90 days.",
        },
    )
    until = forms.DateField(
        label="Snooze until", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not cleaned.get("days") and not cleaned.get("until"):
            self.add_error("until", "Pick the day to snooze it to.")
        return cleaned


# How a touch went, one key each on Today: the activity kind and outcome it logs.
TOUCH_OUTCOMES = {
    "connected": (ActivityKind.CALL, Outcome.CONNECTED),
    "voicemail": (ActivityKind.CALL, Outcome.VOICEMAIL),
    "no_answer": (ActivityKind.CALL, Outcome.NO_ANSWER),
    "emailed": (ActivityKind.EMAIL, Outcome.NONE),
}


class TouchOutcomeForm(forms.Form):
    """Done on a touch follow-up: how it went."""

    outcome = forms.ChoiceField(
        choices=[
            ("connected", "Connected"),
            ("voicemail", "Left voicemail"),
            ("no_answer", "No answer"),
            ("emailed", "Emailed"),
        ],
        error_messages={"required": "Say how it went: connected, voicemail or no answer."},
    )

    def touch(self) -> tuple[str, str]:
        """The activity kind and outcome to log."""
        return TOUCH_OUTCOMES[self.cleaned_data["outcome"]]


class NextStepForm(forms.Form):
    """The follow-up a logged touch leaves: shown (from the cadence) before saving, editable.

    Used with prefix="next" inside an activity form; `planned` says the form showed a plan,
    so an emptied date is an error rather than "let the cadence decide"."""

    planned = forms.BooleanField(required=False, widget=forms.HiddenInput)
    due_date = forms.DateField(
        label="Next follow-up", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    due_time = forms.TimeField(required=False, widget=forms.HiddenInput)
    kind = forms.ChoiceField(label="Next step", choices=FollowUpKind.choices, required=False)
    note = forms.CharField(label="Note for it", max_length=200, required=False)
    # The cadence's plan the fields were filled in from (None: no follow-up planned).
    step: NextStep | None = None

    def __init__(self, *args, user=None, **kwargs):
        kwargs.setdefault("prefix", "next")
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        due_date = cleaned.get("due_date")
        if due_date is None:
            if cleaned.get("planned"):
                self.add_error("due_date", "Pick the next follow-up's day.")
            return cleaned
        zone = self.user.zone if self.user else timezone.get_current_timezone()
        if due_date < timezone.now().astimezone(zone).date():
            self.add_error("due_date", "Pick today or a day ahead.")
            return cleaned
        cleaned["due_at"] = datetime.combine(
            due_date, cleaned.get("due_time") or time(9, 0), tzinfo=zone
        )
        return cleaned

    def next_step(self):
        """The follow-up to leave pending, or None to let the cadence plan it."""
        if "due_at" not in self.cleaned_data:
            return None
        return NextStep(
            kind=self.cleaned_data.get("kind") or FollowUpKind.CUSTOM,
            due_at=self.cleaned_data["due_at"],
            note=self.cleaned_data.get("note", ""),
        )


class FollowUpForm(forms.Form):
    due_date = forms.DateField(label="Due", widget=forms.DateInput(attrs={"type": "date"}))
    due_time = forms.TimeField(
        label="Time",
        required=False,
        initial=time(9, 0),
        widget=forms.TimeInput(attrs={"type": "time"}),
    )
    kind = forms.ChoiceField(choices=FollowUpKind.choices, initial=FollowUpKind.CUSTOM)
    note = forms.CharField(max_length=200, required=False)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        zone = self.user.zone if self.user else timezone.get_current_timezone()
        due_at = datetime.combine(
            cleaned["due_date"], cleaned.get("due_time") or time(9, 0), tzinfo=zone
        )
        if due_at < timezone.now() - timezone.timedelta(days=1):
            self.add_error("due_date", "Pick today or a day ahead.")
        cleaned["due_at"] = due_at
        return cleaned


class StageForm(forms.Form):
    to_stage = forms.ChoiceField(label="Move to", choices=Stage.choices)
    reason = forms.CharField(
        max_length=200, required=False, help_text="Needed when the lead is lost."
    )


class QuickAddLeadForm(forms.Form):
    first_name = forms.CharField(max_length=100, required=False)
    last_name = forms.CharField(max_length=100, required=False)
    email = forms.EmailField(required=False)
    company_name = forms.CharField(label="Company", max_length=200, required=False)
    source = forms.ChoiceField(choices=Source.choices, initial=Source.OWN_NETWORK)
    referred_by = ReferrerField(label="Referred by", required=False)

    def __init__(self, *args, **kwargs):
        # Its own ids: the lead list it sits on has filters named like its fields (source…).
        kwargs.setdefault("auto_id", "quick_%s")
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        if not (cleaned.get("first_name") or cleaned.get("last_name") or cleaned.get("email")):
            # Next to the first field to type in, where the cursor goes, not above the form.
            self.add_error("first_name", "Give the lead a name or an email address.")
        return cleaned


class LeadContactForm(forms.ModelForm):
    # A profile pasted without a scheme ("linkedin.com/in/…") is taken as https.
    linkedin_url = forms.URLField(
        label="LinkedIn URL", max_length=300, required=False, assume_scheme="https"
    )

    class Meta:
        model = Lead
        fields = ["first_name", "last_name", "title", "seniority", "email", "phone", "linkedin_url"]


class LeadDealForm(forms.ModelForm):
    tags = forms.CharField(required=False, help_text="Comma-separated, e.g. fintech, warm.")
    # Not a model field of the form: the pick is made a referral source by the lead service.
    referred_by = ReferrerField(
        label="Referred by",
        required=False,
        help_text="A referral source, customer or lead; clear it to credit nobody.",
    )

    class Meta:
        model = Lead
        fields = [
            "source",
            "source_detail",
            "expected_value",
            "currency",
            "expected_close_date",
            "tags",
            "do_not_contact",
            "notes",
        ]
        widgets = {
            "notes": forms.Textarea(attrs={"rows": 4}),
            "expected_close_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    field_order = ["source", "source_detail", "referred_by"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance and isinstance(self.instance.tags, list):
            self.initial["tags"] = ", ".join(self.instance.tags)
        if self.instance.pk:
            self.initial["referred_by"] = referrer_choice_of(self.instance)
            self.fields["referred_by"].widget.lead_id = self.instance.pk


class LeadReferrerForm(forms.Form):
    """The lead page's "Who referred this?" answer."""

    referred_by = ReferrerField(label="Referred by")

    def __init__(self, *args, lead=None, **kwargs):
        # Its own ids: the Deal card's form on the same page has a "Referred by" too.
        kwargs.setdefault("auto_id", "who_referred_%s")
        super().__init__(*args, **kwargs)
        if lead is not None:
            self.fields["referred_by"].widget.lead_id = lead.pk


class CompanyForm(forms.ModelForm):
    """A company's facts as researched: the ones the ICP criteria read, and how to find it."""

    country = forms.RegexField(
        regex=r"^\s*[A-Za-z]{2}\s*$",
        required=False,
        max_length=2,
        strip=True,
        help_text="Two-letter code, e.g. GB, DE, US.",
        error_messages={"invalid": "Use the two-letter country code, e.g. GB."},
        widget=forms.TextInput(attrs={"size": 3, "autocapitalize": "characters"}),
    )

    class Meta:
        model = Company
        fields = [
            "name",
            "industry",
            "employee_count",
            "annual_revenue",
            "country",
            "region",
            "city",
            "domain",
        ]
        labels = {"employee_count": "Employees", "domain": "Website domain"}
        help_texts = {"industry": "As your ICPs name it, e.g. Software."}
        widgets = {
            "industry": forms.TextInput(attrs={"list": "industry-options"}),
            "employee_count": forms.NumberInput(attrs={"min": 0, "inputmode": "numeric"}),
            "annual_revenue": forms.NumberInput(attrs={"min": 0, "inputmode": "numeric"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The card opens on what is researched: a known company's industry, a new one's name.
        first = "industry" if self.instance.pk else "name"
        self.fields[first].widget.attrs["autofocus"] = True


SORTS = {
    "score": ("-total_score", "Score"),
    "name": ("last_name", "Name"),
    "created": ("-created_at", "Newest"),
    "follow_up": ("next_follow_up_at", "Next follow-up"),
    "value": ("-expected_value", "Value"),
}


class LeadFilterForm(forms.Form):
    q = forms.CharField(
        label="Search",
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name, email or company"}),
    )
    stage = forms.ChoiceField(choices=[("", "Any stage"), *Stage.choices], required=False)
    source = forms.ChoiceField(choices=[("", "Any source"), *Source.choices], required=False)
    grade = forms.ChoiceField(choices=[("", "Any grade"), *Grade.choices], required=False)
    owner = forms.TypedChoiceField(coerce=int, choices=[], required=False, empty_value=None)
    follow_up = forms.ChoiceField(
        label="Follow-up",
        choices=[
            ("", "Any"),
            ("yes", "Has a follow-up"),
            ("no", "No follow-up"),
            ("overdue", "Overdue"),
            ("network", "In my network pool"),
        ],
        required=False,
    )
    cold = forms.BooleanField(label="Going cold", required=False)
    sort = forms.ChoiceField(
        choices=[(key, label) for key, (_, label) in SORTS.items()], required=False
    )
    after = forms.CharField(required=False, widget=forms.HiddenInput)
    before = forms.CharField(required=False, widget=forms.HiddenInput)

    # The fields whose HTML depends only on what was typed or picked in them (fixed choices):
    # the lead list caches their HTML by these values (`fields_key`).
    FIXED_FIELDS = ("q", "stage", "source", "grade", "follow_up", "cold")

    def __init__(self, *args, owners=None, **kwargs):
        super().__init__(*args, **kwargs)
        if owners is None:
            del self.fields["owner"]
        else:
            self.fields["owner"].choices = [
                ("", "Anyone"),
                *[(user.pk, str(user)) for user in owners],
            ]

    @property
    def fields_key(self) -> str:
        """The submitted values of FIXED_FIELDS, whole and unambiguous (URL-encoded pairs):
        equal keys draw equal HTML, errors included, since those fields' choices are fixed."""
        if not self.is_bound:
            return "blank"
        pairs = [
            (
                name,
                self.data.getlist(name) if hasattr(self.data, "getlist") else self.data.get(name),
            )
            for name in self.FIXED_FIELDS
        ]
        return urlencode(pairs, doseq=True)


class BulkActionForm(forms.Form):
    """The action for the selected rows; the rows themselves come as `lead_ids` and are
    looked up through the user's visible leads, so foreign ids are simply ignored."""

    ACTIONS = [("stage", "Change stage"), ("follow_up", "Add follow-up")]
    action = forms.ChoiceField(choices=ACTIONS)
    to_stage = forms.ChoiceField(label="Stage", choices=Stage.choices, required=False)
    due_date = forms.DateField(
        label="Follow-up on", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("action") == "follow_up" and not cleaned.get("due_date"):
            self.add_error("due_date", "Pick the follow-up's date.")
        if cleaned.get("action") == "stage" and not cleaned.get("to_stage"):
            self.add_error("to_stage", "Pick the stage.")
        return cleaned


# --- Merging -------------------------------------------------------------------------------


class MergeSearchForm(forms.Form):
    q = forms.CharField(
        label="Find the other lead",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name, email or company"}),
    )


class LeadMergeForm(forms.Form):
    """Whose value to keep, for each field on which the two leads disagree (the rows of
    `MergePreview.choices`); the kept lead's value unless the salesperson picks otherwise."""

    def __init__(self, *args, rows=(), **kwargs):
        super().__init__(*args, **kwargs)
        for row in rows:
            choices = [("survivor", row.survivor), ("duplicate", row.duplicate)]
            if row.combinable:
                choices.append(("both", "Keep both"))
            self.fields[row.name] = forms.ChoiceField(
                label=row.label,
                choices=choices,
                initial="survivor",
                widget=forms.RadioSelect,
                error_messages={"required": "Choose which value to keep."},
            )
