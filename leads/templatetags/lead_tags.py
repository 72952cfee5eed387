from __future__ import annotations

import functools
import html
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from urllib.parse import quote

from django import template
from django.template.defaulttags import CsrfTokenNode
from django.urls import get_script_prefix, reverse
from django.utils import timezone, translation
from django.utils.dates import MONTHS_3, WEEKDAYS_ABBR
from django.utils.safestring import SafeString

register = template.Library()


def escape_text(value: object) -> str:
    """The text Django's `escape` gives, without its check for lazy arguments on every call:
    the row tags below call it a dozen times a row, where that check was 7% of the lead
    list's CPU. Only for text that goes into a SafeString built here."""
    return html.escape(str(value))


CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥"}
# `pk_url` reverses a URL once with this key, then puts each row's key in its place: a number
# no URL of ours holds otherwise.
PK_PLACEHOLDER = 987654321


@register.filter
def money(value: Decimal | int | None, currency: str = "EUR") -> str:
    """12000 → '€12,000'; no decimals: these are deal estimates, not invoices."""
    if value is None or value == "":
        return ""
    amount = f"{Decimal(value):,.0f}"
    symbol = CURRENCY_SYMBOLS.get(currency)
    return f"{symbol}{amount}" if symbol else f"{amount} {currency}"


