from __future__ import annotations

from django import forms

from api.models import ApiToken


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label="Token name",
        max_length=ApiToken._meta.get_field("name").max_length,
        help_text="What will use it, e.g. “Zapier” or “my laptop”.",
    )
