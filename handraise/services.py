"""Writes of the public page and of every hand-raise that lands through it.

A hand-raise lands in one transaction (`hand_raise_land`):
1. the page row is locked, so two submissions from one visitor at once find one lead;
2. the owner's lead with the visitor's email (normalised as leads are) is found, or a new lead
   is created: source Hand-raiser, stage Engaged;
3. the signal ("Asked for info", "Booked a meeting") is logged on it through leads' own
   activity_log, so the cadence, the stage and the intent score move as for any hand-raise;
4. a "Respond to hand-raise" follow-up due now is left pending (as early as one already was), and
   the lead is rescored at once, so Today shows it first on its next load;
5. a HandRaise row keeps what was sent, the consent text, the IP and the browser; it is also the
   outbox row of the email that tells the salesperson, sent after commit (handraise/notify.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from handraise import booking_emails, notify, selectors, slots
from handraise.models import (
    HAND_RAISE_KIND_CHOICES,
    Booking,
    BookingEmailPurpose,
    Channel,
    HandRaise,
    PublicPage,
    new_page_token,
)
from icp.rescoring import leads_rescore_now
from leads.models import ActivityKind, FollowUpKind, Lead, Source, Stage
from leads.normalize import normalize_email
from leads.services import NextStep, activity_log, follow_up_schedule, lead_create

# The follow-up's note is what Today shows beside the row: the start of the visitor's message.
NOTE_MAX_LENGTH = 200
MAX_EMBED_ORIGINS = 20


# --- The page ------------------------------------------------------------------------------


def public_page_for(*, owner: User) -> PublicPage:
    """The salesperson's public page, created (with a fresh token) the first time it is asked."""
    page, _created = PublicPage.objects.get_or_create(owner=owner)
    return page


@transaction.atomic
def public_page_update(
    *, page: PublicPage, intro: str, embed_origins: str, booking_enabled: bool | None = None
) -> PublicPage:
    """Save what the salesperson writes on their page and which sites may embed its form."""
    page = PublicPage.objects.select_for_update().get(pk=page.pk)
    page.intro = intro.strip()
    page.embed_origins = "\n".join(embed_origins_clean(embed_origins))
    if booking_enabled is not None:
        page.booking_enabled = booking_enabled
    page.full_clean()
    page.save()
    return page


@transaction.atomic
def public_page_booking_update(
    *,
    page: PublicPage,
    booking_enabled: bool,
    booking_hours: list[list[str] | None],
    meeting_minutes: int,
    buffer_minutes: int,
    booking_days_ahead: int,
    booking_notice_hours: int,
) -> PublicPage:
    """Save when the salesperson can be booked (in their own time zone) and turn booking on/off."""
    try:
        slots.parse_hours(booking_hours)
    except (TypeError, ValueError) as error:
        raise ValidationError({"booking_hours": str(error)}) from error
    page = PublicPage.objects.select_for_update().get(pk=page.pk)
    page.booking_enabled = booking_enabled
    page.booking_hours = booking_hours
    page.meeting_minutes = meeting_minutes
    page.buffer_minutes = buffer_minutes
    page.booking_days_ahead = booking_days_ahead
    page.booking_notice_hours = booking_notice_hours
    page.full_clean()
    page.save()
    return page


@transaction.atomic
def public_page_regenerate_token(*, page: PublicPage) -> PublicPage:
    """Give the page a new address; the old one stops answering at once."""
    page = PublicPage.objects.select_for_update().get(pk=page.pk)
    page.token = new_page_token()
    page.save(update_fields=["token", "updated_at"])
    return page


def embed_origins_clean(text: str) -> list[str]:
    """The origins typed one per line, each as scheme://host[:port], or a ValidationError.

    They go into a Content-Security-Policy header as they are, so nothing but an http(s)
    origin may pass: no path, no wildcard, no quote, space or semicolon.
    """
    origins: list[str] = []
    for line in text.splitlines():
        typed = line.strip().rstrip("/")
        if not typed:
            continue
        origin = _origin_of(typed)
        if origin is None:
            raise ValidationError(
                {
                    "embed_origins": f"“{typed[:100]}” is not a site address like "
                    "https://www.example.com (scheme, host and any port; no path)."
                }
            )
        if origin not in origins:
            origins.append(origin)
    if len(origins) > MAX_EMBED_ORIGINS:
        raise ValidationError({"embed_origins": f"Name at most {MAX_EMBED_ORIGINS} sites."})
    return origins


def _origin_of(typed: str) -> str | None:
    if any(char in typed for char in " \t'\";,*\\") or len(typed) > 200:
        return None
    try:
        parts = urlsplit(typed)
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host or parts.path or parts.query:
        return None
    if parts.fragment or parts.username or parts.password:
        return None
    if not all(char.isalnum() or char in ".-[]:" for char in host):
        return None
    if ":" in host:
        host = f"[{host}]"  # an IPv6 address
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


