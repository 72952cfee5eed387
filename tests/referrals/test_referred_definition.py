"""One definition of a referred lead ("Referred by" is set), and every count that uses it.

The demo once showed 41 referral leads in the Sources report and 7 in the Referrals report:
the first counted the source field ("Referral"), the second the leads credited to a referral
source. These tests pin that both reports, the referral pages and the weekly email count the
same leads on the same data.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from icp.rescoring import lead_rescore, leads_rescore
from leads.models import Lead
from referrals import selectors as referral_selectors
from reminders.emails import _weekly_referrals
from reports import selectors as report_selectors
from tests.factories import LeadFactory, ReferralSourceFactory
from tests.reports.builders import period

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(salesperson, other_salesperson):
    """3 leads referred by a customer, 2 by a partner (one of them with the source field left
    at Event), 4 marked Referral with nobody recorded, 2 from an event; and someone else's."""
    customer = LeadFactory(owner=salesperson, stage="won", first_name="Carla")
    carla = ReferralSourceFactory(owner=salesperson, name="Carla", lead=customer)
    partner = ReferralSourceFactory(owner=salesperson, name="Pat Partner", kind="partner")
    past = timezone.now() - timedelta(days=1)
    ReferralSourceFactory._meta.model.objects.update(next_ask_at=past)
    for _ in range(3):
        LeadFactory(owner=salesperson, source="referral", referred_by=carla)
    LeadFactory(owner=salesperson, source="referral", referred_by=partner)
    LeadFactory(owner=salesperson, source="event", referred_by=partner)
    for _ in range(4):
        LeadFactory(owner=salesperson, source="referral")
    for _ in range(2):
        LeadFactory(owner=salesperson, source="event")
    theirs = ReferralSourceFactory(owner=other_salesperson)
    LeadFactory(owner=other_salesperson, source="referral", referred_by=theirs)
    return {"carla": carla, "partner": partner}


def test_a_referred_lead_is_one_with_a_referrer(salesperson, book):
    mine = Lead.objects.filter(owner=salesperson)

    assert mine.referred().count() == 5
    assert mine.referrer_unknown().count() == 4
    assert all(lead.is_referred for lead in mine.referred())
    assert all(lead.referrer_unknown for lead in mine.referrer_unknown())


def test_reports_referral_pages_and_weekly_email_count_the_same_referred_leads(salesperson, book):
    today = timezone.localdate()
    all_time = period("2000-01-01", (today + timedelta(days=1)).isoformat())

    sources_report = {row.source: row for row in report_selectors.by_source(salesperson, all_time)}
    referrals_report = report_selectors.referrals(salesperson, all_time)
    months_total = report_selectors.referral_months_total(referrals_report.months)
    page_rows = referral_selectors.referral_source_rows(
        referral_selectors.referral_sources_visible_to(salesperson)
    )
    email = _weekly_referrals(salesperson, timezone.now())

    assert sources_report["referral"].created == 5
    assert months_total.referred_leads == 5
    assert sum(row.referred_in_period for row in referrals_report.leaderboard) == 5
    assert sum(row.referrals_given for row in page_rows) == 5
    by_name_on_page = {row.source.name: row.referrals_given for row in page_rows}
    by_name_in_email = {row["name"]: row["referrals_given"] for row in email.context["sources"]}
    assert by_name_on_page == by_name_in_email == {"Carla": 3, "Pat Partner": 2}
    # The leads marked Referral with no referrer are on a row of their own, not lost.
    assert sources_report["referral_unknown"].created == 4
    # In the words Today uses for each of them.
    assert sources_report["referral_unknown"].label == "Referral, referrer not named"
    assert sources_report["event"].created == 2


def test_the_sources_report_has_no_unknown_referrer_row_when_every_referral_is_credited(
    salesperson,
):
    source = ReferralSourceFactory(owner=salesperson)
    LeadFactory(owner=salesperson, source="referral", referred_by=source)
    today = timezone.localdate()

    rows = report_selectors.by_source(salesperson, period(today.isoformat(), today.isoformat()))

    assert "referral_unknown" not in {row.source for row in rows}
    assert next(row for row in rows if row.source == "referral").created == 1


def test_a_referral_without_a_referrer_gets_no_bonus_until_one_is_recorded(salesperson):
    lead = LeadFactory(owner=salesperson, source="referral")

    assert lead_rescore(lead_id=lead.pk).score_explanation["referral_bonus"] == 0

    Lead.objects.filter(pk=lead.pk).update(referred_by=ReferralSourceFactory(owner=salesperson))
    assert lead_rescore(lead_id=lead.pk).score_explanation["referral_bonus"] == 10


def test_the_nightly_rescore_takes_back_a_bonus_given_before_the_fix(salesperson):
    lead = LeadFactory(owner=salesperson, source="referral")
    # As scored before: a Referral source alone earned the bonus.
    Lead.objects.filter(pk=lead.pk).update(
        total_score=10, score_explanation={"referral_bonus": 10}, scored_at=timezone.now()
    )

    leads_rescore(owner_id=salesperson.pk)

    lead.refresh_from_db()
    assert (lead.total_score, lead.score_explanation["referral_bonus"]) == (0, 0)
