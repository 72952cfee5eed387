"""Form helpers shared by every app: the one way to show a service's ValidationError on a form
(`add_service_errors`) and to list a form's errors as text (`form_error_messages`)."""

from __future__ import annotations

from collections.abc import Mapping

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError


def add_service_errors(
    form: forms.BaseForm, error: ValidationError, *, renamed: Mapping[str, str] | None = None
) -> None:
    """Show a service's ValidationError next to the fields it names, the rest above the form.

    `renamed` maps a model field the service names onto the form field that edits it (a form
    with one "name" field for the lead's first and last name, say)."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for model_name, errors in error.error_dict.items():
        name = (renamed or {}).get(model_name, model_name)
        field = name if name in form.fields and name != NON_FIELD_ERRORS else None
        form.add_error(field, errors)


def form_error_messages(form: forms.Form) -> list[str]:
    """Every error of a bound form as text, for a message or a one-line problem."""
    return [str(message) for errors in form.errors.values() for message in errors]
