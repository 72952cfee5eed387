"""The prospecting pages as a browser without JavaScript, and htmx, see them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import TeamSettings
from leads.models import FollowUp, FollowUpKind, Stage
from referrals.models import ReferralAsk
from tests.factories import CompanyFactory, LeadFactory, ReferralSourceFactory, UserFactory

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
WARM = reverse("prospect-warm-paths")
LOOKALIKES = reverse("prospect-lookalikes")


def test_the_warm_paths_page_before_a_search_says_what_to_do(sam_client):
    response = sam_client.get(WARM)
    assert response.status_code == 200
    assert "Type a company you want in" in response.text
    assert 'aria-current="page">Prospect<' in response.text


def test_a_search_with_nothing_found_says_what_to_try(sam_client):
    response = sam_client.get(WARM, {"q": "Initrode GmbH"})
    assert "No company called “Initrode GmbH” among your contacts" in response.text
    assert "try its web domain" in response.text


def test_part_of_a_name_offers_the_companies_that_hold_it(
    sam_client, salesperson, other_salesperson
):
    helix = CompanyFactory(owner=salesperson, name="Helix Bio GmbH")
    CompanyFactory(owner=other_salesperson, name="Helix Labs")  # not theirs to offer

    response = sam_client.get(WARM, {"q": "Helix"})

    assert "No company called “Helix” among your contacts" in response.text
    assert f'Did you mean <a href="{WARM}?company={helix.pk}">Helix Bio GmbH</a>?' in response.text
    assert "Helix Labs" not in response.text


def test_a_company_with_nobody_known_says_what_to_do(sam_client, salesperson):
    company = CompanyFactory(owner=salesperson, name="Empty Ltd")
    LeadFactory(owner=UserFactory(), company=CompanyFactory(name="Empty Ltd"))
    response = sam_client.get(WARM, {"company": company.pk})
    assert "Nobody you know at Empty Ltd yet" in response.text
    assert "Share contacts for introductions" in response.text


def test_the_lead_and_company_pages_link_to_who_do_i_know(sam_client, salesperson):
    lead = LeadFactory(owner=salesperson, company=CompanyFactory(owner=salesperson, name="Acme"))
    link = f"{WARM}?company={lead.company_id}"
    assert link in sam_client.get(reverse("lead-detail", args=[lead.pk])).text
    assert link in sam_client.get(reverse("company-detail", args=[lead.company_id])).text


def test_another_salespersons_company_is_not_found(sam_client, other_salesperson):
    theirs = CompanyFactory(owner=other_salesperson)
    assert sam_client.get(WARM, {"company": theirs.pk}).status_code == 404


@pytest.fixture
def acme(salesperson, other_salesperson):
    company = CompanyFactory(owner=salesperson, name="ACME, Inc.", domain="acme.com")
    LeadFactory(
        owner=salesperson,
        first_name="Carla",
        last_name="Customer",
        company=company,
        stage=Stage.WON,
    )
    rita = ReferralSourceFactory(
        owner=salesperson, name="Rita Works", email="rita@acme.com", strength=4
    )
    theirs = CompanyFactory(owner=other_salesperson, name="Acme", domain="acme.com")
    LeadFactory(
        owner=other_salesperson,
        first_name="Tom",
        last_name="Tate",
        title="CTO",
        email="tom@acme.com",
        phone="+441234567890",
        notes="Secret: budget is 40k",
        company=theirs,
    )
    return rita


def test_the_paths_are_listed_with_reasons_and_an_ask_button(sam_client, acme):
    response = sam_client.get(WARM, {"q": "acme inc"})
    text = response.text
    assert "Who do I know at ACME, Inc.?" in text
    assert text.index("Carla Customer") < text.index("Rita Works")
    assert "Your customer at ACME, Inc." in text
    assert "Referral source with an email at acme.com" in text
    assert "Ask for an intro" in text
    assert "Tom Tate" not in text


def test_teammates_contacts_show_by_name_and_title_only(sam_client, acme, other_salesperson):
    TeamSettings.objects.create(pk=1, share_contacts=True)
    text = sam_client.get(WARM, {"q": "Acme"}).text
    assert "Tom Tate" in text
    assert "CTO" in text
    assert f"Ask {other_salesperson.first_name} for an intro" in text
    for private in ("tom@acme.com", "+441234567890", "Secret", "budget"):
        assert private not in text
    assert reverse("lead-detail", args=[other_salesperson.leads.get().pk]) not in text


def test_asking_for_an_intro_with_htmx_answers_with_the_recorded_ask(sam_client, acme):
    response = sam_client.post(
        reverse("prospect-warm-path-ask"),
        {"key": f"source:{acme.pk}", "company": "ACME, Inc.", "channel": "call", "back": WARM},
        **HTMX,
    )
    assert response.status_code == 200
    assert "Intro ask recorded with" in response.text
    assert "Rita Works" in response.text
    ask = ReferralAsk.objects.get(source=acme)
    assert (ask.channel, ask.note) == ("call", "Intro at ACME, Inc.")


def test_asking_without_javascript_redirects_back_with_a_message(sam_client, acme):
    back = f"{WARM}?q=acme"
    response = sam_client.post(
        reverse("prospect-warm-path-ask"),
        {"key": f"source:{acme.pk}", "company": "ACME, Inc.", "back": back},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == back
    assert "Asked Rita Works for an intro at ACME, Inc." in response.text


def test_an_ask_that_cannot_be_made_says_why_next_to_the_row(sam_client, salesperson):
    opted_out = ReferralSourceFactory(owner=salesperson, name="No Thanks", opted_out=True)
    response = sam_client.post(
        reverse("prospect-warm-path-ask"),
        {"key": f"source:{opted_out.pk}", "company": "Acme"},
        **HTMX,
    )
    assert response.status_code == 422
    assert "No Thanks opted out of referral asks." in response.text
    response = sam_client.post(
        reverse("prospect-warm-path-ask"), {"key": "teammate:1:lead:1", "company": "Acme"}, **HTMX
    )
    assert response.status_code == 422
    assert "does not share contacts" in response.text


def test_an_outside_back_address_is_not_followed(sam_client, acme):
    response = sam_client.post(
        reverse("prospect-warm-path-ask"),
        {"key": f"source:{acme.pk}", "company": "Acme", "back": "https://evil.example/"},
    )
    assert response["Location"] == f"{WARM}?q=Acme"


def test_the_warm_paths_page_reads_the_same_queries_for_more_people(client_of, salesperson, acme):
    client = client_of(salesperson)
    client.get(WARM, {"q": "acme"})  # warm up the session and the user's groups
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(WARM, {"q": "acme"})
    company = salesperson.companies.get(name="ACME, Inc.")
    for index in range(20):
        LeadFactory(owner=salesperson, company=company, first_name=f"Extra{index}")
    with CaptureQueriesContext(connection) as many:
        response = client.get(WARM, {"q": "acme"})
    assert "Extra19" in response.text
    assert len(many) == len(few)


# --- Lookalikes ------------------------------------------------------------------------------


def test_with_no_won_customers_the_page_says_so_and_what_to_do(sam_client):
    text = sam_client.get(LOOKALIKES).text
    assert "No won customers yet" in text
    assert "Mark a lead as Won" in text


@pytest.fixture
def lookalike(salesperson):
    for value in (Decimal(50_000), Decimal(20_000)):
        LeadFactory(
            owner=salesperson,
            stage=Stage.WON,
            won_at=timezone.now(),
            expected_value=value,
            company=CompanyFactory(
                owner=salesperson, industry="Software", employee_count=80, country="GB"
            ),
        )
    return LeadFactory(
        owner=salesperson,
        first_name="Lola",
        last_name="Alike",
        title="Head of Sales",
        company=CompanyFactory(
            owner=salesperson,
            name="Alike Ltd",
            industry="Software",
            employee_count=90,
            country="GB",
        ),
    )


def test_the_lookalikes_page_lists_contacts_with_why_and_an_add_button(sam_client, lookalike):
    text = sam_client.get(LOOKALIKES).text
    assert "Lola Alike" in text
    assert "Same industry, size band and country as 2 of your 2 won customers" in text
    assert "Add to reconnects" in text
    assert f"{WARM}?company={lookalike.company_id}" in text


def test_adding_a_lookalike_with_htmx_confirms_the_day(sam_client, lookalike):
    response = sam_client.post(reverse("prospect-lookalike-add", args=[lookalike.pk]), **HTMX)
    assert response.status_code == 200
    follow_up = FollowUp.objects.get(lead=lookalike, done_at__isnull=True)
    assert follow_up.kind == FollowUpKind.RECONNECT
    assert "Added to your reconnect plan: due" in response.text
    assert "See your reconnect plan" in response.text
    # The page now shows the day instead of the button.
    assert "In your reconnect plan · due" in sam_client.get(LOOKALIKES).text


def test_a_won_lead_is_not_added_and_the_row_says_why(sam_client, salesperson):
    won = LeadFactory(owner=salesperson, first_name="Wendy", last_name="Won", stage=Stage.WON)
    response = sam_client.post(reverse("prospect-lookalike-add", args=[won.pk]), **HTMX)
    assert response.status_code == 422
    assert "Wendy Won is won: reopen them first." in response.text


def test_adding_without_javascript_redirects_with_a_message(sam_client, lookalike):
    response = sam_client.post(reverse("prospect-lookalike-add", args=[lookalike.pk]), follow=True)
    assert "Added Lola Alike to your reconnect plan: due" in response.text


def test_adding_someone_elses_lead_is_refused(sam_client, other_salesperson):
    theirs = LeadFactory(owner=other_salesperson)
    response = sam_client.post(reverse("prospect-lookalike-add", args=[theirs.pk]), **HTMX)
    assert response.status_code == 404
    assert not FollowUp.objects.filter(lead=theirs, kind=FollowUpKind.RECONNECT).exists()


def test_the_lookalikes_page_reads_the_same_queries_for_more_contacts(
    client_of, salesperson, lookalike
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_of(salesperson)
    client.get(LOOKALIKES)
    with CaptureQueriesContext(connection) as few:
        client.get(LOOKALIKES)
    for index in range(20):
        LeadFactory(
            owner=salesperson,
            first_name=f"More{index}",
            company=CompanyFactory(
                owner=salesperson, industry="Software", employee_count=50 + index
            ),
        )
    with CaptureQueriesContext(connection) as many:
        assert "More19" in client.get(LOOKALIKES).text
    assert len(many) == len(few)


# --- The team setting ------------------------------------------------------------------------


def test_a_manager_switches_contact_sharing_on_and_off(client_of, manager):
    client = client_of(manager)
    assert "Share contacts for introductions" in client.get(reverse("team")).text
    response = client.post(reverse("team-settings"), {"share_contacts": "on"}, follow=True)
    assert "contacts now show on" in response.text
    assert TeamSettings.objects.get().share_contacts is True
    client.post(reverse("team-settings"), {})
    assert TeamSettings.objects.get().share_contacts is False
    assert TeamSettings.objects.get().updated_by == manager


def test_a_salesperson_cannot_switch_sharing_on(sam_client):
    assert sam_client.post(reverse("team-settings"), {"share_contacts": "on"}).status_code == 403
    assert not TeamSettings.objects.exists()
