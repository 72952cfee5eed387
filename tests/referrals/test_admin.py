"""The referral admin saves through the referral services, as the app does (issue 16, point 1)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from referrals.models import ReferralAsk, ReferralSource
from tests.factories import ReferralSourceFactory

pytestmark = pytest.mark.django_db


def source_form(source: ReferralSource, **changes) -> dict:
    data = {
        "owner": source.owner_id,
        "name": source.name,
        "email": source.email,
        "kind": source.kind,
        "strength": source.strength,
        "ask_cadence_days": source.ask_cadence_days,
        "notes": source.notes,
        "lead": source.lead_id or "",
        # The read-only asks inline's management form.
        "asks-TOTAL_FORMS": 0,
        "asks-INITIAL_FORMS": 0,
        "asks-MIN_NUM_FORMS": 0,
        "asks-MAX_NUM_FORMS": 1000,
    }
    if source.opted_out:
        data["opted_out"] = "on"
    data.update(changes)
    return data


def test_changing_the_cadence_in_the_admin_moves_the_next_ask(client_of, manager, salesperson):
    asked = timezone.now() - timedelta(days=10)
    source = ReferralSourceFactory(
        owner=salesperson, ask_cadence_days=30, last_asked_at=asked, next_ask_at=asked
    )
    url = reverse("admin:referrals_referralsource_change", args=[source.pk])

    response = client_of(manager).post(url, source_form(source, ask_cadence_days=14))

    assert response.status_code == 302, response.content.decode()[:2000]
    source.refresh_from_db()
    assert source.ask_cadence_days == 14
    assert source.next_ask_at == asked + timedelta(days=14)


def test_a_source_added_in_the_admin_is_due_an_ask_now(client_of, manager, salesperson):
    draft = ReferralSource(owner=salesperson, name="Pat Partner", email="PAT@example.net")
    before = timezone.now()

    response = client_of(manager).post(
        reverse("admin:referrals_referralsource_add"),
        source_form(draft, kind="partner", strength=4, ask_cadence_days=30),
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    source = ReferralSource.objects.get(name="Pat Partner")
    assert source.email == "pat@example.net"  # the service's normalising, not the raw form
    assert source.next_ask_at >= before


def test_an_ask_added_in_the_admin_moves_last_asked_and_the_next_ask(
    client_of, manager, salesperson
):
    source = ReferralSourceFactory(owner=salesperson, ask_cadence_days=30, last_asked_at=None)
    asked = timezone.now().replace(microsecond=0) - timedelta(days=2)

    response = client_of(manager).post(
        reverse("admin:referrals_referralask_add"),
        {
            "source": source.pk,
            "asked_at_0": asked.strftime("%Y-%m-%d"),
            "asked_at_1": asked.strftime("%H:%M:%S"),
            "channel": "in_person",
            "note": "At the conference",
            "outcome": "gave",
            "referrals_given": 2,
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    ask = ReferralAsk.objects.get(source=source)
    assert (ask.channel, ask.outcome, ask.referrals_given, ask.asked_by) == (
        "in_person",
        "gave",
        2,
        manager,
    )
    source.refresh_from_db()
    assert source.last_asked_at == ask.asked_at
    assert source.next_ask_at == ask.asked_at + timedelta(days=30)


def test_the_ask_admin_refuses_an_opted_out_source_and_a_gift_of_none_by_the_field(
    client_of, manager, salesperson
):
    source = ReferralSourceFactory(owner=salesperson, opted_out=True)
    now = timezone.now()

    response = client_of(manager).post(
        reverse("admin:referrals_referralask_add"),
        {
            "source": source.pk,
            "asked_at_0": now.strftime("%Y-%m-%d"),
            "asked_at_1": now.strftime("%H:%M:%S"),
            "channel": "email",
            "outcome": "gave",
            "referrals_given": 0,
        },
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "opted out of referral asks" in page
    assert "How many referrals did they give? At least 1." in page
    assert not ReferralAsk.objects.exists()


def test_an_asks_outcome_changed_in_the_admin_goes_through_the_service(
    client_of, manager, salesperson
):
    source = ReferralSourceFactory(owner=salesperson)
    ask = ReferralAsk.objects.create(source=source, asked_by=salesperson, asked_at=timezone.now())

    response = client_of(manager).post(
        reverse("admin:referrals_referralask_change", args=[ask.pk]),
        {"outcome": "declined", "referrals_given": 3},
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    ask.refresh_from_db()
    # The service keeps a count only with "gave".
    assert (ask.outcome, ask.referrals_given) == ("declined", 0)
