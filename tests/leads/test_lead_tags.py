"""The lead template tags print what Django's own filters and templates printed before them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.template import Context, Template
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from leads.models import Lead, Source, Stage
from leads.templatetags.lead_tags import day_month_year, grade_badge, waiting, weekday_day_month

ZONES = ["UTC", "Europe/Berlin", "America/Los_Angeles", "Asia/Kolkata", "Pacific/Kiritimati"]


def render(source: str, **context) -> str:
    return Template("{% load lead_tags %}" + source).render(Context(context))


@given(
    moment=st.datetimes(
        min_value=datetime(1990, 1, 1), max_value=datetime(2090, 12, 31), timezones=st.just(UTC)
    ),
    zone=st.sampled_from(ZONES),
)
def test_the_short_date_filters_print_what_the_date_filter_prints_in_the_users_zone(moment, zone):
    with timezone.override(zone):
        assert render("{{ d|weekday_day_month }}", d=moment) == render(
            '{{ d|date:"D j M" }}', d=moment
        )
        assert render("{{ d|day_month_year }}", d=moment) == render(
            '{{ d|date:"j M Y" }}', d=moment
        )


def test_the_short_date_filters_read_the_time_in_the_users_zone():
    late_on_sunday_in_utc = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)

    with timezone.override("Europe/Berlin"):
        text = render("{{ d|weekday_day_month }} · {{ d|day_month_year }}", d=late_on_sunday_in_utc)

    assert text == "Mon 30 Nov · 30 Nov 2026"


@pytest.mark.parametrize("empty", [None, ""])
def test_the_short_date_filters_print_nothing_for_no_date(empty):
    assert (weekday_day_month(empty), day_month_year(empty)) == ("", "")


def test_a_plain_date_prints_too():
    assert day_month_year((datetime(2026, 1, 5) + timedelta(days=1)).date()) == "6 Jan 2026"


def test_the_grade_badge_names_the_grade_and_its_scores():
    lead = Lead(grade="B", total_score=64, fit_score=70, intent_score=55)

    assert grade_badge(lead) == (
        '<span class="grade grade-B" title="Score 64 (fit 70, intent 55)"'
        ' aria-label="Grade B, score 64">B</span>'
    )


def test_the_grade_badge_escapes_what_it_prints():
    lead = Lead(grade='"><script>', total_score=1, fit_score=1, intent_score=1)

    assert "<script>" not in render("{% grade_badge lead %}", lead=lead)


@pytest.mark.parametrize("stage", Stage)
def test_stage_labels_are_the_choices_labels(stage):
    assert Lead(stage=stage).get_stage_display() == stage.label


@pytest.mark.parametrize("source", Source)
def test_source_labels_are_the_choices_labels(source):
    assert Lead(source=source).get_source_display() == source.label


def test_an_unknown_stage_prints_as_stored():
    assert Lead(stage="archived").get_stage_display() == "archived"


@pytest.mark.parametrize(
    ("duration", "shown"),
    [
        (timedelta(0), "waiting under a minute"),
        (timedelta(seconds=59), "waiting under a minute"),
        (timedelta(minutes=1), "waiting 1 min"),
        (timedelta(minutes=12, seconds=59), "waiting 12 min"),
        (timedelta(minutes=59, seconds=59), "waiting 59 min"),
        (timedelta(hours=1), "waiting 1 h"),
        (timedelta(hours=23, minutes=59), "waiting 23 h"),
        (timedelta(days=1), "waiting 1 day"),
        (timedelta(days=2, hours=23), "waiting 2 days"),
        (None, ""),
    ],
)
def test_a_hand_raisers_wait_is_rounded_down_to_minutes_hours_or_days(duration, shown):
    assert waiting(duration) == shown
