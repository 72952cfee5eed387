"""The checks' advice is written for a terminal first: `command` marks a command line."""

from __future__ import annotations

import re

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

_BACKTICKED = re.compile(r"`([^`]+)`")


@register.filter
def command_spans(text: str) -> SafeString:
    """Escape `text`, then show each `command` in a <code> element."""
    return mark_safe(_BACKTICKED.sub(r"<code>\1</code>", escape(text)))  # noqa: S308 - escaped first
