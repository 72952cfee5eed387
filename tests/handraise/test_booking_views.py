"""Booking through the pages: the salesperson's settings, the slot picker in the visitor's zone,
the booking form, "just taken", the cancel link's page, and two real requests racing."""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from handraise import selectors
from handraise.forms import form_started_stamp
from handraise.models import Booking, HandRaise
from handraise.services import public_page_booking_update
from leads.models import FollowUp

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture(autouse=True)
def quick_forms(settings):
    settings.HAND_RAISE_MIN_FILL_SECONDS = 0


@pytest.fixture
def booking_page(public_page, salesperson):
    salesperson.time_zone = "Europe/Berlin"
    salesperson.save()
    return public_page_booking_update(
        page=public_page,
        booking_enabled=True,
        booking_hours=[["09:00", "17:00"]] * 7,
        meeting_minutes=30,
        buffer_minutes=0,
        booking_days_ahead=7,
        booking_notice_hours=1,
    )


def first_slot(public_page):
    return selectors.free_slots_of(public_page, now=timezone.now())[0]


def slot_value(start):
    return start.strftime("%Y-%m-%dT%H:%MZ")


def booking_post(public_page, start, **fields):
    return {
        "start": slot_value(start),
        "tz": "America/New_York",
        "name": "Dana Visitor",
        "email": "dana@visitor.example",
        "company": "Visitor Ltd",
        "message": "Show me the pipeline",
        "consent": "on",
        "website": "",
        "started": form_started_stamp(public_page.token, now=time.time() - 10),
        **fields,
    }


