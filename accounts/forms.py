"""The settings form: it validates; accounts.services saves."""

from __future__ import annotations

from collections import defaultdict

from django import forms
from django.contrib.auth.forms import BaseUserCreationForm
from django.core.exceptions import ValidationError

from accounts.models import TIME_ZONE_CHOICES, User

# The lost-reason dialog lists them all; a reason goes into the 200-character stage-change reason
# together with the salesperson's own words.
MAX_LOST_REASONS = 15
MAX_LOST_REASON_LENGTH = 60

# Zones are grouped by region in the select, so "Berlin" is found under Europe.
_REGIONS = (
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)


def grouped_time_zones() -> list[tuple[str, object]]:
    groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for name, label in TIME_ZONE_CHOICES:
        region, _, place = name.partition("/")
        if name == "UTC":
            continue
        if region in _REGIONS and place:
            groups[region].append((name, label))
        else:
            groups["Other"].append((name, label))
    return [("UTC", "UTC"), *((region, groups[region]) for region in (*_REGIONS, "Other"))]


def _model_field(name: str):
    return User._meta.get_field(name)


class UserSettingsForm(forms.Form):
    time_zone = forms.ChoiceField(
        label="Time zone",
        choices=grouped_time_zones,
        help_text=_model_field("time_zone").help_text,
    )
    daily_touch_goal = forms.IntegerField(
        label="Daily touch goal",
        min_value=1,
        max_value=500,
        help_text=_model_field("daily_touch_goal").help_text,
    )
    reconnects_per_day = forms.IntegerField(
        label="Reconnects per day",
        min_value=1,
        max_value=100,
        help_text=_model_field("reconnects_per_day").help_text,
    )
    weekly_referral_email = forms.BooleanField(
        label="Weekly referral-ask email",
        required=False,
        help_text=_model_field("weekly_referral_email").help_text,
    )
    daily_digest_email = forms.BooleanField(
        label="Daily follow-up digest",
        required=False,
        help_text=_model_field("daily_digest_email").help_text,
    )

    lost_reasons = forms.CharField(
        label="Lost reasons",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="One a line. Offered when you mark a lead lost; you can always type another.",
    )

    @classmethod
    def for_user(cls, user: User) -> UserSettingsForm:
        initial = {name: getattr(user, name) for name in cls.base_fields}
        initial["lost_reasons"] = "\n".join(user.lost_reasons or [])
        return cls(initial=initial)

    def clean_lost_reasons(self) -> list[str]:
        reasons: list[str] = []
        for line in self.cleaned_data["lost_reasons"].splitlines():
            reason = " ".join(line.split())
            if reason and reason.casefold() not in {known.casefold() for known in reasons}:
                reasons.append(reason)
        if len(reasons) > MAX_LOST_REASONS:
            raise ValidationError(f"Keep it to {MAX_LOST_REASONS} reasons; you can type others.")
        too_long = [reason for reason in reasons if len(reason) > MAX_LOST_REASON_LENGTH]
        if too_long:
            raise ValidationError(
                f"Keep each reason under {MAX_LOST_REASON_LENGTH} characters: “{too_long[0][:40]}…”"
            )
        return reasons


class FirstAccountForm(BaseUserCreationForm):
    """The first account of a fresh database: username, email, password twice (checked by
    AUTH_PASSWORD_VALIDATORS, against the name and email too) and time zone. It only
    validates; accounts.services.first_account_create saves."""

    time_zone = forms.ChoiceField(
        label="Time zone",
        choices=grouped_time_zones,
        initial="UTC",
        help_text=_model_field("time_zone").help_text,
    )

    class Meta(BaseUserCreationForm.Meta):
        model = User
        fields = ("first_name", "last_name", "username", "email", "time_zone")
        labels = {"first_name": "First name", "last_name": "Last name", "email": "Email"}
        help_texts = {
            "username": "What you log in with: letters, digits and @ . + - _ only.",
            "email": "For password resets and your reminder emails.",
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].required = True
        # One line instead of Django's bulleted list of the validators' rules.
        self.fields["password1"].help_text = (
            "At least 12 characters; not a common password, not only digits, not like your "
            "name or email."
        )
        self.fields["password2"].label = "Password again"
        self.fields["password2"].help_text = ""
        self.fields["username"].widget.attrs["autofocus"] = True
        # The browser's own zone, unless the form came back with one chosen (app.js).
        self.fields["time_zone"].widget.attrs["data-guess-time-zone"] = (
            "keep" if self.is_bound else ""
        )

    def validate_password_for_user(self, user, **kwargs) -> None:
        # The validators' rules are about the password: their errors go under it, not under
        # "Password again" (which keeps "didn't match").
        super().validate_password_for_user(user, password_field_name="password1")  # noqa: S106

    def full_clean(self) -> None:
        super().full_clean()
        if self.errors:  # the focus goes to the first field to fix, not back to the top
            first = next((name for name in self.fields if name in self.errors), "username")
            self.fields["username"].widget.attrs.pop("autofocus", None)
            self.fields[first].widget.attrs["autofocus"] = True

    def account_fields(self) -> dict[str, str]:
        """What first_account_create takes, from the cleaned form."""
        data = self.cleaned_data
        return {
            "username": data["username"],
            "password": data["password1"],
            "email": data["email"],
            "first_name": data["first_name"],
            "last_name": data["last_name"],
            "time_zone": data["time_zone"],
        }
