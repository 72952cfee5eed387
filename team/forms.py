"""Team page forms: they validate; accounts.services and team.services save."""

from __future__ import annotations

from typing import TypedDict

from django import forms
from django.contrib.auth.validators import UnicodeUsernameValidator

from accounts.forms import grouped_time_zones
from accounts.models import User

ROLE_CHOICES = [("salesperson", "Salesperson"), ("manager", "Sales manager")]


class TeamMemberFields(TypedDict):
    """The keyword arguments of accounts.services.team_member_add that the form fills in."""

    username: str
    email: str
    first_name: str
    last_name: str
    time_zone: str
    is_manager: bool


class TeamMemberAddForm(forms.Form):
    first_name = forms.CharField(label="First name", max_length=150)
    last_name = forms.CharField(label="Last name", max_length=150, required=False)
    username = forms.CharField(
        label="Username",
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        help_text="What they log in with: letters, digits and @ . + - _ only.",
    )
    email = forms.EmailField(
        label="Email",
        required=False,
        help_text="We email them a link to choose their own password. Leave it empty to get a "
        "starting password to hand them instead.",
    )
    role = forms.ChoiceField(label="Role", choices=ROLE_CHOICES, initial="salesperson")
    time_zone = forms.ChoiceField(
        label="Time zone",
        choices=grouped_time_zones,
        initial="UTC",
        help_text="Their follow-ups and 'today' follow it; they can change it in Settings.",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The manager's browser zone is the best first guess for a colleague (app.js).
        self.fields["time_zone"].widget.attrs["data-guess-time-zone"] = (
            "keep" if self.is_bound else ""
        )

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError("Someone on the team already has this username.")
        return username

    def member_fields(self) -> TeamMemberFields:
        data = self.cleaned_data
        return {
            "username": data["username"],
            "email": data["email"],
            "first_name": data["first_name"],
            "last_name": data["last_name"],
            "time_zone": data["time_zone"],
            "is_manager": data["role"] == "manager",
        }


class TouchGoalForm(forms.Form):
    daily_touch_goal = forms.IntegerField(label="Daily touch goal", min_value=1, max_value=500)


class DeactivateForm(forms.Form):
    to_owner = forms.ModelChoiceField(
        label="Give their leads, follow-ups and referral sources to",
        queryset=User.objects.none(),
        empty_label="Choose someone…",
    )

    def __init__(self, *args, targets, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_owner"].queryset = targets
