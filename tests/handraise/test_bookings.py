"""Booking a meeting on a public page: the slot held by the database, the hand-raise it lands
as, the invites, the cancel link's page, and the salesperson's iCal feed."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from api import services as api_services
from handraise import booking_emails, selectors, tasks
from handraise.models import (
    Booking,
    BookingEmail,
    BookingEmailPurpose,
    Channel,
    HandRaise,
    NotifyStatus,
)
from handraise.notify import hand_raise_email
from handraise.services import (
    SlotTaken,
    booking_cancel,
    booking_create,
    booking_request_erasure,
    public_page_booking_update,
)
from leads.models import ActivityKind, FollowUp, FollowUpKind, Lead
from leads.selectors import today_queue
from leads.services import activity_log
from privacy.services import lead_erase
from tests.factories import LeadFactory

# Tuesday 1 December 2026, 07:00 UTC = 08:00 in Berlin.
NOW = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
# Wednesday 2 December, 10:00 in Berlin.
SLOT = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
CONSENT = "I agree that Sam may contact me about this request."


@pytest.fixture
def booking_page(public_page, salesperson):
    salesperson.time_zone = "Europe/Berlin"
    salesperson.save()
    return public_page_booking_update(
        page=public_page,
        booking_enabled=True,
        booking_hours=[["09:00", "17:00"]] * 5 + [None, None],
        meeting_minutes=30,
        buffer_minutes=0,
        booking_days_ahead=14,
        booking_notice_hours=2,
    )


def book(public_page, *, start=SLOT, now=NOW, **fields):
    values = {
        "visitor_time_zone": "America/New_York",
        "name": "Dana Visitor",
        "email": "dana@visitor.example",
        "company": "Visitor Ltd",
        "message": "Show me the pipeline view",
        "consent_text": CONSENT,
        "ip": "203.0.113.9",
        "user_agent": "Mozilla/5.0 (test)",
    }
    return booking_create(page=public_page, starts_at=start, now=now, **{**values, **fields})


def test_the_settings_are_kept_and_bad_hours_refused(booking_page):
    assert booking_page.booking_enabled
    assert booking_page.booking_hours[0] == ["09:00", "17:00"]
    assert booking_page.booking_hours[5] is None
    with pytest.raises(ValidationError):
        public_page_booking_update(
            page=booking_page,
            booking_enabled=True,
            booking_hours=[["17:00", "09:00"]] * 7,
            meeting_minutes=30,
            buffer_minutes=0,
            booking_days_ahead=14,
            booking_notice_hours=2,
        )
    with pytest.raises(ValidationError):
        public_page_booking_update(
            page=booking_page,
            booking_enabled=True,
            booking_hours=[None] * 7,
            meeting_minutes=5,  # shorter than 10 minutes
            buffer_minutes=0,
            booking_days_ahead=14,
            booking_notice_hours=2,
        )


def test_a_booking_lands_as_a_booked_meeting_and_takes_its_slot(booking_page, salesperson):
    assert SLOT in selectors.free_slots_of(booking_page, now=NOW)

    booking = book(booking_page)

    hand_raise = booking.hand_raise
    assert hand_raise.kind == ActivityKind.BOOKED_MEETING
    assert hand_raise.channel == Channel.BOOKING
    assert hand_raise.activity.kind == ActivityKind.BOOKED_MEETING
    lead = Lead.objects.get(owner=salesperson)
    assert lead.email == "dana@visitor.example"
    assert (booking.starts_at, booking.ends_at) == (SLOT, SLOT + timedelta(minutes=30))
    assert booking.owner == salesperson
    assert len(booking.cancel_token) >= 40
    assert SLOT not in selectors.free_slots_of(booking_page, now=NOW)
    # The visitor's invite is planned in the same transaction.
    assert BookingEmail.objects.get(booking=booking).purpose == BookingEmailPurpose.VISITOR_INVITE
    # Today: the hand-raise "Booked a meeting" is at the top.
    top = today_queue(salesperson, now=NOW).items[0]
    assert top.lead == lead
    assert top.kind == "hand_raiser"
    # What Today shows beside it: the meeting, in Sam's zone, then the message.
    assert top.follow_up.note == "Booked a meeting for Wed 2 Dec, 10:00: Show me the pipeline view"


def test_a_taken_slot_is_refused_without_landing_anything_and_cancelling_frees_it(
    booking_page, salesperson
):
    first = book(booking_page)
    with pytest.raises(SlotTaken, match="just taken, pick another"):
        book(booking_page, email="eve@other.example", name="Eve Other")
    assert not Lead.objects.filter(email="eve@other.example").exists()

    booking_cancel(booking=first, now=NOW)
    first.refresh_from_db()
    assert first.is_cancelled
    assert first.sequence == 1
    lead = first.hand_raise.activity.lead
    note = lead.activities.get(kind=ActivityKind.NOTE)
    starts = timezone.localtime(SLOT, salesperson.zone)
    assert note.text == (
        f"The meeting booked for {starts:%a} {starts.day} {starts:%b %Y, %H:%M} "
        "was cancelled by the visitor."
    )
    assert SLOT in selectors.free_slots_of(booking_page, now=NOW)
    second = book(booking_page, email="eve@other.example", name="Eve Other")
    assert second.starts_at == SLOT
    # Cancelling twice plans one cancellation email to each side, and notes it once.
    booking_cancel(booking=first, now=NOW)
    assert lead.activities.filter(kind=ActivityKind.NOTE).count() == 1
    assert first.emails.filter(purpose=BookingEmailPurpose.OWNER_CANCEL).count() == 1
    assert first.emails.filter(purpose=BookingEmailPurpose.VISITOR_CANCEL).count() == 1


def test_the_database_holds_one_open_booking_per_owner_and_start(booking_page, salesperson):
    book(booking_page)
    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.create(
            page=booking_page,
            owner=salesperson,
            starts_at=SLOT,
            ends_at=SLOT + timedelta(minutes=30),
            created_at=NOW,
        )


def test_a_meeting_logged_in_leadhunter_is_not_offered(booking_page, salesperson):
    lead = LeadFactory(owner=salesperson)
    # A meeting on one of Sam's leads tomorrow at 10:00 Berlin (an hour, as assumed), logged
    # the evening before (an activity may be dated up to a day ahead).
    activity_log(
        lead=lead,
        user=salesperson,
        kind=ActivityKind.MEETING,
        occurred_at=SLOT,
        now=SLOT - timedelta(hours=20),
    )
    free = selectors.free_slots_of(booking_page, now=NOW)
    assert SLOT not in free
    assert SLOT + timedelta(minutes=30) not in free
    assert SLOT + timedelta(hours=1) in free
    assert SLOT - timedelta(minutes=30) in free
    with pytest.raises(SlotTaken):
        book(booking_page)


def test_a_time_outside_the_hours_or_the_notice_is_refused(booking_page):
    with pytest.raises(SlotTaken):
        book(booking_page, start=datetime(2026, 12, 5, 9, 0, tzinfo=UTC))  # a Saturday
    with pytest.raises(SlotTaken):
        book(booking_page, start=datetime(2026, 12, 1, 8, 0, tzinfo=UTC))  # 1 hour's notice


def test_two_visitors_racing_for_one_slot_exactly_one_gets_it(transactional_db, booking_page):
    barrier = threading.Barrier(2)
    results: dict[str, str] = {}

    def visitor(name: str) -> None:
        try:
            barrier.wait()
            book(booking_page, name=name, email=f"{name.lower()}@race.example")
            results[name] = "booked"
        except SlotTaken:
            results[name] = "taken"
        except Exception as error:  # a surprise must fail the test, not hang it
            results[name] = repr(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=visitor, args=(name,)) for name in ("Ann", "Ben")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(results.values()) == ["booked", "taken"], results
    assert Booking.objects.filter(starts_at=SLOT, cancelled_at__isnull=True).count() == 1
    # The loser wrote nothing: one lead, one hand-raise.
    assert Lead.objects.count() == 1


def ics_of(message, method):
    [(content, mimetype)] = [
        (content, mimetype)
        for content, mimetype in message.alternatives
        if mimetype.startswith("text/calendar")
    ]
    assert mimetype == f"text/calendar; method={method}"
    calendar = icalendar.Calendar.from_ical(content)
    assert str(calendar["METHOD"]) == method
    [event] = calendar.walk("VEVENT")
    return event


def test_the_visitor_gets_an_invite_with_a_cancel_link_exactly_once(booking_page, salesperson):
    booking = book(booking_page)
    [planned] = booking.emails.all()

    assert booking_emails.booking_email_send(email_id=planned.pk, now=NOW) == NotifyStatus.SENT
    assert booking_emails.booking_email_send(email_id=planned.pk, now=NOW) == "already-claimed"
    assert booking_emails.booking_emails_send_due(now=NOW + timedelta(hours=1)) == 0

    [message] = mail.outbox
    assert message.to == ["dana@visitor.example"]
    manage_url = reverse("booking-manage", args=[booking.cancel_token])
    assert manage_url in message.body
    # In the visitor's own zone: 10:00 Berlin is 04:00 in New York.
    assert "Wednesday 2 December 2026, 04:00 to 04:30 (America/New_York)" in message.body
    event = ics_of(message, "REQUEST")
    assert event.decoded("DTSTART") == SLOT
    assert event.decoded("DTEND") == SLOT + timedelta(minutes=30)
    assert b"DTSTART:20261202T090000Z" in event.to_ical()
    assert str(event["UID"]).startswith(f"booking-{booking.pk}@")
    assert event["SEQUENCE"] == 0
    assert str(event["ORGANIZER"]) == f"mailto:{salesperson.email}"
    assert str(event["ATTENDEE"]) == "mailto:dana@visitor.example"
    assert manage_url in str(event["DESCRIPTION"])
    assert [name for name, _content, _type in message.attachments] == ["invite.ics"]


def test_the_salesperson_gets_the_invite_with_the_hand_raise_email_and_a_cancel_later(
    booking_page, salesperson
):
    booking = book(booking_page)
    message = hand_raise_email(booking.hand_raise)
    assert message.to == [salesperson.email]
    assert "booked a meeting" in message.subject
    assert "Wednesday 2 December 2026, 10:00 to 10:30 (Europe/Berlin)" in message.body
    request = ics_of(message, "REQUEST")
    assert request.decoded("DTSTART") == SLOT

    booking_cancel(booking=booking, now=NOW + timedelta(minutes=5))
    cancel = booking.emails.get(purpose=BookingEmailPurpose.OWNER_CANCEL)
    assert (
        booking_emails.booking_email_send(email_id=cancel.pk, now=NOW + timedelta(minutes=5))
        == "sent"
    )
    [message] = mail.outbox
    assert message.to == [salesperson.email]
    event = ics_of(message, "CANCEL")
    assert str(event["UID"]) == str(request["UID"])
    assert event["SEQUENCE"] == 1
    assert str(event["STATUS"]) == "CANCELLED"

    # The visitor's calendar drops it too.
    visitor_cancel = booking.emails.get(purpose=BookingEmailPurpose.VISITOR_CANCEL)
    later = NOW + timedelta(minutes=5)
    assert booking_emails.booking_email_send(email_id=visitor_cancel.pk, now=later) == "sent"
    message = mail.outbox[-1]
    assert message.to == ["dana@visitor.example"]
    assert "04:00 to 04:30 (America/New_York)" in message.body
    event = ics_of(message, "CANCEL")
    assert str(event["UID"]) == str(request["UID"])
    assert event["SEQUENCE"] == 1


def test_asking_for_erasure_puts_it_on_the_owners_today_once(booking_page, salesperson):
    booking = book(booking_page)
    later = NOW + timedelta(minutes=10)
    booking_request_erasure(booking=booking, now=later)
    booking_request_erasure(booking=booking, now=later + timedelta(minutes=1))

    lead = booking.hand_raise.lead
    pending = FollowUp.objects.get(lead=lead, done_at__isnull=True)
    assert pending.kind == FollowUpKind.CUSTOM
    assert pending.due_at == later
    assert pending.note.startswith("Erasure requested by Dana Visitor <dana@visitor.example>")
    booking.refresh_from_db()
    assert booking.erasure_requested_at == later
    assert any(item.lead == lead for item in today_queue(salesperson, now=later).items)


def test_the_booking_is_on_the_salespersons_ical_feed_until_cancelled(
    client, booking_page, salesperson
):
    booking = book(booking_page)
    feed = api_services.calendar_feed_regenerate(user=salesperson)

    response = client.get(reverse("calendar-feed", args=[feed.token]))

    calendar = icalendar.Calendar.from_ical(response.content)
    [event] = [e for e in calendar.walk("VEVENT") if str(e["UID"]).startswith("booking-")]
    assert str(event["UID"]).startswith(f"booking-{booking.pk}@")
    assert event.decoded("DTSTART") == SLOT
    assert event.decoded("DTEND") == SLOT + timedelta(minutes=30)
    assert str(event["SUMMARY"]) == "Meeting: Dana Visitor"
    assert str(event["TRANSP"]) == "OPAQUE"

    booking_cancel(booking=booking, now=NOW)
    response = client.get(reverse("calendar-feed", args=[feed.token]))
    assert b"booking-" not in response.content


def test_erasing_the_lead_erases_the_booking_and_frees_its_slot(booking_page, salesperson):
    booking = book(booking_page)
    lead = booking.hand_raise.lead
    lead_erase(lead=lead, by=salesperson)

    assert not Booking.objects.filter(pk=booking.pk).exists()
    assert not BookingEmail.objects.exists()
    assert SLOT in selectors.free_slots_of(booking_page, now=NOW)


def test_a_manager_reads_bookings_in_the_admin_without_the_cancel_token(
    client, booking_page, manager
):
    booking = book(booking_page)
    client.force_login(manager)

    listing = client.get(reverse("admin:handraise_booking_changelist"))
    detail = client.get(reverse("admin:handraise_booking_change", args=[booking.pk]))

    assert listing.status_code == 200
    assert "Dana Visitor" in listing.content.decode()
    assert detail.status_code == 200
    assert booking.cancel_token not in detail.content.decode()
    assert (
        client.post(reverse("admin:handraise_booking_delete", args=[booking.pk])).status_code == 403
    )


def test_the_minute_sweep_sends_a_booking_email_the_broker_lost(booking_page):
    book(booking_page)
    # The hand-raise email is already out; only the visitor's invite is left, its task lost.
    HandRaise.objects.update(notify_status=NotifyStatus.SENT)

    assert tasks.send_due_hand_raise_emails() == 1
    [message] = mail.outbox
    assert message.to == ["dana@visitor.example"]
    assert tasks.send_due_hand_raise_emails() == 0
