"""The visitor's "tell me what you need" form and the salesperson's page settings."""

from __future__ import annotations

import time
import zoneinfo
from typing import Any

from django import forms
from django.core import signing

from handraise.models import INTRO_MAX_LENGTH, PublicPage
from handraise.slots import WEEKDAYS

NAME_MAX_LENGTH = 200
COMPANY_MAX_LENGTH = 200
MESSAGE_MAX_LENGTH = 4000
PHONE_MAX_LENGTH = 32
EMBED_ORIGINS_MAX_LENGTH = 4000
_STARTED_SALT = "handraise.form-started"
# The zones a visitor may see the slots in (the browser's own is one of these).
VISITOR_ZONES = frozenset(zoneinfo.available_timezones())


def form_started_stamp(page_token: str, *, now: float | None = None) -> str:
    """A signed value the form carries: which page handed it out, and when."""
    started = time.time() if now is None else now
    return signing.dumps({"page": page_token, "at": started}, salt=_STARTED_SALT)


def form_started_age(stamp: str, page_token: str, *, max_age: int) -> float | None:
    """Seconds since the form was handed out, or None if the stamp is forged, of another page
    or older than `max_age`."""
    try:
        started = signing.loads(stamp, salt=_STARTED_SALT, max_age=max_age)
    except signing.BadSignature:
        return None
    if not isinstance(started, dict) or started.get("page") != page_token:
        return None
    return max(0.0, time.time() - float(started.get("at", 0)))


class VisitorForm(forms.Form):
    """What every public form asks of a visitor besides its own fields: consent to the text the
    salesperson's page shows, a honeypot and the signed time the form was shown (fill time).
    Subclasses declare name, email and company."""

    consent = forms.BooleanField(required=True)
    # The honeypot: hidden from people (off-screen, out of the tab order), filled by bots.
    website = forms.CharField(
        label="Leave this empty",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )
    started = forms.CharField(widget=forms.HiddenInput, max_length=200)

    def __init__(self, *args: object, consent_text: str, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["consent"].label = consent_text
        self.fields["name"].widget.attrs["autocomplete"] = "name"
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        self.fields["company"].widget.attrs["autocomplete"] = "organization"


class HandRaiseForm(VisitorForm):
    name = forms.CharField(label="Your name", max_length=NAME_MAX_LENGTH)
    email = forms.EmailField(label="Email", max_length=254)
    company = forms.CharField(label="Company", max_length=COMPANY_MAX_LENGTH)
    phone = forms.CharField(label="Phone (optional)", max_length=PHONE_MAX_LENGTH, required=False)
    message = forms.CharField(
        label="What do you need?",
        max_length=MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
    )

    def __init__(self, *args: object, consent_text: str, **kwargs: object) -> None:
        super().__init__(*args, consent_text=consent_text, **kwargs)
        self.fields["phone"].widget.attrs["autocomplete"] = "tel"
        self.fields["phone"].widget.input_type = "tel"


class PublicPageForm(forms.Form):
    intro = forms.CharField(
        label="What visitors read",
        max_length=INTRO_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Plain text: who you are and how you help. Blank lines start a paragraph.",
    )
    embed_origins = forms.CharField(
        label="Sites that may embed your form",
        max_length=EMBED_ORIGINS_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line, like https://www.example.com. Other sites can't show it.",
    )


class BookingSettingsForm(forms.Form):
    """When the salesperson can be booked: per weekday a start and an end (both blank: not
    that day), in their own time zone, and the rules every slot follows."""

    booking_enabled = forms.BooleanField(
        label="Let visitors book a meeting on my page", required=False
    )
    meeting_minutes = forms.IntegerField(
        label="Meeting length (minutes)", min_value=10, max_value=240
    )
    buffer_minutes = forms.IntegerField(
        label="Buffer between meetings (minutes)", min_value=0, max_value=120
    )
    booking_days_ahead = forms.IntegerField(
        label="How far ahead visitors may book (days)", min_value=1, max_value=90
    )
    booking_notice_hours = forms.IntegerField(
        label="Minimum notice (hours)", min_value=0, max_value=24 * 14
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        for index, day in enumerate(WEEKDAYS):
            for end, label in (("start", "from"), ("end", "to")):
                self.fields[f"day{index}_{end}"] = forms.TimeField(
                    label=f"{day} {label}",
                    required=False,
                    widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
                )

    @property
    def rule_fields(self) -> list[forms.BoundField]:
        return [
            self[name]
            for name in (
                "meeting_minutes",
                "buffer_minutes",
                "booking_days_ahead",
                "booking_notice_hours",
            )
        ]

    @property
    def weekly_rows(self) -> list[tuple[str, forms.BoundField, forms.BoundField]]:
        return [
            (day, self[f"day{index}_start"], self[f"day{index}_end"])
            for index, day in enumerate(WEEKDAYS)
        ]

    @staticmethod
    def initial_for(page: PublicPage) -> dict[str, object]:
        initial: dict[str, object] = {
            name: getattr(page, name)
            for name in (
                "booking_enabled",
                "meeting_minutes",
                "buffer_minutes",
                "booking_days_ahead",
                "booking_notice_hours",
            )
        }
        for index, hours in enumerate(page.booking_hours):
            if hours:
                initial[f"day{index}_start"], initial[f"day{index}_end"] = hours
        return initial

    def clean(self) -> dict[str, object]:
        data = super().clean()
        hours: list[list[str] | None] = []
        for index, day in enumerate(WEEKDAYS):
            start, end = data.get(f"day{index}_start"), data.get(f"day{index}_end")
            if start is None and end is None:
                hours.append(None)
            elif start is None or end is None:
                self.add_error(f"day{index}_start", f"{day}: give both times, or neither.")
                hours.append(None)
            elif end <= start:
                self.add_error(f"day{index}_end", f"{day}: the end must be after the start.")
                hours.append(None)
            else:
                hours.append([start.strftime("%H:%M"), end.strftime("%H:%M")])
        data["booking_hours"] = hours
        return data

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "booking_enabled": data["booking_enabled"],
            "booking_hours": data["booking_hours"],
            "meeting_minutes": data["meeting_minutes"],
            "buffer_minutes": data["buffer_minutes"],
            "booking_days_ahead": data["booking_days_ahead"],
            "booking_notice_hours": data["booking_notice_hours"],
        }


class BookingForm(VisitorForm):
    """The visitor books a slot: who they are and what the meeting is about."""

    start = forms.DateTimeField(widget=forms.HiddenInput)
    tz = forms.CharField(widget=forms.HiddenInput, max_length=64)
    name = forms.CharField(label="Your name", max_length=NAME_MAX_LENGTH)
    email = forms.EmailField(label="Email", max_length=254)
    company = forms.CharField(label="Company", max_length=COMPANY_MAX_LENGTH, required=False)
    message = forms.CharField(
        label="What would you like to talk about?",
        max_length=MESSAGE_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def clean_tz(self) -> str:
        zone = self.cleaned_data["tz"]
        if zone not in VISITOR_ZONES:
            raise forms.ValidationError("Unknown time zone.")
        return zone