# --- Landing a hand-raise ------------------------------------------------------------------


@transaction.atomic
def hand_raise_land(
    *,
    page: PublicPage,
    name: str,
    email: str,
    company: str = "",
    message: str = "",
    phone: str = "",
    kind: str,
    consent_text: str,
    ip: str,
    user_agent: str = "",
    channel: str = Channel.PAGE,
    note_prefix: str = "",
    now: datetime | None = None,
) -> HandRaise:
    """Land one submission or booking as a hand-raise on the page owner's leads.

    Matched by email to the owner's lead (never a duplicate), else a new Hand-raiser lead in
    Engaged; the signal `kind` is logged on it, a "Respond to hand-raise" follow-up is due now
    (its note, shown on Today, is `note_prefix` and the start of the message), the lead is
    rescored, and the email to the owner is queued for after commit.
    """
    now = now or timezone.now()
    if kind not in dict(HAND_RAISE_KIND_CHOICES):
        raise ValidationError({"kind": f"Not a hand-raise kind: {kind!r}."})
    # One landing per page at a time: two submissions with one new email find one lead.
    page = PublicPage.objects.select_for_update().select_related("owner").get(pk=page.pk)
    owner = page.owner
    email = normalize_email(email)
    name = " ".join(name.split())
    hand_raise = HandRaise(
        page=page,
        kind=kind,
        channel=channel,
        name=name,
        email=email,
        company=company.strip(),
        phone=phone.strip(),
        message=message.strip(),
        consent_text=consent_text.strip(),
        ip=ip or None,
        user_agent=user_agent[:300],
        created_at=now,
        notify_next_attempt_at=now,
    )
    # Validated before anything is written: a bad address must not leave a half-landed lead.
    hand_raise.full_clean(exclude=["activity"])

    lead = Lead.objects.filter(owner=owner, email=email).first() if email else None
    if lead is None:
        hand_raise.created_lead = True
        lead = _lead_for(hand_raise, owner=owner, now=now)
    # Answering stays due from the first unanswered message: a second one before the answer
    # must not push it later.
    waiting = lead.follow_ups.filter(
        done_at__isnull=True, kind=FollowUpKind.RESPOND, due_at__lte=now
    ).first()
    activity = activity_log(
        lead=lead,
        user=owner,
        kind=kind,
        occurred_at=now,
        text=_activity_text(hand_raise),
        next_step=NextStep(
            kind=FollowUpKind.RESPOND,
            due_at=waiting.due_at if waiting else now,
            note=_note(hand_raise, prefix=note_prefix),
        ),
        now=now,
    )
    leads_rescore_now(owner_id=owner.pk, lead_ids=[lead.pk], now=now)
    hand_raise.activity = activity
    hand_raise.save()
    notify.hand_raise_notify_after_commit(hand_raise.pk)
    return hand_raise


def _lead_for(hand_raise: HandRaise, *, owner: User, now: datetime) -> Lead:
    first_name, _, last_name = hand_raise.name.partition(" ")
    return lead_create(
        owner=owner,
        created_by=owner,
        stage=Stage.ENGAGED,
        now=now,
        first_name=first_name[:100],
        last_name=last_name[:100],
        email=hand_raise.email,
        phone=hand_raise.phone,
        company_name=hand_raise.company[:200],
        source=Source.HAND_RAISER,
        source_detail=Channel(hand_raise.channel).label,
    )


def _activity_text(hand_raise: HandRaise) -> str:
    lines = [hand_raise.message] if hand_raise.message else []
    details = [
        f"{label}: {value}"
        for label, value in (("Company", hand_raise.company), ("Phone", hand_raise.phone))
        if value
    ]
    if details:
        lines.append(" · ".join(details))
    lines.append(f"Sent from your {Channel(hand_raise.channel).label.lower()}.")
    return "\n\n".join(lines)


def _note(hand_raise: HandRaise, *, prefix: str = "") -> str:
    text = " ".join(hand_raise.message.split())
    if prefix:
        text = f"{prefix}: {text}" if text else prefix
    if len(text) > NOTE_MAX_LENGTH:
        text = text[: NOTE_MAX_LENGTH - 1].rstrip() + "…"
    return text


# --- Bookings ------------------------------------------------------------------------------


class SlotTaken(ValidationError):
    """The slot is no longer free: another visitor took it first, or it went out of range."""

    def __init__(self) -> None:
        super().__init__("That time was just taken, pick another.", code="slot_taken")


