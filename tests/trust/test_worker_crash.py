"""kill -9 of a real worker process in the middle of the work, then a restart.

acks_late + reject_on_worker_lost leave the message with the broker (Redis hands it back after
its visibility timeout; the filesystem broker loses it and the next beat run or edit sends the
work again); the database rows decide what is left to do, so after the restart everything
completes. These tests need a worker PROCESS: a thread cannot be killed.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone

from icp.rescoring import leads_rescore
from icp.scoring import grade_for
from icp.tasks import rescore_owner_leads
from leads.models import ActivityKind, Lead
from reminders.models import Reminder, ReminderKind, ReminderStatus
from reminders.services import STALE_CLAIM_AFTER
from reminders.tasks import run_reminders
from tests.factories import (
    ActivityFactory,
    CompanyFactory,
    CriterionFactory,
    ICPFactory,
    LeadFactory,
    ReferralSourceFactory,
    UserFactory,
)
from tests.trust.conftest import broker_hand_back_unacked, broker_unacked, uses_redis
from tests.waiting import wait_for

pytestmark = pytest.mark.worker

LEADS = 60


def half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)


def inconsistent_leads(owner) -> list[str]:
    """Leads whose stored scores do not all come from one scoring: the explanation, fit,
    intent, total, grade and best ICP must agree with each other."""
    problems = []
    for lead in Lead.objects.filter(owner=owner):
        why = lead.score_explanation
        if lead.scored_at is None:
            if (lead.fit_score, lead.intent_score, lead.total_score, why) != (0, 0, 0, {}):
                problems.append(f"{lead.pk}: unscored but has scores")
            continue
        bonus = why["referral_bonus"]
        expected_total = min(100, half_up(6 * lead.fit_score + 4 * lead.intent_score, 10) + bonus)
        stored = (
            lead.fit_score,
            lead.intent_score,
            lead.total_score,
            lead.grade,
            lead.best_icp_id,
        )
        explained = (why["fit"], why["intent"], why["total"], why["grade"], why["icp_id"])
        if stored != explained or lead.total_score != expected_total:
            problems.append(f"{lead.pk}: stored {stored}, explained {explained}")
        if lead.grade != grade_for(lead.total_score):
            problems.append(f"{lead.pk}: grade {lead.grade} for total {lead.total_score}")
    return problems


def test_a_worker_killed_in_the_middle_of_a_rescore_leaves_no_lead_half_scored(
    worker_process,
):
    owner = UserFactory(username="crash-rescore")
    icp = ICPFactory(owner=owner, name="Retail")
    industry = CriterionFactory(icp=icp, field="industry", value="Retail", weight=30)
    CriterionFactory(icp=icp, field="country", value="GB", weight=10)
    for number in range(LEADS):
        company = CompanyFactory(
            owner=owner,
            industry=["Retail", "Software"][number % 2],
            country=["GB", "FR", "IE"][number % 3],
        )
        lead = LeadFactory(
            owner=owner, company=company, source="referral" if number % 5 == 0 else "event"
        )
        if number % 4 == 0:
            ActivityFactory(lead=lead, kind=ActivityKind.ASKED_FOR_DEMO, direction="inbound")
    leads_rescore(owner_id=owner.pk)
    before = timezone.now()
    # The ICP now wants software companies: every lead's score changes, and each must move
    # from the old scoring to the new one whole.
    type(industry).objects.filter(pk=industry.pk).update(value="Software")

    worker = worker_process(LH_TEST_RESCORE_BATCH="10", LH_TEST_RESCORE_PAUSE="0.4")
    rescore_owner_leads.delay(owner.pk)

    def rescored() -> int:
        return Lead.objects.filter(owner=owner, scored_at__gt=before).count()

    assert wait_for(lambda: rescored() >= 10, timeout=90), worker.output()
    worker.kill()
    assert 0 < rescored() < LEADS, "the kill must land in the middle of the run"
    if uses_redis():
        assert broker_unacked() == 1  # Redis kept the message the dead worker held
    assert inconsistent_leads(owner) == []

    if not broker_hand_back_unacked():
        rescore_owner_leads.delay(owner.pk)  # the next edit or the nightly run
    restarted = worker_process()

    assert wait_for(lambda: rescored() == LEADS, timeout=90), restarted.output()
    assert inconsistent_leads(owner) == []
    # The worker's scores are what scoring now gives: a fresh run changes nothing.
    assert leads_rescore(owner_id=owner.pk).changed == 0


def test_a_worker_killed_between_smtp_and_commit_loses_no_reminder_and_doubles_one_at_most(
    worker_process, tmp_path
):
    now = timezone.now()
    year, week, _ = now.date().isocalendar()
    reminders = []
    for number in range(5):
        # Only the weekly email, due now in the period the planner would give it, so that
        # planning (which runs in the same task) cannot add a second row.
        user = UserFactory(username=f"crash-{number}", time_zone="UTC", daily_digest_email=False)
        ReferralSourceFactory(owner=user, next_ask_at=now - timedelta(days=1))
        due = now - timedelta(minutes=10 - number)
        reminders.append(
            Reminder.objects.create(
                user=user,
                kind=ReminderKind.WEEKLY_REFERRALS,
                period=f"{year}-W{week:02d}",
                due_at=due,
                next_attempt_at=due,
            )
        )
    sends = tmp_path / "sends.txt"

    # The third email is accepted by "SMTP", then the worker dies before recording it.
    worker = worker_process(LH_TEST_SENDS_FILE=str(sends), LH_TEST_CRASH_AFTER_SENDS="3")
    run_reminders.delay()

    assert wait_for(lambda: not worker.alive, timeout=90), worker.output()
    assert len(sends.read_text().splitlines()) == 3
    statuses = Counter(Reminder.objects.values_list("status", flat=True))
    assert statuses == {"sent": 2, "sending": 1, "pending": 2}
    if uses_redis():
        assert broker_unacked() == 1  # Redis kept the message the dead worker held

    # Fifteen minutes on, the row left "sending" counts as abandoned and may be claimed again.
    Reminder.objects.filter(status=ReminderStatus.SENDING).update(
        claimed_at=F("claimed_at") - STALE_CLAIM_AFTER - timedelta(minutes=1)
    )
    if not broker_hand_back_unacked():
        run_reminders.delay()  # the next beat run
    restarted = worker_process(LH_TEST_SENDS_FILE=str(sends))

    def all_sent() -> bool:
        return not Reminder.objects.exclude(status=ReminderStatus.SENT).exists()

    assert wait_for(all_sent, timeout=90), restarted.output()
    sent = Counter(sends.read_text().splitlines())
    assert sorted(sent.values()) == [1, 1, 1, 1, 2]
    assert {f"reminder-{r.pk}." in "".join(sent) for r in reminders} == {True}
    [(doubled, _)] = [(message_id, n) for message_id, n in sent.items() if n == 2]
    third = reminders[2]  # due third, sent third
    assert doubled.startswith(f"<reminder-{third.pk}.")
