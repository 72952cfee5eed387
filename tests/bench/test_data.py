"""The bench data set has the shapes its cases are named after."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from accounts.models import User
from bench.data import MONDAY_SALESPERSON, Sizes, load
from leads import selectors
from leads.models import FollowUp, Lead

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("UTC"))


@pytest.mark.django_db(transaction=True)
def test_bench_monday_has_a_weekend_of_follow_ups_due_and_nothing_going_cold():
    load(Sizes.for_leads(1_000, activities=2_000), seed=7, now=NOW)
    monday = User.objects.get(username=MONDAY_SALESPERSON)
    leads = Lead.objects.filter(owner=monday)

    due = FollowUp.objects.filter(lead__owner=monday, done_at__isnull=True, due_at__lte=NOW)
    assert leads.count() == 100  # a tenth of a small set
    assert due.count() == 30
    assert not leads.filter(selectors.going_cold_condition(NOW)).exists()
    assert selectors.today_queue(monday, now=NOW).total >= 30