# The lead list shows two dates on each of its 50 rows; Django's `date` filter parses its
# format string on every call, which was a tenth of the page's rendering. These two print the
# same text as `date:"D j M"` and `date:"j M Y"` (pinned by tests) in the user's time zone.
@register.filter
def waiting(duration: timedelta | None) -> str:
    """A hand-raiser's wait, rounded down: "waiting 12 min", "waiting 3 h", "waiting 2 days"."""
    if duration is None:
        return ""
    minutes = int(duration.total_seconds() // 60)
    if minutes < 1:
        return "waiting under a minute"
    if minutes < 60:
        return f"waiting {minutes} min"
    if minutes < 24 * 60:
        return f"waiting {minutes // 60} h"
    days = minutes // (24 * 60)
    return f"waiting {days} day{'' if days == 1 else 's'}"


@register.filter(expects_localtime=True)
def weekday_day_month(value: datetime | None) -> str:
    """'Sun 29 Nov', like `date:"D j M"`."""
    if not isinstance(value, date):
        return ""
    return _weekday_day_month(value, _date_names(translation.get_language()))


@register.filter(expects_localtime=True)
def day_month_year(value: datetime | None) -> str:
    """'29 Nov 2026', like `date:"j M Y"`."""
    if not isinstance(value, date):
        return ""
    return _day_month_year(value, _date_names(translation.get_language()))


DateNames = tuple[tuple[str, ...], tuple[str, ...]]


def _weekday_day_month(value: date, names: DateNames) -> str:
    weekdays, months = names
    return f"{weekdays[value.weekday()]} {value.day} {months[value.month]}"


def _day_month_year(value: date, names: DateNames) -> str:
    return f"{value.day} {names[1][value.month]} {value.year}"


@functools.lru_cache(maxsize=32)
def _date_names(language: str | None) -> DateNames:
    """The short weekday names (Monday first) and month names (1-12, title case, as the `date`
    filter prints them) in `language`, as plain text.

    Django's are lazy translations, looked up again on each use: the lead list's two dates on
    fifty rows made that lookup 7% of the page's CPU.
    """
    with translation.override(language):
        weekdays = tuple(str(WEEKDAYS_ABBR[day]) for day in range(7))
        months = ("", *(str(MONTHS_3[month]).title() for month in range(1, 13)))
    return weekdays, months


@register.filter
def not_matched(explanation: dict | None) -> list[str]:
    """A score explanation's criteria not matched, less those listed as unknown: a score
    stored before the engine listed unknown criteria apart had them in both (until its next
    rescore), and the score card shows each criterion once."""
    if not isinstance(explanation, dict):
        return []
    unknown = set(explanation.get("unknown") or ())
    return [label for label in explanation.get("unmatched") or () if label not in unknown]


@register.filter
def knockouts(explanation: dict | None) -> dict[str, list[str]]:
    """A score explanation's knock-outs split in two: `failed`, required criteria the lead
    does not meet, and `missing`, required criteria nobody knows yet (the engine counts them
    as not met, so the fit is 0 until someone looks them up). The score card words them apart:
    "knocked out by" a criterion it also lists as unknown read as a contradiction."""
    if not isinstance(explanation, dict):
        return {"failed": [], "missing": []}
    unknown = set(explanation.get("unknown") or ())
    knocked_out = explanation.get("knocked_out_by") or ()
    return {
        "failed": [label for label in knocked_out if label not in unknown],
        "missing": [label for label in knocked_out if label in unknown],
    }


# "ext. 12", "x12", "#12": an extension after the number as people type it.
EXTENSION = re.compile(r"\s*(?:ext\.?|extension|x|#)\s*(\d+)\s*$", re.IGNORECASE)


@register.filter
def tel_href(phone: str) -> str:
    """'+44 (0)20 7946-0123 ext. 12' → '+442079460123;ext=12', a number a phone can dial.

    The phone field is free text; a tel: link needs the digits (RFC 3966). The "(0)" people
    write after a country code is not dialled from abroad, so it goes.
    """
    phone = (phone or "").strip()
    extension = ""
    if match := EXTENSION.search(phone):
        extension = f";ext={match.group(1)}"
        phone = phone[: match.start()]
    if phone.startswith("+"):
        phone = phone.replace("(0)", "")
    digits = re.sub(r"\D", "", phone)
    if not digits:
        return ""
    return ("+" if phone.startswith("+") else "") + digits + extension


@register.simple_tag
def company_link(company) -> SafeString | str:
    """The company's name linked to its page; nothing without a company.

    A tag with the URL worked out once, like `grade_badge`: it is drawn on every row of the
    lead list, where a `{% url %}` per row cost three times as much as the rest of the cell.
    """
    if company is None:
        return ""
    url = pk_url("company-detail", company.pk)
    return SafeString(f'<a href="{url}">{escape_text(company.name)}</a>')


@register.simple_tag
def pk_url(name: str, pk: int) -> str:
    """`{% url name pk %}` for a URL whose one argument is a primary key, for the rows of
    Today and the lead list: `reverse` is worked out once per name, then the key is put in.
    On Today, fifty rows of five links each made `{% url %}` a third of the page's rendering.
    """
    prefix, suffix = _pk_url_parts(name)
    return f"{prefix}{int(pk)}{suffix}"


@functools.cache
def _pk_url_parts(name: str) -> tuple[str, str]:
    prefix, _, suffix = reverse(name, args=[PK_PLACEHOLDER]).partition(str(PK_PLACEHOLDER))
    return prefix, suffix


@register.simple_tag
def plain_url(name: str) -> str:
    """`{% url name %}` for a URL without arguments, reversed once per process (and script
    prefix): the lead list prints nine of them, where `{% url %}` was 5% of the page's CPU."""
    return _plain_url(name, get_script_prefix())


@functools.cache
def _plain_url(name: str, _script_prefix: str) -> str:
    # The prefix is the cache's key only: `reverse` reads the request's own.
    return reverse(name)


@register.simple_tag
def grade_badge(lead) -> SafeString:
    """The lead's grade letter with its scores on hover.

    A tag rather than an included template: it is drawn on every row of the lead list and
    every pipeline card, where an include per row was a tenth of the page's rendering time.
    """
    grade = escape_text(lead.grade)
    total = escape_text(lead.total_score)
    fit, intent = escape_text(lead.fit_score), escape_text(lead.intent_score)
    return SafeString(
        f'<span class="grade grade-{grade}" title="Score {total} (fit {fit},'
        f' intent {intent})" aria-label="Grade {grade}, score {total}">'
        f"{grade}</span>"
    )


@register.simple_tag
def lead_row(lead, now: datetime, is_manager: bool) -> SafeString:
    """One `<tr>` of the lead list: the checkbox, grade, name and title, company, stage,
    source, value, next follow-up (marked overdue before `now`), date added, and the owner
    for a manager. `lead` is a `LeadRow` (the list's) or a `Lead`.

    Python rather than template markup: the 50 rows were most of the page's rendering, and
    the lead list is the most requested page (issue 20: 200 requests/s on two cores). Every
    value goes through `escape_text`, the text `{{ }}` would print (one f-string: `format_html`
    per cell cost half as much again); dates are in the user's time zone and language, as the
    filters print them.
    """
    name = escape_text(str(lead))
    # The zone and the language once a row, not once a date (each a context-local look-up).
    zone = timezone.get_current_timezone()
    date_names = _date_names(translation.get_language())
    follow_up = lead.next_follow_up_at
    if follow_up:
        overdue = ' class="overdue"' if follow_up < now else ""
        local = timezone.localtime(follow_up, zone)
        follow_up_cell = f"<span{overdue}>{_weekday_day_month(local, date_names)}</span>"
    else:
        follow_up_cell = '<span class="muted">—</span>'
    title = f'<div class="muted small">{escape_text(lead.title)}</div>' if lead.title else ""
    owner = (
        f'<td class="cell-owner" data-label="Owner">{escape_text(str(lead.owner))}</td>'
        if is_manager
        else ""
    )
    pk = int(lead.pk)
    return SafeString(
        "<tr>\n"
        f'<td class="cell-select"><input type="checkbox" name="lead_ids" value="{pk}"'
        f' aria-label="Select {name}"></td>\n'
        f'<td class="cell-grade">{grade_badge(lead)}</td>\n'
        f'<td class="cell-name"><a href="{pk_url("lead-detail", pk)}" class="strong">{name}</a>'
        f"{title}</td>\n"
        f'<td class="cell-company">{company_link(lead.company)}</td>\n'
        f'<td class="cell-stage" data-label="Stage">'
        f'<span class="badge stage-{escape_text(lead.stage)}">'
        f"{escape_text(lead.get_stage_display())}</span></td>\n"
        f'<td class="cell-source" data-label="Source">'
        f"{escape_text(lead.get_source_display())}</td>\n"
        f'<td class="num cell-value" data-label="Value">'
        f"{escape_text(money(lead.expected_value, lead.currency))}</td>\n"
        f'<td class="cell-follow-up" data-label="Follow-up">{follow_up_cell}</td>\n'
        f'<td class="muted cell-added" data-label="Added">'
        f"{_day_month_year(timezone.localtime(lead.created_at, zone), date_names)}</td>\n"
        f"{owner}</tr>"
    )


@register.simple_tag(takes_context=True)
def today_row(context: template.Context, item) -> SafeString:
    """One row of the Today queue as it opens (its Done, Snooze and Log panels closed): what
    the `queue-row` partial of leads/today.html prints, which stays the row's markup for the
    rows drawn with a panel open (a refused action) and is what the tests hold this to.

    Python for the same reason as `lead_row`: the forty rows were nine tenths of Today's
    rendering, Today is the page a salesperson opens first, and its target is 50 ms.
    """
    lead, follow_up = item.lead, item.follow_up
    row_id = escape_text(item.row_id)
    row_query = quote(item.row_id, safe="/")
    lead_url = pk_url("lead-detail", lead.pk)
    name = escape_text(str(lead))
    company = escape_text(str(lead.company)) if lead.company else ""
    byline = escape_text(lead.title) + (" · " if lead.title and company else "") + company
    if item.overdue:
        badge = "badge-warn"
    elif item.kind == "hand_raiser":
        badge = "badge-hot"
    elif item.kind == "going_cold":
        badge = "badge-cold"
    else:
        badge = ""
    meta = (
        f'<span class="badge {badge}">{"Overdue · " if item.overdue else ""}'
        f"{escape_text(item.reason)}</span>"
    )
    if item.waiting is not None:
        meta += (
            '\n      <span class="queue-waiting" title="Since their first hand-raise nobody has '
            f'answered yet">{escape_text(waiting(item.waiting))}</span>'
        )
    if follow_up:
        due = timezone.localtime(follow_up.due_at)
        meta += f'\n      <span class="muted">{weekday_day_month(due)}, {due:%H:%M}</span>'
        if follow_up.note:
            meta += f'\n      <span class="muted">“{escape_text(follow_up.note)}”</span>'
    if item.needs_referrer:
        meta += (
            f'\n      <a class="badge badge-warn" href="{lead_url}#who-referred">'
            "Who referred this?</a>"
        )
    if lead.do_not_contact:
        meta += '\n      <span class="badge badge-warn">Do not contact</span>'
    if lead.expected_value:
        meta += (
            f'\n      <span class="muted">{escape_text(money(lead.expected_value, lead.currency))}'
            "</span>"
        )
    if follow_up and not follow_up.is_touch:
        done_url = pk_url("follow-up-complete", follow_up.pk)
        done = (
            f'\n    <form method="post" action="{done_url}" hx-post="{done_url}"'
            f' hx-target="#{row_id}" hx-swap="outerHTML">\n      {csrf_input(context)}'
            f'<input type="hidden" name="row_id" value="{row_id}">\n'
            '      <button type="submit" class="button button-small" data-key="d"'
            ' title="Done (d)">Done</button>\n    </form>'
        )
    elif not follow_up and item.kind == "missing_referrer":
        # Naming the referrer is the whole task: the lead page's "Who referred this?" form.
        done = (
            f'\n    <a class="button button-small" href="{lead_url}#who-referred" data-key="d"'
            ' title="Name who referred them (d)">Name the referrer</a>'
        )
    else:
        if follow_up:
            form_url = pk_url("today-follow-up-done-form", follow_up.pk)
            fallback = f'<a href="{lead_url}#lead-follow-up">Mark it done on the lead page</a>'
        else:
            form_url = pk_url("today-done-form", lead.pk)
            fallback = f'<a href="{lead_url}#lead-log">Log it on the lead page</a>'
        done = (
            '\n    <details class="row-choice">\n      <summary class="button button-small"'
            ' data-key="d" title="Done (d), then say how it went">Done</summary>\n      '
            f'<div class="panel-slot muted" hx-get="{form_url}?row_id={row_query}"'
            f' hx-trigger="toggle once from:closest details, retry">{fallback}</div>\n'
            "    </details>"
        )
    snooze = ""
    if follow_up:
        snooze_url = pk_url("today-follow-up-snooze-form", follow_up.pk)
        snooze = (
            '\n    <details class="row-choice">\n      <summary class="button button-small"'
            ' data-key="s" title="Snooze (s)">Snooze</summary>\n      '
            f'<div class="panel-slot muted" hx-get="{snooze_url}?row_id={row_query}"'
            ' hx-trigger="toggle once from:closest details, retry">'
            f'<a href="{lead_url}#lead-follow-up">Snooze it on the lead page</a></div>\n'
            "    </details>"
        )
    log_url = pk_url("today-log-form", lead.pk)
    return SafeString(
        f'<li id="{row_id}" class="queue-row{" is-overdue" if item.overdue else ""}"'
        ' tabindex="-1" data-queue-row>\n'
        f"  {grade_badge(lead)}\n"
        '  <div class="queue-main">\n'
        f'    <a class="queue-name" href="{lead_url}">{name}</a>\n'
        f'    <span class="muted">{byline}</span>\n'
        f'    <div class="queue-meta">\n      {meta}\n    </div>\n'
        "  </div>\n"
        f'  <div class="queue-actions" data-row-keys="{"d s l" if follow_up else "d l"}"'
        ' hx-swap="outerHTML">\n'
        f"    {done}{snooze}\n"
        '    <details class="log-touch">\n'
        '      <summary class="button button-small" data-key="l" title="Log a touch (l)">Log'
        "</summary>\n"
        f'      <div class="log-form-slot panel-slot muted" hx-get="{log_url}?row_id={row_query}"'
        ' hx-trigger="toggle once from:closest details, retry">'
        f'<a href="{lead_url}#lead-log">Log it on the lead page</a></div>\n'
        "    </details>\n"
        "  </div>\n"
        "</li>"
    )


def csrf_input(context: template.Context) -> str:
    """What `{% csrf_token %}` prints (its own node)."""
    return CsrfTokenNode().render(context)


@register.simple_tag
def timeline_entry(entry) -> SafeString:
    """One `<li>` of the lead page's timeline: an activity or a stage change (`TimelineEntry`;
    a registered source's entries draw themselves with their own template), its moment in the
    user's time zone and language.

    Python for the reason of `lead_row`: a lead with a long history shows 25 entries, about a
    third of the page's rendering (issue 20: the lead page in 50 ms). Text goes through
    `escape_text`, as `{{ }}` would print it.
    """
    at = timezone.localtime(entry.at, timezone.get_current_timezone())
    months = _date_names(translation.get_language())[1]
    when = f"{at.day} {months[at.month]} {at.year}, {at.hour:02d}:{at.minute:02d}"
    activity, change = entry.activity, entry.stage_change
    if activity is not None:
        hand_raise = " is-hand-raise" if activity.is_hand_raise else ""
        outcome = f" · {escape_text(activity.get_outcome_display())}" if activity.outcome else ""
        direction = escape_text(str(activity.get_direction_display()).lower())
        user = f" · {escape_text(activity.user)}" if activity.user else ""
        text = f"<p>{_line_breaks(activity.text)}</p>" if activity.text else ""
        body = (
            f"<div><strong>{escape_text(activity.get_kind_display())}</strong>{outcome}"
            f' <span class="muted">· {direction}{user}</span>\n{text}</div>'
        )
    else:
        hand_raise = ""
        moved = (
            f"{escape_text(change.get_from_stage_display())} → "
            if change.from_stage
            else "created in "
        )
        reason = (
            f' <span class="muted">· {escape_text(change.reason)}</span>' if change.reason else ""
        )
        by = (
            f' <span class="muted">· {escape_text(change.changed_by)}</span>'
            if change.changed_by
            else ""
        )
        body = (
            f"<div>Stage: <strong>{moved}{escape_text(change.get_to_stage_display())}</strong>"
            f"{reason}{by}</div>"
        )
    return SafeString(
        f'<li class="timeline-{escape_text(entry.kind)}{hand_raise}">\n'
        f'<time datetime="{at.isoformat()}">{when}</time>\n{body}\n</li>'
    )


def _line_breaks(text: str) -> str:
    """What `{{ text|linebreaksbr }}` prints."""
    return escape_text(text.replace("\r\n", "\n").replace("\r", "\n")).replace("\n", "<br>")
