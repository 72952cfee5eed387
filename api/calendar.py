"""The iCalendar feed (RFC 5545) of a user's pending follow-ups, at a secret URL that a
calendar app subscribes to. Written by hand: it is a dozen properties, and the rules that
matter (CRLF, escaping, folding at 75 octets without splitting a character) fit below.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from api import selectors
from leads.models import FollowUp

PRODID = "-//LeadHunter//Follow-ups//EN"
EVENT_LENGTH = timedelta(minutes=15)
MAX_LINE_OCTETS = 75


@require_safe
@login_not_required
def follow_up_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The feed behind a user's secret link; an unknown or replaced link answers 404."""
    feed = selectors.calendar_feed_for_token(token)
    if feed is None or not feed.user.is_active:
        raise Http404("No such calendar.")
    now = timezone.now()
    follow_ups = selectors.calendar_follow_ups(feed.user, now=now)
    body = follow_ups_ics(follow_ups, calendar_name=f"LeadHunter: {feed.user}", now=now)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="leadhunter-follow-ups.ics"'
    # The URL is the credential: keep it out of shared caches and search engines.
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex"
    return response


def follow_ups_ics(follow_ups: Iterable[FollowUp], *, calendar_name: str, now: datetime) -> str:
    """A VCALENDAR with one 15-minute VEVENT per follow-up, times in UTC."""
    stamp = _utc(now)
    host = urlsplit(settings.SITE_URL).hostname or "leadhunter"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(calendar_name)}",
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
        "X-PUBLISHED-TTL:PT1H",
    ]
    for follow_up in follow_ups:
        lines.extend(_event(follow_up, host=host, stamp=stamp))
    lines.append("END:VCALENDAR")
    return "".join(f"{folded}\r\n" for line in lines for folded in fold(line))


def _event(follow_up: FollowUp, *, host: str, stamp: str) -> list[str]:
    lead = follow_up.lead
    lead_url = settings.SITE_URL + reverse("lead-detail", args=[lead.pk])
    details = [follow_up.get_kind_display()]
    if lead.company_id:
        details.append(f"Company: {lead.company.name}")
    if follow_up.note:
        details.append(follow_up.note)
    details.append(lead_url)
    summary = escape_text(f"Follow up: {lead}")
    description = escape_text("\n".join(details))
    return [
        "BEGIN:VEVENT",
        f"UID:follow-up-{follow_up.pk}@{host}",
        f"DTSTAMP:{stamp}",
        f"DTSTART:{_utc(follow_up.due_at)}",
        f"DTEND:{_utc(follow_up.due_at + EVENT_LENGTH)}",
        # A snoozed follow-up is the same event moved: calendar apps update it in place.
        f"SEQUENCE:{follow_up.snooze_count}",
        f"SUMMARY:{summary}",
        f"DESCRIPTION:{description}",
        f"URL:{lead_url}",
        "TRANSP:TRANSPARENT",
        "END:VEVENT",
    ]


def escape_text(text: str) -> str:
    """A TEXT value (RFC 5545 §3.3.11): backslash, semicolon, comma and newlines escaped;
    other control characters, which the format does not allow, dropped."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    text = text.replace("\n", "\\n")
    return "".join(char for char in text if char == "\t" or (ord(char) >= 0x20 and char != "\x7f"))


def fold(line: str) -> Iterator[str]:
    """A content line folded into lines of at most 75 octets (RFC 5545 §3.1); continuation
    lines start with a space, and a multi-byte character is never split."""
    chunk: list[str] = []
    size = 0
    for char in line:
        octets = len(char.encode())
        if size + octets > MAX_LINE_OCTETS:
            yield "".join(chunk)
            # The leading space of a continuation line counts towards its 75 octets.
            chunk, size = [" "], 1
        chunk.append(char)
        size += octets
    yield "".join(chunk)


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
