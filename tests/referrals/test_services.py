from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from leads import services as lead_services
from leads.models import Lead
from referrals import services
from referrals.models import ReferralAsk
from tests.factories import LeadFactory, ReferralSourceFactory

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("UTC"))


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.mark.django_db
def test_recording_an_ask_sets_when_to_ask_next(salesperson, frozen):
    source = ReferralSourceFactory(owner=salesperson, ask_cadence_days=60)

    ask = services.referral_ask_record(
        source=source, user=salesperson, channel="call", note="At lunch"
    )

    source.refresh_from_db()
    assert (ask.outcome, ask.channel, ask.asked_by) == ("pending", "call", salesperson)
    assert source.last_asked_at == NOW
    assert source.next_ask_at == NOW + timedelta(days=60)


@pytest.mark.django_db
def test_an_ask_from_an_email_link_is_logged_once(salesperson, frozen):
    source = ReferralSourceFactory(owner=salesperson)

    first = services.referral_ask_record(source=source, user=salesperson, link_key="k-123")
    second = services.referral_ask_record(source=source, user=salesperson, link_key="k-123")

    assert first == second
    assert ReferralAsk.objects.count() == 1


@pytest.mark.django_db
def test_opted_out_sources_are_not_asked(salesperson):
    source = ReferralSourceFactory(owner=salesperson, opted_out=True)

    with pytest.raises(ValidationError, match="opted out"):
        services.referral_ask_record(source=source, user=salesperson)

    assert not ReferralAsk.objects.exists()


@pytest.mark.django_db
def test_asking_a_customer_shows_on_their_timeline_and_completes_the_due_ask(salesperson, frozen):
    customer = lead_services.lead_create(owner=salesperson, first_name="Dana", email="dana@x.com")
    lead_services.lead_change_stage(lead=customer, to_stage="won", user=salesperson)
    source = customer.as_referral_source

    services.referral_ask_record(source=source, user=salesperson)

    assert customer.activities.filter(kind="referral_ask").count() == 1
    assert customer.follow_ups.get(kind="referral_ask").resolution == "done"
    assert customer.follow_ups.get(done_at__isnull=True).kind == "check_in"


@pytest.mark.django_db
def test_outcome_gave_needs_a_number(salesperson):
    ask = services.referral_ask_record(
        source=ReferralSourceFactory(owner=salesperson), user=salesperson
    )

    with pytest.raises(ValidationError, match="At least 1"):
        services.referral_ask_set_outcome(
            ask=ask, user=salesperson, outcome="gave", referrals_given=0
        )
    services.referral_ask_set_outcome(ask=ask, user=salesperson, outcome="gave", referrals_given=2)

    ask.refresh_from_db()
    assert (ask.outcome, ask.referrals_given) == ("gave", 2)


@pytest.mark.django_db
def test_linking_a_referred_lead_credits_the_source_and_the_ask(salesperson):
    source = ReferralSourceFactory(owner=salesperson)
    ask = services.referral_ask_record(source=source, user=salesperson)
    lead = LeadFactory(owner=salesperson, source="other")

    services.referral_link_lead(lead=lead, source=source, user=salesperson, ask=ask)

    lead.refresh_from_db()
    ask.refresh_from_db()
    assert (lead.referred_by, lead.referral_ask, lead.source) == (source, ask, "referral")
    assert (ask.outcome, ask.referrals_given) == ("gave", 1)


@pytest.mark.django_db
def test_crediting_a_stale_lead_records_no_stage_change_nobody_made(salesperson):
    lead = LeadFactory(owner=salesperson, stage="new")
    source = ReferralSourceFactory(owner=salesperson)
    stale = Lead.objects.get(pk=lead.pk)  # read before the lead moves on
    lead_services.lead_change_stage(lead=lead, to_stage="qualified", user=salesperson)

    services.referral_link_lead(lead=stale, source=source, user=salesperson)

    lead.refresh_from_db()
    latest = lead.history.order_by("-history_id").first()
    assert lead.stage == "qualified"
    assert (latest.stage, latest.referred_by_id) == ("qualified", source.pk)


@pytest.mark.django_db
def test_another_owners_source_cannot_be_credited(salesperson, other_salesperson):
    lead = LeadFactory(owner=salesperson)

    with pytest.raises(ValidationError, match="your own referral sources"):
        services.referral_link_lead(
            lead=lead, source=ReferralSourceFactory(owner=other_salesperson), user=salesperson
        )


@pytest.mark.django_db
def test_a_won_customer_becomes_a_source_once(salesperson):
    lead = LeadFactory(owner=salesperson, stage="won", won_at=NOW)

    first = services.referral_source_from_customer(lead=lead, user=salesperson)
    second = services.referral_source_from_customer(lead=lead, user=salesperson)

    assert first == second
    assert first.next_ask_at == NOW + timedelta(days=30)
