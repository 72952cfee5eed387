"""The admin's lead changelist rows, drawn directly (issue 20).

Django's admin draws each of the 500 cells of a 50-row page through `items_for_result`: a
field look-up, a display helper and a `format_html` per cell, two thirds of the changelist's
time. `lead_result_list` gives the same context as Django's `result_list` with the rows drawn
here, column by column for `LeadAdmin.list_display`; tests/leads/test_admin.py holds every
cell to what Django prints, so a column added to `list_display` alone fails it.
"""

from __future__ import annotations

import functools

from django import template
from django.contrib.admin.templatetags.admin_list import ResultList, result_headers
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import display_for_value
from django.utils import formats, timezone
from django.utils.html import escape
from django.utils.safestring import SafeString

from leads.models import Lead
from leads.templatetags.lead_tags import PK_PLACEHOLDER

register = template.Library()


@register.inclusion_tag("admin/change_list_results.html")
def lead_result_list(cl) -> dict:
    """Django's `result_list` context for the lead changelist, its rows drawn by `lead_cells`."""
    headers = list(result_headers(cl))
    change_url = _change_url(cl)
    return {
        "cl": cl,
        "result_hidden_fields": [],
        "result_headers": headers,
        "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
        "results": [ResultList(None, lead_cells(cl, lead, change_url)) for lead in cl.result_list],
    }


def lead_cells(cl, lead: Lead, change_url: str | None = None) -> list[SafeString]:
    """One changelist row's cells, as Django's `items_for_result` prints them."""
    admin = cl.model_admin
    empty = escape(admin.get_empty_value_display())
    # The key's first place is the path's (the preserved filters come after it).
    url = (change_url or _change_url(cl)).replace(str(PK_PLACEHOLDER), str(int(lead.pk)), 1)
    stages, sources = _labels()
    company = escape(str(lead.company)) if lead.company_id else empty
    link = f'<a href="{escape(url)}">{escape(str(lead))}</a>'
    cold = display_for_value(admin.going_cold(lead), empty)
    return [
        SafeString(f'<td class="action-checkbox">{admin.action_checkbox(lead)}</td>'),
        SafeString(f'<th class="field-__str__">{link}</th>'),
        SafeString(f'<td class="field-company nowrap">{company}</td>'),
        SafeString(f'<td class="field-owner nowrap">{escape(str(lead.owner))}</td>'),
        SafeString(f'<td class="field-stage">{escape(stages.get(lead.stage, empty))}</td>'),
        SafeString(f'<td class="field-source">{escape(sources.get(lead.source, empty))}</td>'),
        SafeString(f'<td class="field-score">{escape(admin.score(lead))}</td>'),
        _moment_cell("next_follow_up_at", lead.next_follow_up_at, empty),
        _moment_cell("last_contacted_at", lead.last_contacted_at, empty),
        SafeString(f'<td class="field-going_cold">{cold}</td>'),
    ]


def _moment_cell(name: str, moment, empty: str) -> SafeString:
    # Django's own formatting (DATETIME_FORMAT in the reader's zone), as display_for_field.
    shown = escape(formats.localize(timezone.template_localtime(moment))) if moment else empty
    return SafeString(f'<td class="field-{name} nowrap">{shown}</td>')


def _change_url(cl) -> str:
    """The change page's URL with a placeholder key and the list's filters preserved:
    `cl.url_for_result` and `add_preserved_filters` once per page, not once per row."""
    url = cl.url_for_result(Lead(pk=PK_PLACEHOLDER))
    return add_preserved_filters({"preserved_filters": cl.preserved_filters, "opts": cl.opts}, url)


@functools.cache
def _labels() -> tuple[dict, dict]:
    # The labels as the choices hold them (lazy: each cell prints them in the reader's language).
    return (
        dict(Lead._meta.get_field("stage").flatchoices),
        dict(Lead._meta.get_field("source").flatchoices),
    )
