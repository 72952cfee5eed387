from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from leads import selectors
from leads.models import Lead
from tests.factories import ActivityFactory, FollowUpFactory, LeadFactory

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("UTC"))


@pytest.mark.django_db
def test_salespeople_see_their_own_rows_and_managers_the_team(
    salesperson, other_salesperson, manager
):
    mine = LeadFactory(owner=salesperson)
    theirs = LeadFactory(owner=other_salesperson)
    ActivityFactory(lead=mine)
    ActivityFactory(lead=theirs)
    FollowUpFactory(lead=theirs)

    assert list(selectors.leads_visible_to(salesperson)) == [mine]
    assert set(selectors.leads_visible_to(manager)) == {mine, theirs}
    assert {a.lead for a in selectors.activities_visible_to(salesperson)} == {mine}
    assert not selectors.follow_ups_visible_to(salesperson).exists()
    assert selectors.follow_ups_visible_to(manager).count() == 1
    assert {c.owner for c in selectors.companies_visible_to(salesperson)} == {salesperson}


@pytest.mark.django_db
def test_going_cold_uses_each_stages_limit(salesperson):
    cold_new = LeadFactory(owner=salesperson, stage="new", stage_changed_at=NOW - timedelta(days=4))
    LeadFactory(owner=salesperson, stage="new", stage_changed_at=NOW - timedelta(days=2))
    LeadFactory(owner=salesperson, stage="proposal", stage_changed_at=NOW - timedelta(days=20))
    cold_proposal = LeadFactory(
        owner=salesperson, stage="proposal", stage_changed_at=NOW - timedelta(days=31)
    )
    LeadFactory(owner=salesperson, stage="won", stage_changed_at=NOW - timedelta(days=300))

    cold = set(Lead.objects.filter(selectors.going_cold_condition(NOW)))

    assert cold == {cold_new, cold_proposal}
    assert selectors.is_going_cold(cold_new, NOW)


@pytest.mark.django_db
def test_follow_ups_due_are_the_users_own_up_to_the_moment(salesperson, other_salesperson):
    overdue = FollowUpFactory(lead=LeadFactory(owner=salesperson), due_at=NOW - timedelta(days=2))
    today = FollowUpFactory(lead=LeadFactory(owner=salesperson), due_at=NOW + timedelta(hours=3))
    FollowUpFactory(lead=LeadFactory(owner=salesperson), due_at=NOW + timedelta(days=3))
    FollowUpFactory(lead=LeadFactory(owner=other_salesperson), due_at=NOW - timedelta(days=1))
    FollowUpFactory(
        lead=LeadFactory(owner=salesperson), due_at=NOW - timedelta(days=1), done_at=NOW
    )

    due = list(selectors.follow_ups_due(salesperson, until=NOW + timedelta(hours=6)))

    assert due == [overdue, today]


@pytest.mark.django_db
def test_new_hand_raisers_are_those_not_yet_answered(salesperson):
    waiting = LeadFactory(
        owner=salesperson, stage="engaged", last_inbound_at=NOW - timedelta(hours=5)
    )
    LeadFactory(
        owner=salesperson,
        stage="engaged",
        last_inbound_at=NOW - timedelta(hours=5),
        last_contacted_at=NOW - timedelta(hours=1),
    )
    LeadFactory(owner=salesperson, stage="engaged", last_inbound_at=NOW - timedelta(days=5))

    assert list(selectors.hand_raisers_new(salesperson, since=NOW - timedelta(days=1))) == [waiting]
