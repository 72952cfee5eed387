"""leadhunter.forms: the one way a service's ValidationError reaches a form."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from leadhunter.forms import add_service_errors, form_error_messages


class PersonForm(forms.Form):
    name = forms.CharField()
    email = forms.EmailField(required=False)


def bound_form() -> PersonForm:
    form = PersonForm({"name": "Ada", "email": ""})
    assert form.is_valid()
    return form


def test_field_errors_go_next_to_their_field_and_the_rest_above_the_form():
    form = bound_form()

    add_service_errors(
        form, ValidationError({"email": "Taken.", "owner": "Not yours.", "__all__": "No."})
    )

    assert form.errors["email"] == ["Taken."]
    assert form.non_field_errors() == ["Not yours.", "No."]


def test_an_error_without_fields_goes_above_the_form():
    form = bound_form()

    add_service_errors(form, ValidationError("The lead was merged."))

    assert form.non_field_errors() == ["The lead was merged."]


def test_renamed_model_fields_land_on_the_form_field_that_edits_them():
    form = bound_form()

    add_service_errors(
        form,
        ValidationError({"first_name": "Too long.", "email": "Taken."}),
        renamed={"first_name": "name"},
    )

    assert form.errors["name"] == ["Too long."]
    assert form_error_messages(form) == ["Too long.", "Taken."]
