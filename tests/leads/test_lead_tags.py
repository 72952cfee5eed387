"""The lead template tags print what Django's own filters and templates printed before them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.template.loader import get_template
from django.urls import reverse, set_script_prefix
from django.utils import timezone, translation
from hypothesis import given
from hypothesis import strategies as st

from accounts.models import User
from leads.models import (
    Activity,
    Company,
    FollowUp,
    FollowUpKind,
    Lead,
    Source,
    Stage,
    StageChange,
)
from leads.selectors import QueueItem, QueueKind, TimelineEntry
from leads.templatetags.lead_tags import (
    day_month_year,
    grade_badge,
    lead_row,
    pk_url,
    plain_url,
    timeline_entry,
    waiting,
    weekday_day_month,
)

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


@pytest.mark.parametrize("language", ["en", "de", "fr", "pt-br"])
def test_the_short_date_filters_name_days_and_months_in_the_active_language(language):
    days_of_a_year = [datetime(2026, month, 1 + month, 9, tzinfo=UTC) for month in range(1, 13)]

    with translation.override(language):
        for moment in days_of_a_year:
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


def test_a_lead_list_row_names_days_and_months_in_the_active_language():
    lead = _lead(next_follow_up_at=NOW + timedelta(days=3), created_at=NOW - timedelta(days=40))
    context = {"lead": lead, "now": NOW, "is_manager": False}

    with translation.override("de"), timezone.override("Europe/Berlin"):
        expected = Template(TEMPLATE_ROW).render(Context(context))
        row = lead_row(lead, NOW, False)

    assert _between_tags(row) == _between_tags(expected)


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


# The lead list's row as the template drew it before `lead_row` (issue 20): the tag must print
# the same, but for the whitespace between tags.
TEMPLATE_ROW = """{% load lead_tags %}
<tr>
  <td class="cell-select"><input type="checkbox" name="lead_ids" value="{{ lead.pk }}" aria-label="Select {{ lead }}"></td>
  <td class="cell-grade">{% grade_badge lead %}</td>
  <td class="cell-name"><a href="{% url 'lead-detail' lead.pk %}" class="strong">{{ lead }}</a>{% if lead.title %}<div class="muted small">{{ lead.title }}</div>{% endif %}</td>
  <td class="cell-company">{% company_link lead.company %}</td>
  <td class="cell-stage" data-label="Stage"><span class="badge stage-{{ lead.stage }}">{{ lead.get_stage_display }}</span></td>
  <td class="cell-source" data-label="Source">{{ lead.get_source_display }}</td>
  <td class="num cell-value" data-label="Value">{{ lead.expected_value|money:lead.currency }}</td>
  <td class="cell-follow-up" data-label="Follow-up">{% if lead.next_follow_up_at %}<span{% if lead.next_follow_up_at < now %} class="overdue"{% endif %}>{{ lead.next_follow_up_at|weekday_day_month }}</span>{% else %}<span class="muted">—</span>{% endif %}</td>
  <td class="muted cell-added" data-label="Added">{{ lead.created_at|day_month_year }}</td>
  {% if is_manager %}<td class="cell-owner" data-label="Owner">{{ lead.owner }}</td>{% endif %}
