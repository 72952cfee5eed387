from __future__ import annotations

from django import forms
from django.core.validators import RegexValidator

from emails.models import MESSAGE_ID_MAX_LENGTH
from emails.templates_merge import MERGE_FIELDS, unknown_fields, unknown_fields_message
from emails.templates_models import (
    TEMPLATE_BODY_MAX_LENGTH,
    TEMPLATE_NAME_MAX_LENGTH,
    TEMPLATE_SUBJECT_MAX_LENGTH,
)

MERGE_FIELDS_HELP = "Merge fields: " + ", ".join("{{" + name + "}}" for name in MERGE_FIELDS)


class _MergeFieldsChecked(forms.Form):
    """Subject and body whose merge fields must all be known, the error next to the field."""

    def _known_fields_only(self, name: str) -> str:
        text = self.cleaned_data[name]
        unknown = unknown_fields(text)
        if unknown:
            raise forms.ValidationError(unknown_fields_message(unknown))
        return text

    def clean_subject(self) -> str:
        return self._known_fields_only("subject")

    def clean_body(self) -> str:
        return self._known_fields_only("body")


class EmailTemplateForm(_MergeFieldsChecked):
    name = forms.CharField(max_length=TEMPLATE_NAME_MAX_LENGTH)
    subject = forms.CharField(max_length=TEMPLATE_SUBJECT_MAX_LENGTH, required=False)
    body = forms.CharField(
        max_length=TEMPLATE_BODY_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text=MERGE_FIELDS_HELP,
    )


class EmailComposeForm(_MergeFieldsChecked):
    # Given to the page when the form is first shown: sending the same form twice (a double
    # click, a retry after a timeout) logs and sends it once (emails.sending.email_send).
    # It goes into a header: one token, no spaces or line breaks (emails.sending.new_message_id).
    message_id = forms.CharField(
        max_length=MESSAGE_ID_MAX_LENGTH,
        widget=forms.HiddenInput,
        validators=[
            RegexValidator(
                r"\A[^\s<>@]+@[^\s<>@]+\Z", "This form came back changed; nothing was sent."
            )
        ],
    )
    subject = forms.CharField(max_length=TEMPLATE_SUBJECT_MAX_LENGTH)
    body = forms.CharField(
        max_length=TEMPLATE_BODY_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 14}),
        help_text=MERGE_FIELDS_HELP,
    )
