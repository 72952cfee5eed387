from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine

from reports.forms import ReportFilterForm, months_back
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

TODAY = date(2025, 5, 20)


def test_defaults_are_the_twelve_months_up_to_today(salesperson):
    form = ReportFilterForm({}, user=salesperson, today=TODAY)

    assert form.is_valid(), form.errors
    assert (form.period.start, form.period.end) == (date(2024, 6, 1), TODAY)
    # The inputs show the dates the report used.
    assert 'value="2024-06-01"' in str(form["start"])


@time_machine.travel(datetime(2025, 5, 20, 23, 30, tzinfo=UTC), tick=False)
def test_today_is_the_readers_own(db):
    tokyo = UserFactory(username="kenji", time_zone="Asia/Tokyo")

    form = ReportFilterForm({}, user=tokyo)

    assert form.is_valid()
    assert form.period.end == date(2025, 5, 21)
    assert str(form.period.zone) == "Asia/Tokyo"


def test_months_back_crosses_the_year():
    assert months_back(date(2025, 1, 31), 11) == date(2024, 2, 1)
    assert months_back(date(2025, 12, 1), 0) == date(2025, 12, 1)


def test_an_end_before_the_start_is_an_error_on_the_end_field(salesperson):
    form = ReportFilterForm({"start": "2025-03-01", "end": "2025-02-01"}, user=salesperson)

    assert not form.is_valid()
    assert form.errors == {"end": ["The end date is before the start date."]}


def test_a_period_longer_than_three_years_is_refused(salesperson):
    form = ReportFilterForm({"start": "2020-01-01", "end": "2025-01-01"}, user=salesperson)

    assert not form.is_valid()
    assert "start" in form.errors


def test_a_salesperson_has_no_rep_filter_and_a_rep_in_the_url_is_ignored(
    salesperson, other_salesperson
):
    form = ReportFilterForm({"rep": str(other_salesperson.pk)}, user=salesperson, today=TODAY)

    assert "rep" not in form.fields
    assert form.is_valid()
    assert form.selected_rep is None
    assert "rep=" not in form.query_string()


def test_a_manager_picks_an_active_rep(manager, other_salesperson):
    form = ReportFilterForm({"rep": str(other_salesperson.pk)}, user=manager, today=TODAY)

    assert form.is_valid()
    assert form.selected_rep == other_salesperson
    assert form.query_string() == f"start=2024-06-01&end=2025-05-20&rep={other_salesperson.pk}"


@pytest.mark.parametrize("rep", ["inactive", "999999", "not-a-number"])
def test_a_manager_cannot_pick_someone_off_the_team(manager, rep):
    if rep == "inactive":
        rep = str(UserFactory(username="gone", is_active=False).pk)

    form = ReportFilterForm({"rep": rep}, user=manager, today=TODAY)

    assert not form.is_valid()
    assert form.errors == {"rep": ["Pick someone on your team, or the whole team."]}