</tr>"""  # noqa: E501

NOW = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)


def _between_tags(html: str) -> str:
    return re.sub(r">\s+<", "><", html.strip())


def _lead(**overrides) -> Lead:
    fields = {
        "pk": 4217,
        "first_name": "Ada",
        "last_name": "Lovelace",
        "title": "Head of Ops",
        "company": Company(pk=88, name="Acme & Sons"),
        "owner": User(username="sam", first_name="Sam", last_name="O'Neil"),
        "stage": Stage.CONTACTED,
        "source": Source.REFERRAL,
        "grade": "B",
        "total_score": 64,
        "fit_score": 70,
        "intent_score": 55,
        "expected_value": Decimal("12000"),
        "currency": "EUR",
        "next_follow_up_at": NOW - timedelta(hours=1),
        "created_at": NOW - timedelta(days=400),
    }
    return Lead(**{**fields, **overrides})


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"next_follow_up_at": NOW + timedelta(minutes=1)},
        {"next_follow_up_at": None},
        {"title": "", "company": None, "expected_value": None},
        {"expected_value": Decimal("1234567.50"), "currency": "CHF"},
        {"first_name": '<script>alert("x")</script>', "title": "R&D <b>", "last_name": "'"},
        {"company": Company(pk=3, name='"><img src=x>'), "stage": "archived", "source": "fax"},
        {"first_name": "", "last_name": "", "email": "ada@example.com", "grade": '"><i>'},
    ],
)
@pytest.mark.parametrize("is_manager", [False, True])
@pytest.mark.parametrize("zone", ["UTC", "Pacific/Kiritimati", "America/Los_Angeles"])
def test_a_lead_list_row_prints_what_the_rows_template_printed(overrides, is_manager, zone):
    lead = _lead(**overrides)
    context = {"lead": lead, "now": NOW, "is_manager": is_manager}

    with timezone.override(zone):
        expected = Template(TEMPLATE_ROW).render(Context(context))
        row = lead_row(lead, NOW, is_manager)

    assert _between_tags(row) == _between_tags(expected)


def test_a_lead_list_row_escapes_what_people_typed():
    lead = _lead(first_name="<script>", title="<b>", company=Company(pk=1, name="<i>"))

    row = lead_row(lead, NOW, is_manager=True)

    assert "<script>" not in row
    assert "<b>" not in row
    assert "<i>" not in row
    assert "&lt;script&gt;" in row


@given(pk=st.integers(min_value=1, max_value=2**63 - 1))
@pytest.mark.parametrize(
    "name",
    ["lead-detail", "company-detail", "today-log-form", "follow-up-complete", "follow-up-snooze"],
)
def test_a_pk_url_is_what_url_reverses(name, pk):
    assert pk_url(name, pk) == reverse(name, args=[pk])
    assert render(f"{{% pk_url '{name}' pk %}}", pk=pk) == reverse(name, args=[pk])


def test_a_pk_url_keeps_the_prefix_of_an_app_served_under_a_path():
    from leads.templatetags import lead_tags

    lead_tags._pk_url_parts.cache_clear()
    set_script_prefix("/crm/")
    try:
        assert pk_url("lead-detail", 7) == reverse("lead-detail", args=[7])
        assert pk_url("lead-detail", 7).startswith("/crm/")
    finally:
        set_script_prefix("/")
        lead_tags._pk_url_parts.cache_clear()


@pytest.mark.parametrize(
    "name", ["lead-list", "lead-create", "lead-bulk", "lead-export-csv", "import-start", "today"]
)
def test_a_plain_url_is_what_url_reverses_under_any_script_prefix(name):
    assert plain_url(name) == reverse(name)
    assert render(f"{{% plain_url '{name}' %}}") == reverse(name)
    # Reversed once per prefix: an app served under a path keeps its prefix, and the root's
    # URLs stay the root's afterwards.
    set_script_prefix("/crm/")
    try:
        assert plain_url(name) == reverse(name)
        assert plain_url(name).startswith("/crm/")
    finally:
        set_script_prefix("/")
    assert plain_url(name) == reverse(name)
    assert not plain_url(name).startswith("/crm/")


def _follow_up(kind: str, note: str, due_at: datetime) -> FollowUp:
    return FollowUp(pk=9931, kind=kind, note=note, due_at=due_at)


@given(
    kind=st.sampled_from([kind.value for kind in QueueKind]),
    follow_up_kind=st.none() | st.sampled_from([kind.value for kind in FollowUpKind]),
    note=st.sampled_from(["", "Ask about <budget> & timing"]),
    overdue=st.booleans(),
    waited=st.none() | st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=9)),
    lead=st.fixed_dictionaries(
        {
            "first_name": st.sampled_from(["Ada", '<script>"x"</script>', ""]),
            "title": st.sampled_from(["", "Head of R&D"]),
            "company": st.sampled_from([None, Company(pk=88, name="Acme & <Sons>")]),
            "do_not_contact": st.booleans(),
            "expected_value": st.sampled_from([None, Decimal(0), Decimal("12000.40")]),
            "currency": st.sampled_from(["EUR", "CHF"]),
            "source": st.sampled_from([Source.REFERRAL, Source.EVENT]),
            "stage": st.sampled_from([Stage.CONTACTED, Stage.WON]),
            "referred_by_id": st.sampled_from([None, 5]),
            "email": st.just("ada@example.com"),
        }
    ),
    zone=st.sampled_from(ZONES),
    csrf_token=st.sampled_from(["", "Tok3n"]),
)
def test_a_today_row_prints_what_the_queue_row_partial_prints(
    kind, follow_up_kind, note, overdue, waited, lead, zone, csrf_token
):
    item = QueueItem(
        kind=kind,
        lead=_lead(**lead),
        follow_up=None if follow_up_kind is None else _follow_up(follow_up_kind, note, NOW),
        reason="Going cold in <Contacted>",
        overdue=overdue,
        priority=80.0,
        waiting=waited,
    )
    context = {"item": item, "csrf_token": csrf_token}

    with timezone.override(zone):
        expected = get_template("leads/today.html#queue-row").render(context)
        row = Template("{% load lead_tags %}{% today_row item %}").render(Context(context))

    # A run of spaces and line breaks shows as one space: only where there is one matters.
    assert _one_space(row) == _one_space(expected)


def _one_space(html: str) -> str:
    return re.sub(r"\s+", " ", html.strip())


# The lead page's timeline entry as lead_detail.html drew it before `timeline_entry` (issue 20).
TEMPLATE_TIMELINE_ENTRY = """
        <li class="timeline-{{ entry.kind }}{% if entry.activity.is_hand_raise %} is-hand-raise{% endif %}">
          <time datetime="{{ entry.at|date:'c' }}">{{ entry.at|date:"j M Y, H:i" }}</time>
          {% if entry.activity %}
          <div><strong>{{ entry.activity.get_kind_display }}</strong>{% if entry.activity.outcome %} · {{ entry.activity.get_outcome_display }}{% endif %} <span class="muted">· {{ entry.activity.get_direction_display|lower }}{% if entry.activity.user %} · {{ entry.activity.user }}{% endif %}</span>
            {% if entry.activity.text %}<p>{{ entry.activity.text|linebreaksbr }}</p>{% endif %}</div>
          {% else %}
          <div>Stage: <strong>{% if entry.stage_change.from_stage %}{{ entry.stage_change.get_from_stage_display }} → {% else %}created in {% endif %}{{ entry.stage_change.get_to_stage_display }}</strong>{% if entry.stage_change.reason %} <span class="muted">· {{ entry.stage_change.reason }}</span>{% endif %}{% if entry.stage_change.changed_by %} <span class="muted">· {{ entry.stage_change.changed_by }}</span>{% endif %}</div>
          {% endif %}
        </li>
