"""How a referral source's facts read: its strength as dots, the days since an ask; the
Referrals page's rows.

Tags rather than included templates: the Referrals page draws these on each of its 75 rows,
and an `{% include %}` with a loop of five spans per row was a large share of its time and
weight (issue 20). The rows themselves are Python for the reason of the lead list's
(`lead_row`): their template markup was most of the page's rendering.
"""

from __future__ import annotations

import functools

from django import template
from django.template.defaultfilters import floatformat
from django.utils import timezone, translation
from django.utils.html import format_html
from django.utils.safestring import SafeString

from leads.templatetags.lead_tags import csrf_input, day_month_year, escape_text, pk_url
from referrals.models import AskChannel

register = template.Library()

STRENGTH_MAX = 5


@register.simple_tag
def strength_dots(strength: int | None) -> SafeString:
    """●●●○○ for 3 of 5, with its words for screen readers and as a tooltip."""
    filled = max(0, min(int(strength or 0), STRENGTH_MAX))
    return format_html(
        '<span class="strength" role="img" aria-label="Relationship strength {0} of 5" '
        'title="Relationship strength {0} of 5"><span class="strength-on">{1}</span>'
        '<span class="strength-off">{2}</span></span>',
        filled,
        "●" * filled,
        "○" * (STRENGTH_MAX - filled),
    )


@register.filter
def days_ago(days: int | None) -> str:
    """never, today, yesterday, 12 days ago."""
    if days is None:
        return "never"
    if days == 0:
        return "today"
    if days == 1:
        return "yesterday"
    return f"{days} days ago"


@register.simple_tag(takes_context=True)
def ask_row(context: template.Context, item) -> SafeString:
    """One source of "Who to ask this week" (a `RankedSource`) before it is asked: what the
    `who-to-ask-row` partial of referrals/referral_list.html prints for it, which stays the
    markup of a row swapped in after an ask and is what the tests hold this to."""
    source = item.source
    pk = int(source.pk)
    name = escape_text(source.name)
    ask_url = pk_url("referral-ask", pk)
    given = item.referrals_given
    channels = _channel_options(translation.get_language())
    return SafeString(
        f'<li id="who-to-ask-row-{pk}" class="ask-row">\n'
        '<div class="ask-who">\n'
        f'<a class="ask-name" id="who-to-ask-name-{pk}" href="{pk_url("referral-detail", pk)}">'
        f"{name}</a>\n"
        f'<span class="badge badge-kind-{escape_text(source.kind)}">'
        f"{escape_text(source.get_kind_display())}</span>\n"
        "</div>\n"
        '<div class="ask-facts">\n'
        f"{strength_dots(source.strength)}\n"
        f"<span>{given} referred lead{'' if given == 1 else 's'}</span>\n"
        f"<span>Last asked {days_ago(item.days_since_ask)}</span>\n"
        "</div>\n"
        '<div class="ask-action">\n'
        f'<form method="post" action="{ask_url}" hx-post="{ask_url}"'
        ' hx-target="closest .ask-row" hx-swap="outerHTML" hx-disabled-elt="find button"'
        ' class="compact-form">\n'
        f"{csrf_input(context)}\n"
        f'<label class="visually-hidden" for="ask-channel-{pk}">How you asked {name}</label>\n'
        f'<select name="channel" id="ask-channel-{pk}" class="ask-channel">{channels}</select>\n'
        '<input type="hidden" name="return_to" value="list">\n'
        '<button type="submit" class="button button-small button-primary"'
        f' aria-describedby="who-to-ask-name-{pk}">Asked ✓</button>\n'
        "</form>\n"
        "</div>\n"
        "</li>"
    )


@functools.lru_cache(maxsize=32)
def _channel_options(language: str | None) -> str:
    """The `<option>`s of how the salesperson asked ("Asked ✓" records it, not always email),
    once per language rather than once per row."""
    with translation.override(language):
        return "".join(
            f'<option value="{escape_text(value)}">{escape_text(label)}</option>'
            for value, label in AskChannel.choices
        )


@register.simple_tag
def source_row(row, is_manager: bool) -> SafeString:
    """One `<tr>` of the referral sources table (a `SourceRow`), with the owner for a
    manager; dates in the user's time zone and language, as `date:"j M Y"` prints them."""
    source = row.source
    pk = int(source.pk)
    owner = f'<td data-label="Owner">{escape_text(source.owner)}</td>\n' if is_manager else ""
    if source.opted_out:
        next_ask = '<span class="badge">Opted out</span>'
    elif row.ask_is_due:
        next_ask = '<span class="badge badge-warn">Due now</span>'
    elif source.next_ask_at is not None:
        next_ask = day_month_year(timezone.localtime(source.next_ask_at))
    else:
        next_ask = ""
    won = (
        f"<strong>€{escape_text(floatformat(row.won_value_of_tree, '0g'))}</strong>"
        if row.won_value_of_tree
        else '<span class="muted">—</span>'
    )
    return SafeString(
        "<tr>\n"
        '<td class="source-cell">\n'
        f'<a href="{pk_url("referral-detail", pk)}">{escape_text(source.name)}</a>\n'
        f'<span class="badge badge-kind-{escape_text(source.kind)}">'
        f"{escape_text(source.get_kind_display())}</span>\n"
        "</td>\n"
        f"{owner}"
        f'<td data-label="Strength">{strength_dots(source.strength)}</td>\n'
        f'<td data-label="Last asked">{days_ago(row.days_since_ask)}</td>\n'
        f'<td data-label="Next ask" class="nowrap">{next_ask}</td>\n'
        f'<td data-label="Referred leads" class="num">{row.referrals_given}</td>\n'
        f'<td data-label="Won value" class="num">{won}</td>\n'
        "</tr>"
    )
