from __future__ import annotations

from django import forms

from icp.models import ICP, NUMERIC_FIELDS, Field, Operator


class ICPForm(forms.ModelForm):
    class Meta:
        model = ICP
        fields = ["name", "description", "is_active"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}


class CriterionForm(forms.Form):
    """One criterion row. The typed-in value is turned into the JSON the model stores:
    a list for "is one of", {"min", "max"} for "is between", a number for numeric fields."""

    field = forms.ChoiceField(choices=Field.choices)
    operator = forms.ChoiceField(choices=Operator.choices)
    value = forms.CharField(
        required=False,
        max_length=500,
        help_text="For “is one of”, separate values with commas.",
    )
    minimum = forms.DecimalField(required=False, label="Min")
    maximum = forms.DecimalField(required=False, label="Max")
    weight = forms.IntegerField(initial=10)
    required = forms.BooleanField(required=False, label="Knock-out")

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        field, operator, text = (
            cleaned["field"],
            cleaned["operator"],
            cleaned.get("value", "").strip(),
        )
        if operator == Operator.RANGE:
            bounds = {"min": cleaned.get("minimum"), "max": cleaned.get("maximum")}
            cleaned["json_value"] = {
                key: _number(value) for key, value in bounds.items() if value is not None
            }
        elif operator == Operator.ONE_OF:
            cleaned["json_value"] = [part.strip() for part in text.split(",") if part.strip()]
        elif field in NUMERIC_FIELDS:
            try:
                cleaned["json_value"] = _number(text)
            except ValueError:
                self.add_error("value", "Enter a number.")
        else:
            cleaned["json_value"] = text
        return cleaned


def _number(value) -> int | float:
    number = float(value)
    return int(number) if number.is_integer() else number


NEW_ICP = "new"
NEW_ICP_NAME = "Learned from my wins"


class SuggestionForm(CriterionForm):
    """A suggested criterion as the salesperson accepts it: which ICP it goes to, its weight.

    The ICP is one of theirs, or a new one (named NEW_ICP_NAME) when they have none."""

    icp = forms.ChoiceField(label="Add to ICP")

    def __init__(self, *args, icps=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [
            (str(icp.pk), f"{icp.name}{'' if icp.is_active else ' (inactive)'}") for icp in icps
        ]
        names = {icp.name for icp in icps}
        if NEW_ICP_NAME not in names:
            choices.append((NEW_ICP, f"A new ICP, “{NEW_ICP_NAME}”"))
        self.fields["icp"].choices = choices
        for name in ("field", "operator", "value", "minimum", "maximum"):
            self.fields[name].widget = forms.HiddenInput()