"""  # noqa: E501

SAM = User(username="sam", first_name="Sam", last_name="O'Neil")


def _activity_entry(**overrides) -> TimelineEntry:
    fields = {
        "kind": "call",
        "direction": "outbound",
        "outcome": "connected",
        "user": SAM,
        "text": "Wants pricing\r\nfor <b>two</b> teams\rand R&D",
    }
    activity = Activity(**{**fields, **overrides})
    return TimelineEntry(NOW - timedelta(minutes=7, microseconds=5), "activity", activity=activity)


def _stage_entry(**overrides) -> TimelineEntry:
    fields = {
        "from_stage": Stage.CONTACTED,
        "to_stage": Stage.LOST,
        "reason": 'Budget <cut> & "frozen"',
        "changed_by": SAM,
    }
    change = StageChange(**{**fields, **overrides})
    return TimelineEntry(NOW + timedelta(hours=3), "stage", stage_change=change)


@pytest.mark.parametrize(
    "entry",
    [
        _activity_entry(),
        _activity_entry(outcome="", user=None, text=""),
        _activity_entry(
            kind="asked_for_demo", direction="inbound", outcome="", text="<script>x</script>"
        ),
        _activity_entry(kind="email", direction="inbound", user=User(username="<i>")),
        _stage_entry(),
        _stage_entry(from_stage="", to_stage=Stage.NEW, reason="", changed_by=None),
        _stage_entry(to_stage="unknown-stage", reason="", changed_by=User(username="a&b")),
    ],
)
@pytest.mark.parametrize("zone", ["UTC", "Pacific/Kiritimati", "America/Los_Angeles"])
def test_a_timeline_entry_prints_what_the_timelines_template_printed(entry, zone):
    with timezone.override(zone):
        expected = Template(TEMPLATE_TIMELINE_ENTRY).render(Context({"entry": entry}))
        shown = timeline_entry(entry)

    # A run of spaces and line breaks shows as one space: only where there is one matters.
    assert _one_space(shown) == _one_space(expected)
