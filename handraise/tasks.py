"""Celery tasks of the hand-raises: thin, idempotent (the row's claim decides)."""

from __future__ import annotations

from celery import shared_task

from handraise import booking_emails, notify


@shared_task(name="handraise.tasks.send_hand_raise_email", soft_time_limit=60, time_limit=90)
def send_hand_raise_email(hand_raise_id: int) -> str:
    """Right after a hand-raise lands: tell the salesperson. A second delivery does nothing."""
    return notify.hand_raise_notify_send(hand_raise_id=hand_raise_id)


@shared_task(name="handraise.tasks.send_due_hand_raise_emails", soft_time_limit=240, time_limit=300)
def send_due_hand_raise_emails() -> int:
    """Beat, every minute: send what the broker lost or what is due for a retry (the
    hand-raise emails and the booking emails)."""
    return notify.hand_raises_notify_due() + booking_emails.booking_emails_send_due()


@shared_task(name="handraise.tasks.send_booking_email", soft_time_limit=60, time_limit=90)
def send_booking_email(email_id: int) -> str:
    """After a booking or a cancellation commits: its email. A second delivery does nothing."""
    return booking_emails.booking_email_send(email_id=email_id)
