"""The settings page's "Reminder emails" section reads its rows here, so the settings view
(in accounts, below reminders) needs no change to show them."""

from __future__ import annotations

from django import template

from accounts.models import User
from reminders import selectors

register = template.Library()


@register.simple_tag
def reminder_emails_of(user: User) -> list[dict[str, object]]:
    """Each reminder email: its name, when it is sent, and whether `user` has it on."""
    return [
        {
            "slug": slug,
            "title": selectors.reminder_about(kind)["title"],
            "schedule": selectors.reminder_about(kind)["schedule"],
            "turned_on": bool(getattr(user, selectors.reminder_about(kind)["setting"])),
        }
        for slug, kind in selectors.KIND_BY_SLUG.items()
    ]
