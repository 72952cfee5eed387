from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from api import services
from api.calendar import follow_ups_ics
from tests.factories import FollowUpFactory, LeadFactory


def feed_url(feed):
    return reverse("calendar-feed", args=[feed.token])


@pytest.mark.django_db
@override_settings(SITE_URL="https://crm.example.com")
def test_the_feed_is_valid_icalendar_of_the_users_pending_follow_ups(
    client, salesperson, other_salesperson
):
    due = (timezone.now() + timedelta(days=10)).replace(hour=9, minute=30, second=0, microsecond=0)
    lead = LeadFactory(owner=salesperson, first_name="Ada", last_name="Lovelace")
    follow_up = FollowUpFactory(lead=lead, due_at=due, note="Send the deck")
    done = FollowUpFactory(lead__owner=salesperson, done_at=timezone.now(), resolution="done")
    FollowUpFactory(lead__owner=other_salesperson)
    feed = services.calendar_feed_regenerate(user=salesperson)

    response = client.get(feed_url(feed))  # no login: the calendar app has only the link

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    body = response.content
    assert body.startswith(b"BEGIN:VCALENDAR\r\n")
    assert body.endswith(b"END:VCALENDAR\r\n")
    calendar = icalendar.Calendar.from_ical(body)
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"]) == "-//LeadHunter//Follow-ups//EN"
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    event = events[0]
    assert str(event["UID"]) == f"follow-up-{follow_up.pk}@crm.example.com"
    assert event.decoded("DTSTART") == due
    assert event.decoded("DTSTAMP").tzinfo is not None
    assert str(event["SUMMARY"]) == "Follow up: Ada Lovelace"
    assert str(event["URL"]) == f"https://crm.example.com/leads/{lead.pk}/"
    assert "Send the deck" in str(event["DESCRIPTION"])
    assert f"DTSTART:{due.astimezone(UTC):%Y%m%dT093000Z}\r\n".encode() in body
    assert f"follow-up-{done.pk}@".encode() not in body


@pytest.mark.django_db
def test_text_is_escaped_and_long_lines_folded(client, salesperson):
    lead = LeadFactory(
        owner=salesperson,
        first_name="Zoë, the; \\ boss",
        last_name="Ünterberger-" + "ł" * 60,
    )
    FollowUpFactory(lead=lead, note="line one\nline two")
    feed = services.calendar_feed_regenerate(user=salesperson)

    body = client.get(feed_url(feed)).content

    for line in body.split(b"\r\n"):
        assert len(line) <= 75
    body.decode("utf-8")  # folding never split a character
    event = icalendar.Calendar.from_ical(body).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == f"Follow up: {lead.full_name}"
    assert "line one\nline two" in str(event["DESCRIPTION"])
    assert b"Zo\xc3\xab\\, the\\; \\\\ boss" in body.replace(b"\r\n ", b"")


def test_folding_counts_octets_and_the_leading_space():
    name = "é" * 100

    body = follow_ups_ics([], calendar_name=name, now=datetime(2030, 1, 1, tzinfo=UTC))

    lines = body.split("\r\n")
    start = next(i for i, line in enumerate(lines) if line.startswith("X-WR-CALNAME:"))
    folded = [lines[start]]
    while lines[start + len(folded)].startswith(" "):
        folded.append(lines[start + len(folded)])
    assert len(folded) > 1
    assert "".join(part.removeprefix(" ") for part in folded) == f"X-WR-CALNAME:{name}"
    assert all(len(part.encode()) <= 75 for part in folded)


