"""Celery tasks for capturing emails: thin wrappers around emails.mailboxes."""

from __future__ import annotations

from celery import shared_task

from emails import mailboxes
from emails.capture_models import Mailbox

POLL_MAILBOXES = "emails.tasks.poll_mailboxes"


@shared_task(name=POLL_MAILBOXES, soft_time_limit=50, time_limit=60)
def poll_mailboxes() -> int:
    """Beat, every minute: one task per mailbox that is not waiting out a backoff.

    A message of its own per mailbox, so one slow server does not hold up the others.
    """
    due = mailboxes.mailboxes_due()
    for mailbox in due:
        poll_mailbox.delay(mailbox.pk)
    return len(due)


# Under the mailbox lock's LOCK_SECONDS, so a lock only outlives a run whose worker died.
@shared_task(name="emails.tasks.poll_mailbox", soft_time_limit=240, time_limit=300)
def poll_mailbox(mailbox_id: int) -> dict[str, int | str]:
    """Read one mailbox's new messages. Safe to run twice: the lock lets one run at a time,
    and the folder's last UID and the unique constraints decide what is logged."""
    mailbox = Mailbox.objects.select_related("owner").filter(pk=mailbox_id).first()
    if mailbox is None:  # disconnected since it was queued
        return {"messages": 0}
    result = mailboxes.mailbox_poll(mailbox=mailbox)
    return {"messages": result.messages, "logged": result.logged, "error": result.error}
