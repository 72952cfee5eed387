from __future__ import annotations

from django import forms
from django.conf import settings

from imports.columns import Target
from imports.decoding import size_problem
from imports.models import DuplicatePolicy, FirstTouch, ImportFormat, ImportJob
from imports.parsing import mapping_problem
from leads.models import Source
from leads.referrers import ReferrerField

SOURCE_CHOICES = [
    ("", "By format (LinkedIn, Google, vCard: own network; CSV: other)"),
    *Source.choices,
]


class UploadForm(forms.Form):
    file = forms.FileField(
        help_text="CSV or vCard (.vcf). The first row of a CSV names the columns.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.tsv,.vcf,text/csv"}),
    )
    format = forms.ChoiceField(choices=ImportFormat.choices, initial=ImportFormat.AUTO)
    source = forms.ChoiceField(
        label="Lead source",
        choices=SOURCE_CHOICES,
        required=False,
        help_text="For rows whose file doesn't say where the lead came from.",
    )
    referred_by = ReferrerField(
        label="Referred by",
        required=False,
        help_text="Everyone this file adds is credited to them, e.g. a customer's list of "
        "introductions. Leave empty for most imports.",
    )
    duplicates = forms.ChoiceField(
        label="Leads you already have",
        choices=DuplicatePolicy.choices,
        initial=DuplicatePolicy.FILL_EMPTY,
        help_text="Matched by email, LinkedIn profile, or name and company.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        # Checked before reading: a huge upload is refused without loading it.
        problem = size_problem(upload.size, settings.IMPORT_MAX_BYTES)
        if problem:
            raise forms.ValidationError(problem)
        return upload


class MappingForm(forms.Form):
    """A select per column of the file, labelled with the column's header and a sample."""

    def __init__(self, *args, headers: list[str], mapping: list[str], samples: list[str], **kw):
        super().__init__(*args, **kw)
        self.headers = headers
        for index, header in enumerate(headers):
            self.fields[f"column_{index}"] = forms.ChoiceField(
                label=header or f"Column {index + 1}",
                choices=Target.choices,
                initial=mapping[index] if index < len(mapping) else Target.IGNORE,
                help_text=samples[index] if index < len(samples) else "",
            )

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        mapping = [cleaned[f"column_{index}"] for index in range(len(self.headers))]
        problem = mapping_problem(mapping, self.headers)
        if problem:
            raise forms.ValidationError(problem)
        cleaned["mapping"] = mapping
        return cleaned


MAX_TAGS = 10
MAX_TAG_LENGTH = 50


class ImportRunForm(forms.Form):
    """The last step before importing: tags for the new leads, and what happens to them next."""

    tags = forms.CharField(
        required=False,
        max_length=500,
        help_text="Added to each new lead, separated by commas; e.g. linkedin-2026, alumni.",
    )
    first_touch = forms.ChoiceField(
        label="What happens to the new leads",
        choices=FirstTouch.choices,
        widget=forms.RadioSelect,
        required=False,  # not sent: as the job has it (by its format)
    )

    def __init__(self, *args, job: ImportJob, reconnects_per_day: int, **kwargs):
        kwargs.setdefault("initial", {"tags": ", ".join(job.tags), "first_touch": job.first_touch})
        super().__init__(*args, **kwargs)
        # The choice says what it means in numbers, with the person's own number per day.
        self.fields["first_touch"].choices = [
            (
                FirstTouch.NETWORK,
                f"Add to my network pool — reconnect {reconnects_per_day} a day, best fit first",
            ),
            (FirstTouch.NEXT_DAY, FirstTouch.NEXT_DAY.label),
        ]

    def clean_tags(self) -> list[str]:
        tags = list(
            dict.fromkeys(
                tag.strip().lower() for tag in self.cleaned_data["tags"].split(",") if tag.strip()
            )
        )
        if len(tags) > MAX_TAGS:
            raise forms.ValidationError(f"Up to {MAX_TAGS} tags.")
        if too_long := [tag for tag in tags if len(tag) > MAX_TAG_LENGTH]:
            raise forms.ValidationError(
                f"Keep each tag under {MAX_TAG_LENGTH} characters: {too_long[0][:20]}…"
            )
        return tags