@pytest.mark.django_db
@override_settings(SITE_URL="https://crm.example.com")
def test_each_event_parses_back_with_its_fields(client, salesperson):
    now = timezone.now()
    first_due = (now + timedelta(days=2)).replace(microsecond=0)
    second_due = (now + timedelta(days=5)).replace(microsecond=0)
    first = FollowUpFactory(
        lead=LeadFactory(owner=salesperson, first_name="Ada", last_name="Lovelace"),
        due_at=first_due,
        note=r"Copy C:\New folder\notes; then call, twice" + "\x01",
        snooze_count=2,
    )
    second = FollowUpFactory(
        lead=LeadFactory(owner=salesperson, first_name="Grace", last_name="Hopper", company=None),
        due_at=second_due,
        note="",
    )
    feed = services.calendar_feed_regenerate(user=salesperson)

    calendar = icalendar.Calendar.from_ical(client.get(feed_url(feed)).content)

    assert str(calendar["METHOD"]) == "PUBLISH"
    assert str(calendar["X-WR-CALNAME"]) == f"LeadHunter: {salesperson}"
    events = {str(event["UID"]): event for event in calendar.walk("VEVENT")}
    assert set(events) == {
        f"follow-up-{first.pk}@crm.example.com",
        f"follow-up-{second.pk}@crm.example.com",
    }
    for follow_up, due in ((first, first_due), (second, second_due)):
        event = events[f"follow-up-{follow_up.pk}@crm.example.com"]
        lead = follow_up.lead
        lead_url = f"https://crm.example.com/leads/{lead.pk}/"
        assert event.decoded("DTSTART") == due
        assert event.decoded("DTSTART").utcoffset() == timedelta(0)
        assert event.decoded("DTEND") == due + timedelta(minutes=15)
        assert event.decoded("DTSTAMP").utcoffset() == timedelta(0)
        assert event.decoded("SEQUENCE") == follow_up.snooze_count
        assert str(event["SUMMARY"]) == f"Follow up: {lead.full_name}"
        assert str(event["URL"]) == lead_url
        assert str(event["TRANSP"]) == "TRANSPARENT"
        description = [follow_up.get_kind_display()]
        if lead.company_id:
            description.append(f"Company: {lead.company.name}")
        if follow_up.note:
            description.append(follow_up.note.replace("\x01", ""))
        description.append(lead_url)
        assert str(event["DESCRIPTION"]) == "\n".join(description)
    # A literal backslash-N stays itself, and the control character is dropped.
    assert r"C:\New folder\notes; then call, twice" in str(
        events[f"follow-up-{first.pk}@crm.example.com"]["DESCRIPTION"]
    )


def test_an_empty_feed_is_still_a_calendar():
    body = follow_ups_ics([], calendar_name="Empty", now=datetime(2030, 1, 1, tzinfo=UTC))

    calendar = icalendar.Calendar.from_ical(body)
    assert calendar.walk("VEVENT") == []
    assert "DTSTAMP" not in body


@pytest.mark.django_db
def test_regenerating_revokes_the_old_link(client, salesperson):
    old = services.calendar_feed_regenerate(user=salesperson)
    old_url = feed_url(old)
    assert client.get(old_url).status_code == 200

    new = services.calendar_feed_regenerate(user=salesperson)

    assert client.get(old_url).status_code == 404
    assert client.get(feed_url(new)).status_code == 200
    assert new.pk == old.pk
    assert new.token not in old_url


@pytest.mark.django_db
def test_turning_the_feed_off_ends_the_link(client, salesperson):
    url = feed_url(services.calendar_feed_regenerate(user=salesperson))

    services.calendar_feed_delete(user=salesperson)

    assert client.get(url).status_code == 404


@pytest.mark.django_db
def test_an_unknown_token_is_404(client):
    assert client.get("/calendar/not-a-real-token.ics").status_code == 404


@pytest.mark.django_db
def test_the_feed_is_only_read(client, salesperson):
    url = feed_url(services.calendar_feed_regenerate(user=salesperson))

    assert client.post(url).status_code == 405


@pytest.mark.django_db
def test_follow_ups_beyond_a_year_are_left_out(client, salesperson):
    FollowUpFactory(lead__owner=salesperson, due_at=timezone.now() + timedelta(days=400))
    feed = services.calendar_feed_regenerate(user=salesperson)

    assert icalendar.Calendar.from_ical(client.get(feed_url(feed)).content).walk("VEVENT") == []


@pytest.mark.django_db
def test_a_managers_feed_has_only_their_own_follow_ups(client, manager, salesperson):
    FollowUpFactory(lead__owner=salesperson)
    own = FollowUpFactory(lead__owner=manager, due_at=timezone.now() + timedelta(days=1))
    feed = services.calendar_feed_regenerate(user=manager)

    events = icalendar.Calendar.from_ical(client.get(feed_url(feed)).content).walk("VEVENT")

    assert [str(event["UID"]).split("@")[0] for event in events] == [f"follow-up-{own.pk}"]
