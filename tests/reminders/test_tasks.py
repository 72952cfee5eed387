from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from reminders.models import Reminder, ReminderKind, ReminderStatus
from reminders.tasks import run_reminders
from tests.factories import ReferralSourceFactory, UserFactory
from tests.waiting import wait_for


@pytest.mark.django_db
def test_run_reminders_plans_then_sends(salesperson, time_machine, mailoutbox):
    from tests.reminders.conftest import MONDAY_9_LONDON

    time_machine.move_to(MONDAY_9_LONDON, tick=False)
    ReferralSourceFactory(owner=salesperson, next_ask_at=MONDAY_9_LONDON)

    summary = run_reminders.apply().get()

    assert summary["sent"] == 1
    assert len(mailoutbox) == 1


@pytest.mark.worker
def test_a_real_worker_sends_the_reminder_through_the_broker(celery_worker, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    # The real clock: a row due now, in the period the planner would give it, so planning
    # (which may or may not run for this user today) cannot add a second one.
    user = UserFactory(username="worker-rep", time_zone="UTC", daily_digest_email=False)
    now = timezone.now()
    year, week, _ = now.date().isocalendar()
    ReferralSourceFactory(owner=user, name="Dana Smith", next_ask_at=now - timedelta(days=1))
    reminder = Reminder.objects.create(
        user=user,
        kind=ReminderKind.WEEKLY_REFERRALS,
        period=f"{year}-W{week:02d}",
        due_at=now,
        next_attempt_at=now,
    )

    run_reminders.delay()

    def sent() -> bool:
        reminder.refresh_from_db()
        return reminder.status == ReminderStatus.SENT

    assert wait_for(sent)
    assert wait_for(lambda: len(mail.outbox) == 1)
    [email] = mail.outbox
    assert email.to == ["worker-rep@example.com"]
    assert "Dana Smith" in email.body
