"""Intro asks and lookalikes joining the reconnect plan, through the owning apps' services."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import TeamSettings
from leads.models import ActivityKind, FollowUpKind, Stage
from prospecting import services
from referrals.models import ReferralAsk, ReferralSource, SourceKind
from tests.factories import LeadFactory, ReferralSourceFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_asking_a_lead_makes_them_a_referral_source_and_records_the_ask(salesperson):
    lead = LeadFactory(owner=salesperson, first_name="Nina", last_name="Network")
    source, ask = services.intro_ask_start(
        user=salesperson, key=f"lead:{lead.pk}", company="Acme", channel="linkedin"
    )
    assert (source.lead, source.kind, source.owner) == (lead, SourceKind.FRIEND, salesperson)
    assert (ask.source, ask.channel, ask.note, ask.asked_by) == (
        source,
        "linkedin",
        "Intro at Acme",
        salesperson,
    )
    # Asking again goes to the same source.
    again, _ = services.intro_ask_start(user=salesperson, key=f"lead:{lead.pk}", company="Acme")
    assert again == source
    assert ReferralAsk.objects.filter(source=source).count() == 2


def test_asking_a_won_customer_makes_them_a_customer_source_and_logs_it_on_their_timeline(
    salesperson,
):
    customer = LeadFactory(owner=salesperson, stage=Stage.WON)
    source, _ask = services.intro_ask_start(
        user=salesperson, key=f"lead:{customer.pk}", company="Acme"
    )
    assert source.kind == SourceKind.CUSTOMER
    assert customer.activities.filter(kind=ActivityKind.REFERRAL_ASK).exists()


def test_asking_a_referral_source(salesperson):
    rita = ReferralSourceFactory(owner=salesperson, name="Rita")
    source, ask = services.intro_ask_start(
        user=salesperson, key=f"source:{rita.pk}", company="Acme"
    )
    assert source == rita
    assert ask.source == rita


def test_someone_elses_or_an_opted_out_person_cannot_be_asked(salesperson, other_salesperson):
    theirs = LeadFactory(owner=other_salesperson)
    their_source = ReferralSourceFactory(owner=other_salesperson)
    opted_out = ReferralSourceFactory(owner=salesperson, opted_out=True)
    for key in (
        f"lead:{theirs.pk}",
        f"source:{their_source.pk}",
        f"source:{opted_out.pk}",
        "x",
        "lead:x",
    ):
        with pytest.raises(ValidationError):
            services.intro_ask_start(user=salesperson, key=key, company="Acme")
    assert not ReferralAsk.objects.exists()


def test_a_teammates_contact_is_asked_through_the_teammate_when_the_team_shares(salesperson):
    jordan = UserFactory(first_name="Jordan", last_name="Lee", email="jordan@team.test")
    tom = LeadFactory(owner=jordan, first_name="Tom", last_name="Tate", title="CTO")
    key = f"teammate:{jordan.pk}:lead:{tom.pk}"
    with pytest.raises(PermissionDenied):
        services.intro_ask_start(user=salesperson, key=key, company="Acme")

    TeamSettings.objects.create(pk=1, share_contacts=True)
    source, ask = services.intro_ask_start(user=salesperson, key=key, company="Acme")
    assert (source.name, source.email, source.owner, source.lead) == (
        "Jordan Lee",
        "jordan@team.test",
        salesperson,
        None,
    )
    assert ask.note == "Intro to Tom Tate (CTO) at Acme"
    again, _ = services.intro_ask_start(user=salesperson, key=key, company="Acme")
    assert again == source
    assert ReferralSource.objects.filter(owner=salesperson).count() == 1
    # The teammate's lead is untouched: no source made of it, nothing logged on it.
    assert not ReferralSource.objects.filter(lead=tom).exists()
    assert not tom.activities.exists()


def test_a_lookalike_joins_the_reconnect_plan(salesperson, other_salesperson):
    lead = LeadFactory(owner=salesperson)
    follow_up = services.lookalike_add_to_reconnects(user=salesperson, lead=lead)
    assert follow_up.kind == FollowUpKind.RECONNECT
    assert follow_up.lead == lead
    theirs = LeadFactory(owner=other_salesperson)
    with pytest.raises(ValidationError):
        services.lookalike_add_to_reconnects(user=salesperson, lead=theirs)


def test_a_lead_who_asked_not_to_be_contacted_is_not_asked(salesperson):
    lead = LeadFactory(
        owner=salesperson, first_name="Quiet", last_name="Person", do_not_contact=True
    )
    with pytest.raises(ValidationError, match="Quiet Person asked not to be contacted"):
        services.intro_ask_start(user=salesperson, key=f"lead:{lead.pk}", company="Acme")
    assert not ReferralSource.objects.exists()
