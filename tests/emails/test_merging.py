from __future__ import annotations

from datetime import UTC, datetime

import pytest

from emails.models import Email, EmailSource
from emails.services import EmailFacts, email_log
from leads.models import Direction
from leads.services.merging import lead_merge, lead_merge_undo
from tests.factories import LeadFactory


def log(owner, lead, message_id):
    return email_log(
        owner=owner,
        lead=lead,
        facts=EmailFacts(
            message_id=message_id,
            direction=Direction.OUTBOUND,
            source=EmailSource.CAPTURE,
            from_address="sam@seller.example",
            sent_at=datetime(2026, 12, 1, 10, 0, tzinfo=UTC),
            subject=message_id,
        ),
    )


@pytest.mark.django_db
def test_a_merged_duplicates_emails_move_to_the_survivor_and_back_on_undo(salesperson):
    survivor = LeadFactory(owner=salesperson)
    duplicate = LeadFactory(owner=salesperson)
    kept = log(salesperson, survivor, "a@mail.example")
    moved = log(salesperson, duplicate, "b@mail.example")
    log(salesperson, duplicate, "a@mail.example")  # the same message reached both leads

    merge = lead_merge(survivor=survivor, duplicate=duplicate, by=salesperson)

    assert set(Email.objects.values_list("lead_id", "message_id")) == {
        (survivor.pk, "a@mail.example"),
        (survivor.pk, "b@mail.example"),
    }
    assert merge.moved["emails"] == [moved.pk]

    lead_merge_undo(merge=merge, by=salesperson)

    assert Email.objects.get(pk=moved.pk).lead_id == duplicate.pk
    assert Email.objects.get(pk=kept.pk).lead_id == survivor.pk
