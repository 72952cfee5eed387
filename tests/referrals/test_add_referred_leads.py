""" "Gave N referrals" → "Add them now", the channel an ask was made by, and the thank-you a
referrer gets when a lead they sent reaches Qualified or Won."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from leads import services as lead_services
from leads.models import FollowUp, Lead
from referrals.models import ReferralAsk
from referrals.services import ReferredLeadsInvalid, referral_ask_add_leads
from tests.factories import FollowUpFactory, LeadFactory, ReferralSourceFactory

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def ask(salesperson):
    source = ReferralSourceFactory(owner=salesperson, name="Gina Giver")
    return ReferralAsk.objects.create(
        source=source,
        asked_by=salesperson,
        asked_at=timezone.now(),
        outcome="gave",
        referrals_given=2,
    )


def rows(*people):
    data = {"person-TOTAL_FORMS": str(len(people)), "person-INITIAL_FORMS": "0"}
    for index, (name, email, company) in enumerate(people):
        data |= {
            f"person-{index}-name": name,
            f"person-{index}-email": email,
            f"person-{index}-company": company,
        }
    return data


def test_add_them_now_credits_every_lead_to_the_source_and_the_ask(salesperson, ask):
    leads = referral_ask_add_leads(
        ask=ask,
        user=salesperson,
        people=[
            {"name": "Hana Ito", "email": "hana@ito.test", "company": "Ito KK"},
            {"name": "Omar", "email": "", "company": ""},
        ],
    )

    assert [(lead.first_name, lead.last_name) for lead in leads] == [("Hana", "Ito"), ("Omar", "")]
    for lead in leads:
        lead.refresh_from_db()
        assert (lead.referred_by, lead.referral_ask, lead.source) == (ask.source, ask, "referral")
        assert lead.follow_ups.filter(done_at__isnull=True, kind="first_touch").exists()
    assert leads[0].company.name == "Ito KK"


def test_one_bad_row_saves_nothing_and_names_the_row(salesperson, ask):
    LeadFactory(owner=salesperson, email="taken@example.com")

    with pytest.raises(ReferredLeadsInvalid) as problem:
        referral_ask_add_leads(
            ask=ask,
            user=salesperson,
            people=[
                {"name": "Fine Person", "email": "fine@example.com", "company": ""},
                {"name": "Dup", "email": "taken@example.com", "company": ""},
            ],
        )

    assert list(problem.value.errors) == [1]
    assert not Lead.objects.filter(email="fine@example.com").exists()


def test_the_page_offers_one_row_per_referral_given(client_of, salesperson, ask):
    page = client_of(salesperson).get(reverse("referral-ask-add-leads", args=[ask.pk])).text

    assert page.count('class="referred-row"') == 2
    assert "Add the people Gina Giver referred" in page


def test_per_row_errors_keep_what_was_typed(client_of, salesperson, ask):
    LeadFactory(owner=salesperson, email="taken@example.com")

    response = client_of(salesperson).post(
        reverse("referral-ask-add-leads", args=[ask.pk]),
        rows(("Kept Name", "kept@example.com", "Kept Co"), ("Dup", "taken@example.com", "")),
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert 'value="Kept Name"' in page
    assert 'value="Kept Co"' in page
    assert page.index("You already have a lead with this email address.") > page.index(
        'id="referred-row-2"'
    )
    assert not Lead.objects.filter(email="kept@example.com").exists()


def test_saving_goes_to_the_source_page_and_blank_rows_are_skipped(client_of, salesperson, ask):
    response = client_of(salesperson).post(
        reverse("referral-ask-add-leads", args=[ask.pk]),
        rows(("Ann Added", "", ""), ("", "", "")),
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("referral-detail", args=[ask.source.pk])
    assert Lead.objects.get(first_name="Ann").referral_ask == ask
    assert Lead.objects.filter(referral_ask=ask).count() == 1


def test_gave_then_add_them_now_goes_straight_to_the_rows(client_of, salesperson):
    source = ReferralSourceFactory(owner=salesperson)
    pending = ReferralAsk.objects.create(
        source=source, asked_by=salesperson, asked_at=timezone.now()
    )

    response = client_of(salesperson).post(
        reverse("referral-ask-outcome", args=[pending.pk]),
        {"outcome": "gave", "referrals_given": "3", "return_to": "list", "then": "add"},
        **HTMX,
    )

    assert response.status_code == 200  # django-htmx's HttpResponseClientRedirect
    assert response["HX-Redirect"] == (
        reverse("referral-ask-add-leads", args=[pending.pk]) + "?count=3"
    )


def test_asked_records_the_channel_chosen_on_the_who_to_ask_row(client_of, salesperson):
    source = ReferralSourceFactory(owner=salesperson, next_ask_at=timezone.now())
    client = client_of(salesperson)
    assert f'id="ask-channel-{source.pk}"' in client.get(reverse("referral-list")).text

    response = client.post(
        reverse("referral-ask", args=[source.pk]),
        {"channel": "call", "return_to": "list"},
        **HTMX,
    )

    assert ReferralAsk.objects.get(source=source).channel == "call"
    assert "Asked today · Call" in response.content.decode()


# --- Thank the referrer ----------------------------------------------------------------------


@pytest.fixture
def customer_source(salesperson):
    customer = LeadFactory(owner=salesperson, first_name="Carla", stage="won")
    return ReferralSourceFactory(owner=salesperson, name="Carla", lead=customer)


def test_a_referred_lead_reaching_qualified_gets_its_referrer_a_thank_you(
    salesperson, customer_source
):
    referred = LeadFactory(
        owner=salesperson,
        first_name="Rob",
        last_name="Ref",
        stage="engaged",
        referred_by=customer_source,
    )
    # The customer's cadence step pending: it makes way and comes back after the thank-you.
    FollowUpFactory(
        lead=customer_source.lead,
        kind="referral_ask",
        rule="won_referral_ask",
        due_at=timezone.now() + timedelta(days=20),
    )

    lead_services.lead_change_stage(lead=referred, to_stage="qualified", user=salesperson)
    lead_services.lead_change_stage(lead=referred, to_stage="engaged", user=salesperson)
    lead_services.lead_change_stage(lead=referred, to_stage="qualified", user=salesperson)

    thanks = FollowUp.objects.get(lead=customer_source.lead, done_at__isnull=True)
    assert thanks.kind == "thank_referrer"
    assert thanks.note == "Tell them Rob Ref reached Qualified, and thank them."
    assert FollowUp.objects.filter(kind="thank_referrer").count() == 1  # once per stage
    next_step = lead_services.follow_up_complete(follow_up=thanks, user=salesperson)
    assert next_step.kind == "referral_ask"


def test_winning_thanks_again_and_keeps_a_persons_plan_in_the_note(salesperson, customer_source):
    referred = LeadFactory(
        owner=salesperson,
        first_name="Rob",
        last_name="Ref",
        stage="proposal",
        referred_by=customer_source,
    )
    FollowUpFactory(
        lead=customer_source.lead, kind="custom", note="Renewal call", created_by=salesperson
    )

    lead_services.lead_change_stage(lead=referred, to_stage="won", user=salesperson)

    thanks = FollowUp.objects.get(lead=customer_source.lead, done_at__isnull=True)
    assert thanks.note.startswith("Tell them Rob Ref won, and thank them. Then: Renewal call")


def test_a_lead_without_a_referrer_or_a_source_without_a_lead_gets_no_follow_up(
    client_of, salesperson
):
    partner = ReferralSourceFactory(owner=salesperson, name="Pat Partner", kind="partner")
    referred = LeadFactory(
        owner=salesperson, first_name="Pia", stage="engaged", referred_by=partner
    )

    lead_services.lead_change_stage(lead=referred, to_stage="qualified", user=salesperson)

    assert not FollowUp.objects.filter(kind="thank_referrer").exists()
    page = client_of(salesperson).get(reverse("referral-detail", args=[partner.pk])).text
    assert "Tell Pat Partner how it went" in page
    assert 'id="tell-them"' in page
