from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from reminders.models import EmailLinkUse, Reminder, ReminderKind, ReminderStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def failed_reminder(salesperson):
    due = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    return Reminder.objects.create(
        user=salesperson,
        kind=ReminderKind.WEEKLY_REFERRALS,
        period="2026-W49",
        due_at=due,
        next_attempt_at=due,
        status=ReminderStatus.FAILED,
        attempts=1,
        last_error="SMTPRecipientsRefused: {'sam@example.com': (550, b'No such user')}" * 3,
    )


def test_a_manager_sees_failed_sends(client_of, manager, failed_reminder):
    response = client_of(manager).get(
        reverse("admin:reminders_reminder_changelist"), {"status__exact": "failed"}
    )

    assert response.status_code == 200
    assert "2026-W49" in response.text
    assert "SMTPRecipientsRefused" in response.text
    assert "…" in response.text  # the long error is cut short in the list


def test_reminders_and_link_uses_are_read_only(client_of, manager, failed_reminder):
    client = client_of(manager)
    EmailLinkUse.objects.create(key="abc", user=manager, action="follow_up_done")

    detail = client.get(reverse("admin:reminders_reminder_change", args=[failed_reminder.pk]))
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.text
    assert client.get(reverse("admin:reminders_reminder_add")).status_code == 403
    assert client.get(reverse("admin:reminders_emaillinkuse_changelist")).status_code == 200
    assert client.get(reverse("admin:reminders_emaillinkuse_add")).status_code == 403
