"""The "Referred by" of a lead form: a pick from the type-ahead, made a referral source on save.

The type-ahead (the referrals app's `referrer-search`) lists the owner's referral sources, won
customers and other leads as the salesperson types. Picking one puts a token in a hidden input
("source:12", "lead:34", or "new" for a new referral source by the typed name) and the name in
the visible one; without JavaScript the visible input is a plain text field and the typed name
is matched when the form is saved. The visible name has the last word: clear it and the lead
has no referrer; type another name after a pick and the pick no longer counts.

Turning the pick into a referral source may write one (a lead or customer who is not yet a
source becomes one), and that is the referrals app's business. Leads sits below referrals and
must not import it, so the referrals app registers its resolver here at startup
(`ReferralsConfig.ready`) and the lead services call it inside their own transaction: a lead
that fails validation leaves no new referral source behind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db.models import Model
from django.forms.utils import flatatt
from django.template.loader import render_to_string


@dataclass(frozen=True)
class ReferrerChoice:
    """What a "Referred by" input sent: the picked option's token and the name shown."""

    token: str = ""
    typed: str = ""

    @property
    def is_empty(self) -> bool:
        return not self.typed.strip()


# (owner=, choice=, lead=) -> the referral source; raises ValidationError({"referred_by": …}).
ReferrerResolver = Callable[..., Model]
_resolver: ReferrerResolver | None = None


def register_referrer_resolver(resolver: ReferrerResolver) -> None:
    """Called once by the referrals app at startup."""
    global _resolver
    _resolver = resolver


def resolve_referrer(*, owner: Model, choice: ReferrerChoice, lead: Model | None = None):
    """The referral source a "Referred by" choice names (None when the name is cleared).

    `lead` is the lead being edited, which can't refer itself. Call it inside the transaction
    that saves the lead.
    """
    if choice.is_empty:
        return None
    if _resolver is None:
        raise ImproperlyConfigured("No referrer resolver: is the referrals app installed?")
    return _resolver(owner=owner, choice=choice, lead=lead)


def referrer_choice_of(lead: Model) -> ReferrerChoice:
    """The choice a form shows for a lead's current referrer."""
    source = lead.referred_by
    if source is None:
        return ReferrerChoice()
    return ReferrerChoice(token=f"source:{source.pk}", typed=source.name)


class ReferrerPicker(forms.Widget):
    """A text input that lists matching referrers as one types (htmx) plus the picked token.

    `lead_id` (set by the form) is sent with each search, so a lead is not offered as its own
    referrer and the options come from its owner's book.
    """

    template_name = "leads/_referrer_picker.html"

    def __init__(self, attrs=None, *, lead_id: int | None = None) -> None:
        super().__init__(attrs)
        self.lead_id = lead_id

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        choice = value if isinstance(value, ReferrerChoice) else ReferrerChoice()
        context["widget"].update(
            token=choice.token,
            typed=choice.typed,
            lead_id=self.lead_id or "",
            attrs_html=flatatt(context["widget"]["attrs"]),
        )
        return context

    def render(self, name, value, attrs=None, renderer=None):
        # The project's template engine (the widget lives in templates/, with {% url %}), not
        # the form renderer's, which only sees Django's own widget templates.
        return render_to_string(self.template_name, self.get_context(name, value, attrs))

    def format_value(self, value):
        return value

    def value_from_datadict(self, data, files, name) -> ReferrerChoice:
        return ReferrerChoice(
            token=(data.get(name) or "").strip(), typed=(data.get(f"{name}_name") or "").strip()
        )

    def value_omitted_from_data(self, data, files, name) -> bool:
        return name not in data and f"{name}_name" not in data


class ReferrerField(forms.Field):
    widget = ReferrerPicker
    default_error_messages = {"required": "Type the referrer's name and pick them from the list."}

    def to_python(self, value) -> ReferrerChoice:
        return value if isinstance(value, ReferrerChoice) else ReferrerChoice()

    def validate(self, value: ReferrerChoice) -> None:
        if self.required and value.is_empty:
            raise ValidationError(self.error_messages["required"], code="required")

    def has_changed(self, initial, data) -> bool:
        return self.to_python(initial).typed != self.to_python(data).typed
