"""How a referral source's facts read: its strength as dots, the days since an ask.

Tags rather than included templates: the Referrals page draws both on each of its 75 rows,
and an `{% include %}` with a loop of five spans per row was a large share of its time and
weight (issue 20).
"""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

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