@transaction.atomic
def booking_create(
    *,
    page: PublicPage,
    starts_at: datetime,
    visitor_time_zone: str,
    name: str,
    email: str,
    company: str = "",
    message: str = "",
    consent_text: str,
    ip: str,
    user_agent: str = "",
    now: datetime | None = None,
) -> Booking:
    """Book one of the page's free slots and land it as a "Booked a meeting" hand-raise.

    One transaction: the booking row first (the partial unique constraint on owner + start is
    what lets exactly one of two racing visitors through; the loser waits for the winner's
    commit, then fails here and writes nothing), then the hand-raise through `hand_raise_land`,
    then the visitor's invite in the outbox. The salesperson's invite rides on the hand-raise
    email. Raises SlotTaken when the slot is not (or no longer) free.
    """
    now = now or timezone.now()
    page = PublicPage.objects.select_related("owner").get(pk=page.pk)
    if not page.booking_enabled:
        raise ValidationError("This page does not take bookings.")
    if not selectors.slot_is_free(page, start=starts_at, now=now):
        raise SlotTaken
    booking = Booking(
        page=page,
        owner=page.owner,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=page.meeting_minutes),
        visitor_time_zone=visitor_time_zone,
        created_at=now,
    )
    try:
        with transaction.atomic():
            booking.save()
    except IntegrityError as error:
        raise SlotTaken from error
    hand_raise = hand_raise_land(
        page=page,
        name=name,
        email=email,
        company=company,
        message=message,
        kind=ActivityKind.BOOKED_MEETING,
        consent_text=consent_text,
        ip=ip,
        user_agent=user_agent,
        channel=Channel.BOOKING,
        note_prefix=f"Booked a meeting for {_owner_time(starts_at, page.owner)}",
        now=now,
    )
    booking.hand_raise = hand_raise
    booking.save(update_fields=["hand_raise"])
    booking_emails.booking_email_plan(
        booking=booking, purpose=BookingEmailPurpose.VISITOR_INVITE, now=now
    )
    return booking


def _owner_time(moment: datetime, owner: User) -> str:
    local = moment.astimezone(owner.zone)
    return f"{local:%a} {local.day} {local:%b, %H:%M}"


@transaction.atomic
def booking_cancel(*, booking: Booking, now: datetime | None = None) -> Booking:
    """The visitor cancels: the slot is free again, and both sides get a cancellation
    (METHOD:CANCEL, the invite's next SEQUENCE) that takes it out of their calendars.
    Cancelling twice does nothing more."""
    now = now or timezone.now()
    booking = Booking.objects.select_for_update().get(pk=booking.pk)
    if booking.cancelled_at is not None:
        return booking
    booking.cancelled_at = now
    booking.sequence += 1
    booking.save(update_fields=["cancelled_at", "sequence"])
    for purpose in (BookingEmailPurpose.OWNER_CANCEL, BookingEmailPurpose.VISITOR_CANCEL):
        booking_emails.booking_email_plan(booking=booking, purpose=purpose, now=now)
    _note_cancellation_on_the_lead(booking, now=now)
    return booking


def _note_cancellation_on_the_lead(booking: Booking, *, now: datetime) -> None:
    """The lead's timeline says the meeting it shows as booked was cancelled (a note: it moves
    no follow-up; the salesperson decides what to do next)."""
    activity = booking.hand_raise.activity if booking.hand_raise is not None else None
    if activity is None:
        return
    owner = booking.owner
    starts = timezone.localtime(booking.starts_at, owner.zone)
    activity_log(
        lead=activity.lead,
        user=owner,
        kind=ActivityKind.NOTE,
        occurred_at=now,
        text=f"The meeting booked for {starts:%a} {starts.day} {starts:%b %Y, %H:%M} "
        "was cancelled by the visitor.",
        now=now,
    )


@transaction.atomic
def booking_request_erasure(*, booking: Booking, now: datetime | None = None) -> Booking:
    """The visitor asks for their data to be erased: a follow-up due now on their lead, so it
    is on the owner's Today, pointing at the lead's Erase page. Asked twice, planned once."""
    now = now or timezone.now()
    booking = (
        Booking.objects.select_for_update(of=("self",))
        .select_related("owner", "hand_raise__activity__lead")
        .get(pk=booking.pk)
    )
    if booking.erasure_requested_at is not None or booking.hand_raise is None:
        return booking
    hand_raise = booking.hand_raise
    follow_up_schedule(
        lead=hand_raise.activity.lead,
        user=booking.owner,
        due_at=now,
        kind=FollowUpKind.CUSTOM,
        note=f"Erasure requested by {hand_raise.name[:80]} <{hand_raise.email[:80]}>: "
        "erase this lead (Erase on the lead page)",
    )
    booking.erasure_requested_at = now
    booking.save(update_fields=["erasure_requested_at"])
    return booking
