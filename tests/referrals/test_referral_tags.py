from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.template.loader import get_template
from django.utils import timezone

from accounts.models import User
from referrals.models import AskChannel, ReferralSource
from referrals.selectors import RankedSource, SourceRow
from referrals.templatetags.referral_tags import days_ago, strength_dots


@pytest.mark.parametrize(
    ("strength", "on", "off"), [(0, "", "○○○○○"), (2, "●●", "○○○"), (5, "●●●●●", "")]
)
def test_strength_dots_colour_the_dots_on_and_off(strength, on, off):
    html = strength_dots(strength)

    assert f'aria-label="Relationship strength {strength} of 5"' in html
    assert f'<span class="strength-on">{on}</span><span class="strength-off">{off}</span>' in html


@pytest.mark.parametrize(
    ("days", "text"), [(None, "never"), (0, "today"), (1, "yesterday"), (43, "43 days ago")]
)
def test_days_ago_reads_as_words(days, text):
    assert days_ago(days) == text


NOW = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)


def _source(**overrides) -> ReferralSource:
    fields = {
        "pk": 731,
        "name": "Grace & <Hopper>",
        "kind": "customer",
        "strength": 4,
        "owner": User(username="sam", first_name="Sam", last_name="O'Neil"),
        "next_ask_at": NOW + timedelta(days=12),
        "opted_out": False,
    }
    return ReferralSource(**{**fields, **overrides})


def _one_space(html: str) -> str:
    return re.sub(r"\s+", " ", html.strip())


@pytest.mark.parametrize(
    ("source", "given", "days"),
    [
        (_source(), 0, None),
        (_source(kind="partner", strength=1), 1, 0),
        (_source(name='"><script>x</script>', kind="<b>", strength=None), 12, 430),
    ],
)
@pytest.mark.parametrize("csrf_token", ["", "Tok3n"])
def test_an_ask_row_prints_what_the_who_to_ask_row_partial_prints(source, given, days, csrf_token):
    item = RankedSource(source=source, referrals_given=given, days_since_ask=days, rank_score=1.0)
    context = {"item": item, "csrf_token": csrf_token, "ask_channels": AskChannel.choices}

    expected = get_template("referrals/referral_list.html#who-to-ask-row").render(context)
    row = Template("{% load referral_tags %}{% ask_row item %}").render(Context(context))

    # A run of spaces and line breaks shows as one space: only where there is one matters.
    assert _one_space(row) == _one_space(expected)


# A row of the sources table as referral_list.html drew it before `source_row` (issue 20).
TEMPLATE_SOURCE_ROW = """{% load lead_tags referral_tags %}
<tr>
<td class="source-cell">
<a href="{% pk_url 'referral-detail' row.source.pk %}">{{ row.source.name }}</a>
<span class="badge badge-kind-{{ row.source.kind }}">{{ row.source.get_kind_display }}</span>
</td>
{% if is_manager %}<td data-label="Owner">{{ row.source.owner }}</td>{% endif %}
<td data-label="Strength">{% strength_dots row.source.strength %}</td>
<td data-label="Last asked">{{ row.days_since_ask|days_ago }}</td>
<td data-label="Next ask" class="nowrap">{% if row.source.opted_out %}<span class="badge">Opted out</span>{% elif row.ask_is_due %}<span class="badge badge-warn">Due now</span>{% else %}{{ row.source.next_ask_at|date:"j M Y" }}{% endif %}</td>
<td data-label="Referred leads" class="num">{{ row.referrals_given }}</td>
<td data-label="Won value" class="num">{% if row.won_value_of_tree %}<strong>€{{ row.won_value_of_tree|floatformat:"0g" }}</strong>{% else %}<span class="muted">—</span>{% endif %}</td>
</tr>
"""  # noqa: E501


@pytest.mark.parametrize(
    ("source", "due", "won"),
    [
        (_source(), False, Decimal(0)),
        (_source(), True, Decimal("1234567.5")),
        (_source(opted_out=True), True, Decimal("999.49")),
        (_source(next_ask_at=None, name="<i>", kind="x&y"), False, Decimal("0.5")),
        (_source(next_ask_at=NOW + timedelta(minutes=45)), False, Decimal(12000)),
    ],
)
@pytest.mark.parametrize("is_manager", [False, True])
@pytest.mark.parametrize("zone", ["UTC", "Pacific/Kiritimati", "America/Los_Angeles"])
def test_a_source_row_prints_what_the_tables_template_printed(source, due, won, is_manager, zone):
    row = SourceRow(
        source=source, referrals_given=3, won_value_of_tree=won, days_since_ask=9, ask_is_due=due
    )
    context = {"row": row, "is_manager": is_manager}

    with timezone.override(zone):
        expected = Template(TEMPLATE_SOURCE_ROW).render(Context(context))
        shown = Template("{% load referral_tags %}{% source_row row is_manager %}").render(
            Context(context)
        )

    assert _one_space(shown) == _one_space(expected)
