"""What the referral pages count, and that their labels say so: referred leads (leads whose
"Referred by" is the source) are not the names a source gave when asked."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from referrals.models import ReferralAsk
from tests.factories import LeadFactory, ReferralSourceFactory

HTMX = {"HX-Request": "true"}


def stat(page: str, label: str) -> str:
    match = re.search(rf"<dt>{re.escape(label)}</dt><dd>(.*?)</dd>", page)
    assert match, f"no stat {label!r}"
    return match.group(1).strip()


@pytest.fixture
def ana(salesperson):
    ana = ReferralSourceFactory(owner=salesperson, name="Ana Ortiz", strength=5)
    LeadFactory(owner=salesperson, referred_by=ana)
    return ana


@pytest.mark.django_db
def test_the_source_page_tells_referred_leads_from_names_given_in_asks(client_of, salesperson, ana):
    ReferralAsk.objects.create(
        source=ana, asked_at=timezone.now(), outcome="gave", referrals_given=2
    )
    ReferralAsk.objects.create(source=ana, asked_at=timezone.now(), outcome="declined")

    page = client_of(salesperson).get(reverse("referral-detail", args=[ana.pk])).content.decode()

    assert stat(page, "Referred leads") == "1"
    assert stat(page, "Names given when asked") == "2"
    assert "<dt>Referrals given</dt>" not in page
    assert "Add the people Ana Ortiz named as leads" in page


@pytest.mark.django_db
def test_recording_gave_n_refreshes_the_summary_with_n(client_of, salesperson, ana):
    ask = ReferralAsk.objects.create(source=ana, asked_by=salesperson, asked_at=timezone.now())
    client = client_of(salesperson)

    response = client.post(
        reverse("referral-ask-outcome", args=[ask.pk]),
        {"outcome": "gave", "referrals_given": "2", "return_to": "detail"},
        headers=HTMX,
    )
    summary = client.get(
        reverse("referral-detail", args=[ana.pk]),
        headers={**HTMX, "HX-Target": "source-summary"},
    ).content.decode()

    assert response.status_code == 200
    assert "referralAsked" in response["HX-Trigger"]  # the summary listens for it
    assert summary.lstrip().startswith('<section id="source-summary"')
    assert stat(summary, "Names given when asked") == "2"
    assert stat(summary, "Referred leads") == "1"


@pytest.mark.django_db
def test_a_refused_outcome_announces_nothing(client_of, salesperson, ana):
    ask = ReferralAsk.objects.create(source=ana, asked_by=salesperson, asked_at=timezone.now())

    response = client_of(salesperson).post(
        reverse("referral-ask-outcome", args=[ask.pk]),
        {"outcome": "gave", "referrals_given": "", "return_to": "detail"},
        headers=HTMX,
    )

    assert "HX-Trigger" not in response


@pytest.mark.django_db
def test_who_to_ask_says_how_it_is_ranked(client_of, salesperson):
    # A proven referrer of strength 3 outranks a strength-4 source who never referred anyone:
    # the order is not "strongest relationships first".
    proven = ReferralSourceFactory(
        owner=salesperson, name="Proven Pat", strength=3, next_ask_at=timezone.now()
    )
    LeadFactory.create_batch(5, owner=salesperson, referred_by=proven)
    ReferralSourceFactory(
        owner=salesperson,
        name="Strong Sam",
        strength=4,
        next_ask_at=timezone.now() - timedelta(days=1),
    )

    response = client_of(salesperson).get(reverse("referral-list"))

    page = response.content.decode()
    assert [item.source.name for item in response.context["asks_due"]] == [
        "Proven Pat",
        "Strong Sam",
    ]
    assert "strongest relationships first" not in page
    assert "ranked by relationship strength, referred leads and time since the last ask" in page
    assert "5 referred leads" in page
    assert "0 referred leads" in page
    assert '<th scope="col" class="num">Referred leads</th>' in page
