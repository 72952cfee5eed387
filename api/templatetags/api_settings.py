"""The settings page's "API tokens" and "Calendar feed" sections read their data here, so
the settings view itself needs no change to show them."""

from __future__ import annotations

from dataclasses import dataclass

from django import template
from django.conf import settings
from django.urls import reverse

from accounts.models import User
from api import selectors
from api.forms import ApiTokenForm
from api.models import ApiToken

register = template.Library()


@dataclass(frozen=True)
class ApiSettings:
    tokens: list[ApiToken]
    calendar_url: str | None
    token_form: ApiTokenForm


@register.simple_tag
def api_settings_of(user: User, token_form: ApiTokenForm | None = None) -> ApiSettings:
    feed = selectors.calendar_feed_of(user)
    calendar_url = settings.SITE_URL + reverse("calendar-feed", args=[feed.token]) if feed else None
    return ApiSettings(
        tokens=list(selectors.api_tokens_of(user)),
        calendar_url=calendar_url,
        token_form=token_form or ApiTokenForm(),
    )
