"""The visitor's "tell me what you need" form and the salesperson's page settings."""

from __future__ import annotations

import time

from django import forms
from django.core import signing

from handraise.models import INTRO_MAX_LENGTH

NAME_MAX_LENGTH = 200
COMPANY_MAX_LENGTH = 200
MESSAGE_MAX_LENGTH = 4000
PHONE_MAX_LENGTH = 32
EMBED_ORIGINS_MAX_LENGTH = 4000
_STARTED_SALT = "handraise.form-started"


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


class HandRaiseForm(forms.Form):
    name = forms.CharField(label="Your name", max_length=NAME_MAX_LENGTH)
    email = forms.EmailField(label="Email", max_length=254)
    company = forms.CharField(label="Company", max_length=COMPANY_MAX_LENGTH)
    phone = forms.CharField(label="Phone (optional)", max_length=PHONE_MAX_LENGTH, required=False)
    message = forms.CharField(
        label="What do you need?",
        max_length=MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
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