def test_the_salesperson_turns_booking_on_and_sets_hours(client, salesperson, public_page):
    client.force_login(salesperson)
    response = client.get(reverse("public-page-settings"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="day0_start"' in html
    assert 'value="09:00"' in html  # Monday's default
    data = {
        "booking_enabled": "on",
        "meeting_minutes": "45",
        "buffer_minutes": "15",
        "booking_days_ahead": "10",
        "booking_notice_hours": "4",
        "day0_start": "08:30",
        "day0_end": "12:00",
        "day2_start": "13:00",
        "day2_end": "18:00",
    }
    response = client.post(reverse("public-page-booking-settings"), data)
    assert response.status_code == 302
    public_page.refresh_from_db()
    assert public_page.booking_enabled
    assert public_page.booking_hours == [
        ["08:30", "12:00"],
        None,
        ["13:00", "18:00"],
        None,
        None,
        None,
        None,
    ]
    assert (public_page.meeting_minutes, public_page.buffer_minutes) == (45, 15)
    assert (public_page.booking_days_ahead, public_page.booking_notice_hours) == (10, 4)

    response = client.post(reverse("public-page-booking-settings"), {**data, "day1_start": "10:00"})
    assert response.status_code == 422
    assert "Tuesday: give both times, or neither." in response.content.decode()


def test_the_slots_show_in_the_zone_asked_for_else_the_owners(client, booking_page):
    start = first_slot(booking_page)
    page_url = reverse("public-page", args=[booking_page.token])

    html = client.get(page_url).content.decode()  # no JavaScript: the owner's zone
    assert '<option value="Europe/Berlin" selected>' in html
    assert f">{start.astimezone(BERLIN):%H:%M}</a>" in html
    assert f"start={urllib.parse.quote(slot_value(start))}&amp;tz=Europe/Berlin" in html

    html = client.get(page_url, {"tz": "America/New_York"}).content.decode()
    assert '<option value="America/New_York" selected>' in html
    assert f">{start.astimezone(NEW_YORK):%H:%M}</a>" in html
    assert "tz=America/New_York" in html
    assert "data-zone-asked" in html

    # A made-up zone falls back to the owner's.
    html = client.get(page_url, {"tz": "Mars/Olympus"}).content.decode()
    assert '<option value="Europe/Berlin" selected>' in html


def test_booking_a_slot_lands_and_shows_the_confirmation(client, booking_page, salesperson):
    start = first_slot(booking_page)
    book_url = reverse("booking-new", args=[booking_page.token])
    response = client.get(book_url, {"start": slot_value(start), "tz": "America/New_York"})
    assert response.status_code == 200
    assert f"{start.astimezone(NEW_YORK):%H:%M}" in response.content.decode()

    response = client.post(book_url, booking_post(booking_page, start))

    booking = Booking.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("booking-confirmed", args=[booking.cancel_token])
    assert booking.starts_at == start
    assert booking.visitor_time_zone == "America/New_York"
    assert booking.hand_raise.kind == "booked_meeting"
    html = client.get(response["Location"]).content.decode()
    assert "You're booked" in html
    assert f"{start.astimezone(NEW_YORK):%H:%M}" in html
    # The slot is no longer offered.
    page_html = client.get(reverse("public-page", args=[booking_page.token])).content.decode()
    assert slot_value(start) not in page_html


def test_a_slot_taken_meanwhile_sends_the_visitor_back_to_pick_another(client, booking_page):
    start = first_slot(booking_page)
    book_url = reverse("booking-new", args=[booking_page.token])
    assert client.post(book_url, booking_post(booking_page, start)).status_code == 302

    response = client.post(
        book_url, booking_post(booking_page, start, email="eve@other.example", name="Eve")
    )

    assert response.status_code == 409
    html = response.content.decode()
    assert "That time was just taken, pick another." in html
    assert 'class="booking-slot"' in html
    assert HandRaise.objects.count() == 1


def test_the_cancel_link_shows_what_is_stored_and_cancels_and_asks_for_erasure(
    client, booking_page, salesperson
):
    start = first_slot(booking_page)
    client.post(
        reverse("booking-new", args=[booking_page.token]), booking_post(booking_page, start)
    )
    booking = Booking.objects.get()
    manage_url = reverse("booking-manage", args=[booking.cancel_token])

    html = client.get(manage_url).content.decode()
    for stored in ("Dana Visitor", "dana@visitor.example", "Visitor Ltd", "Show me the pipeline"):
        assert stored in html
    assert booking.hand_raise.consent_text in html
    assert "America/New_York" in html
    # The meeting in the visitor's own time, as the page's heading, and the stored UTC value.
    in_new_york = start.astimezone(ZoneInfo("America/New_York"))
    assert f"{in_new_york:%a %-d %b %Y, %H:%M}" in html
    assert f"stored as {start:%Y-%m-%d %H:%M} UTC" in html
    assert client.get(reverse("booking-manage", args=["not-the-token"])).status_code == 404

    response = client.post(reverse("booking-cancel", args=[booking.cancel_token]))
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.is_cancelled
    assert "Your meeting is cancelled." in client.get(manage_url).content.decode()

    client.post(reverse("booking-erase", args=[booking.cancel_token]))
    follow_up = FollowUp.objects.get(lead=booking.hand_raise.lead, done_at__isnull=True)
    assert follow_up.note.startswith("Erasure requested by Dana Visitor")
    assert "You asked for your data to be erased" in client.get(manage_url).content.decode()


def test_the_manage_page_posts_need_the_csrf_token(booking_page):
    booking = Booking.objects.create(
        page=booking_page,
        owner=booking_page.owner,
        starts_at=first_slot(booking_page),
        ends_at=first_slot(booking_page) + timedelta(minutes=30),
        created_at=timezone.now(),
    )
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(reverse("booking-cancel", args=[booking.cancel_token]))
    assert response.status_code == 403


@pytest.mark.django_db(transaction=True)
def test_two_real_requests_racing_for_one_slot_exactly_one_books_it(live_server, booking_page):
    start = first_slot(booking_page)
    book_url = live_server.url + reverse("booking-new", args=[booking_page.token])
    barrier = threading.Barrier(2)
    statuses: dict[str, object] = {}

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)

    def visitor(name: str) -> None:
        body = urllib.parse.urlencode(
            booking_post(booking_page, start, name=name, email=f"{name.lower()}@race.example")
        ).encode()
        barrier.wait()
        try:
            with opener.open(book_url, data=body, timeout=60) as response:
                statuses[name] = (response.status, "")
        except urllib.error.HTTPError as error:
            statuses[name] = (error.code, error.read().decode())

    threads = [threading.Thread(target=visitor, args=(name,)) for name in ("Ann", "Ben")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)

    codes = sorted(code for code, _html in statuses.values())
    assert codes == [302, 409], statuses
    [loser_html] = [html for code, html in statuses.values() if code == 409]
    assert "That time was just taken, pick another." in loser_html
    assert Booking.objects.filter(starts_at=start, cancelled_at__isnull=True).count() == 1
    assert HandRaise.objects.count() == 1
