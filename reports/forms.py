from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.utils import timezone
from django.utils.http import urlencode

from accounts.models import User
from reports.selectors import Period

MAX_PERIOD_DAYS = 3 * 366


def months_back(day: date, months: int) -> date:
    """The first of the month `months` before `day`'s month."""
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


class ReportFilterForm(forms.Form):
    """The period and, for a manager, the rep a report covers.

    Always bound: a missing date takes its default (the twelve calendar months up to today in
    the reader's time zone, so each month bar is a whole month but the last), and the inputs
    show the dates the report actually used.
    """

    start = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To", widget=forms.DateInput(attrs={"type": "date"}))
    rep = forms.ModelChoiceField(
        label="Rep",
        queryset=User.objects.none(),
        required=False,
        empty_label="Whole team",
        error_messages={"invalid_choice": "Pick someone on your team, or the whole team."},
    )

    def __init__(self, data=None, *, user: User, today: date | None = None) -> None:
        self.user = user
        today = today or timezone.now().astimezone(user.zone).date()
        defaults = {"start": months_back(today, 11).isoformat(), "end": today.isoformat()}
        given = {name: (data or {}).get(name, "") for name in ("start", "end", "rep")}
        super().__init__({**given, **{k: v for k, v in defaults.items() if not given[k]}})
        if user.is_manager:
            self.fields["rep"].queryset = User.objects.filter(is_active=True).order_by(
                "first_name", "last_name", "username"
            )
        else:
            # A salesperson's reports are their own: a rep in the URL is simply not read.
            del self.fields["rep"]

    def clean(self) -> dict:
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            if end < start:
                self.add_error("end", "The end date is before the start date.")
            elif end - start > timedelta(days=MAX_PERIOD_DAYS):
                self.add_error("start", "Pick a period of at most three years.")
        return cleaned

    @property
    def period(self) -> Period:
        return Period(self.cleaned_data["start"], self.cleaned_data["end"], self.user.zone)

    @property
    def selected_rep(self) -> User | None:
        return self.cleaned_data.get("rep") if self.user.is_manager else None

    def query_string(self) -> str:
        """The filters as a URL query, for the CSV links and the page URL."""
        query = {"start": self.cleaned_data["start"], "end": self.cleaned_data["end"]}
        if self.selected_rep is not None:
            query["rep"] = self.selected_rep.pk
        return urlencode(query)
