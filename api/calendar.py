"""The iCalendar feed (RFC 5545) of a user's pending follow-ups, at a secret URL that a
calendar app subscribes to. The `icalendar` library writes it: CRLF line ends, TEXT escaping
and folding at 75 octets without splitting a character are its job, not ours.

Apps above api add their own events (handraise: the meetings visitors booked) by registering a
source with `calendar_events_register` in their AppConfig.ready(): api must not import them
(docs/architecture.md), as leads/dependents.py does for rescoring.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import icalendar
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from accounts.models import User
from api import selectors
from leads.models import FollowUp

PRODID = "-//LeadHunter//Follow-ups//EN"
EVENT_LENGTH = timedelta(minutes=15)
REFRESH = timedelta(hours=1)


@dataclass(frozen=True)
class CalendarEvent:
    """An event another app puts on a user's feed; `uid_key` is unique within the feed."""

    uid_key: str
    start: datetime
    end: datetime
    summary: str
    description: str
    url: str
    sequence: int = 0


CalendarEventSource = Callable[[User, datetime], Iterable[CalendarEvent]]
_event_sources: list[CalendarEventSource] = []


def calendar_events_register(source: CalendarEventSource) -> None:
    """Add a source of events to every user's feed: called with (user, now). Once each."""
    if source not in _event_sources:
        _event_sources.append(source)


def registered_events(user: User, now: datetime) -> list[CalendarEvent]:
    return [event for source in _event_sources for event in source(user, now)]


@require_safe
@login_not_required
def follow_up_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The feed behind a user's secret link; an unknown or replaced link answers 404."""
    feed = selectors.calendar_feed_for_token(token)
    if feed is None or not feed.user.is_active:
        raise Http404("No such calendar.")
    now = timezone.now()
    follow_ups = selectors.calendar_follow_ups(feed.user, now=now)
    body = follow_ups_ics(
        follow_ups,
        calendar_name=f"LeadHunter: {feed.user}",
        now=now,
        events=registered_events(feed.user, now),
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="leadhunter-follow-ups.ics"'
    # The URL is the credential: keep it out of shared caches and search engines.
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex"
    return response


def follow_ups_ics(
    follow_ups: Iterable[FollowUp],
    *,
    calendar_name: str,
    now: datetime,
    events: Iterable[CalendarEvent] = (),
) -> str:
    """A VCALENDAR with one 15-minute VEVENT per follow-up, and the registered apps' events,
    times in UTC."""
    host = urlsplit(settings.SITE_URL).hostname or "leadhunter"
    calendar = icalendar.Calendar()
    calendar.add("VERSION", "2.0")
    calendar.add("PRODID", PRODID)
    calendar.add("CALSCALE", "GREGORIAN")
    calendar.add("METHOD", "PUBLISH")
    # An X- property has no known type: naming it makes the library escape and write it.
    calendar.add("X-WR-CALNAME", _Text(calendar_name))
    calendar.add("REFRESH-INTERVAL", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("X-PUBLISHED-TTL", icalendar.vDuration(REFRESH))
    for follow_up in follow_ups:
        calendar.add_component(_event(follow_up, host=host, stamp=now.astimezone(UTC)))
    for other in events:
        calendar.add_component(_other_event(other, host=host, stamp=now.astimezone(UTC)))
    # Unsorted: the properties keep the order above, VERSION and PRODID first as apps expect.
    return calendar.to_ical(sorted=False).decode()


def _event(follow_up: FollowUp, *, host: str, stamp: datetime) -> icalendar.Event:
    lead = follow_up.lead
    lead_url = settings.SITE_URL + reverse("lead-detail", args=[lead.pk])
    details = [follow_up.get_kind_display()]
    if lead.company_id:
        details.append(f"Company: {lead.company.name}")
    if follow_up.note:
        details.append(follow_up.note)
    details.append(lead_url)
    event = icalendar.Event()
    event.add("UID", f"follow-up-{follow_up.pk}@{host}")
    event.add("DTSTAMP", stamp)
    event.add("DTSTART", follow_up.due_at.astimezone(UTC))
    event.add("DTEND", (follow_up.due_at + EVENT_LENGTH).astimezone(UTC))
    # A snoozed follow-up is the same event moved: calendar apps update it in place.
    event.add("SEQUENCE", follow_up.snooze_count)
    event.add("SUMMARY", _Text(f"Follow up: {lead}"))
    event.add("DESCRIPTION", _Text("\n".join(details)))
    event.add("URL", lead_url)
    event.add("TRANSP", "TRANSPARENT")
    return event


def _other_event(other: CalendarEvent, *, host: str, stamp: datetime) -> icalendar.Event:
    event = icalendar.Event()
    event.add("UID", f"{other.uid_key}@{host}")
    event.add("DTSTAMP", stamp)
    event.add("DTSTART", other.start.astimezone(UTC))
    event.add("DTEND", other.end.astimezone(UTC))
    event.add("SEQUENCE", other.sequence)
    event.add("SUMMARY", _Text(other.summary))
    event.add("DESCRIPTION", _Text(other.description))
    event.add("URL", other.url)
    # A meeting takes the time: busy, unlike a follow-up.
    event.add("TRANSP", "OPAQUE")
    return event


class _Text(icalendar.vText):
    """A TEXT value (RFC 5545 §3.3.11) escaped as the RFC says. icalendar 7.3's escaper first
    turns a literal backslash-N into a newline ("C:\\New folder" would lose its N), and it
    passes through the control characters TEXT does not allow; this one drops those and maps
    each character once. The library's parser reads it back exactly."""

    def to_ical(self) -> bytes:
        text = str(self).replace("\r\n", "\n").replace("\r", "\n")
        text = "".join(char for char in text if char in "\t\n" or ord(char) >= 0x20)
        text = text.replace("\x7f", "")
        for char, escaped in (("\\", "\\\\"), (";", "\\;"), (",", "\\,"), ("\n", "\\n")):
            text = text.replace(char, escaped)
        return text.encode(self.encoding)
