"""Crediting a referrer wherever a lead is born: the type-ahead's options, the pick made a
referral source, quick add, the Deal card and the lead page's "Who referred this?"."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from imports import services as import_services
from leads import services as lead_services
from leads.models import Lead
from leads.referrers import ReferrerChoice
from referrals.models import ReferralSource
from referrals.selectors import referrer_options
from referrals.services import referral_source_for_choice
from tests.factories import CompanyFactory, LeadFactory, ReferralSourceFactory
from tests.imports.conftest import csv_text

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def book(salesperson, other_salesperson):
    customer = LeadFactory(owner=salesperson, first_name="Carla", last_name="Customer", stage="won")
    as_source = LeadFactory(owner=salesperson, first_name="Carl", last_name="Source", stage="won")
    return {
        "customer": customer,
        "carl": ReferralSourceFactory(owner=salesperson, name="Carl Source", lead=as_source),
        "partner": ReferralSourceFactory(owner=salesperson, name="Carmen Partner", kind="partner"),
        "lead": LeadFactory(owner=salesperson, first_name="Carlos", last_name="Lead"),
        "theirs": LeadFactory(owner=other_salesperson, first_name="Carlo", last_name="Theirs"),
    }


def test_options_list_sources_then_customers_then_leads_each_person_once(salesperson, book):
    options = referrer_options(salesperson, "car")

    assert [(option.name, option.token.split(":")[0]) for option in options] == [
        ("Carl Source", "source"),
        ("Carmen Partner", "source"),
        ("Carla Customer", "lead"),
        ("Carlos Lead", "lead"),
    ]
    assert options[2].detail.startswith("Won customer")
    assert options[3].detail.startswith("Lead · New")


def test_options_never_offer_the_lead_being_edited(salesperson, book):
    tokens = [
        o.token for o in referrer_options(salesperson, "car", exclude_lead_id=book["lead"].pk)
    ]

    assert f"lead:{book['lead'].pk}" not in tokens


def test_picking_a_customer_makes_them_a_customer_source_once(salesperson, book):
    customer = book["customer"]
    choice = ReferrerChoice(token=f"lead:{customer.pk}", typed="Carla Customer")

    source = referral_source_for_choice(owner=salesperson, choice=choice)
    again = referral_source_for_choice(owner=salesperson, choice=choice)

    assert source == again
    assert (source.lead, source.kind, source.name) == (customer, "customer", "Carla Customer")


def test_picking_an_open_lead_makes_them_a_friend_source_not_due_an_ask_today(salesperson, book):
    choice = ReferrerChoice(token=f"lead:{book['lead'].pk}", typed="Carlos Lead")

    source = referral_source_for_choice(owner=salesperson, choice=choice)

    assert (source.lead, source.kind) == (book["lead"], "friend")
    assert (source.next_ask_at - source.created_at).days >= 89


def test_a_typed_name_without_a_pick_is_matched_and_an_unknown_one_refused(salesperson, book):
    by_name = ReferrerChoice(typed="  carmen   PARTNER ")
    assert referral_source_for_choice(owner=salesperson, choice=by_name) == book["partner"]

    with pytest.raises(ValidationError) as error:
        referral_source_for_choice(owner=salesperson, choice=ReferrerChoice(typed="Nobody Here"))
    assert "No referral source, customer or lead is called “Nobody Here”" in str(error.value)


def test_a_name_typed_after_a_pick_wins_over_the_pick(salesperson, book):
    stale = ReferrerChoice(token=f"source:{book['carl'].pk}", typed="Carmen Partner")

    assert referral_source_for_choice(owner=salesperson, choice=stale) == book["partner"]


def test_someone_elses_lead_is_never_credited(salesperson, book):
    choice = ReferrerChoice(token=f"lead:{book['theirs'].pk}", typed="Carlo Theirs")

    with pytest.raises(ValidationError):
        referral_source_for_choice(owner=salesperson, choice=choice)
    assert not ReferralSource.objects.filter(lead=book["theirs"]).exists()


def test_new_adds_a_friend_source_by_the_typed_name(salesperson):
    choice = ReferrerChoice(token="new", typed="Nina New")

    source = referral_source_for_choice(owner=salesperson, choice=choice)

    assert (source.name, source.kind, source.owner) == ("Nina New", "friend", salesperson)


def test_a_lead_cant_be_credited_to_itself(salesperson, book):
    carl_lead = book["carl"].lead
    with pytest.raises(ValidationError, match="can't refer themselves"):
        lead_services.lead_update(
            lead=carl_lead,
            user=salesperson,
            referred_by=ReferrerChoice(token=f"source:{book['carl'].pk}", typed="Carl Source"),
        )


def test_quick_add_failing_validation_leaves_no_new_source_behind(salesperson, book):
    LeadFactory(owner=salesperson, email="taken@example.com")
    with pytest.raises(ValidationError):
        lead_services.lead_quick_add(
            owner=salesperson,
            first_name="Dup",
            last_name="",
            email="taken@example.com",
            company_name="",
            source="own_network",
            referred_by=ReferrerChoice(token=f"lead:{book['lead'].pk}", typed="Carlos Lead"),
        )
    assert not ReferralSource.objects.filter(lead=book["lead"]).exists()


# --- views ---------------------------------------------------------------------------------


def test_search_returns_the_options_partial(client_of, salesperson, book):
    response = client_of(salesperson).get(
        reverse("referrer-search"),
        {"field": "referred_by", "referred_by_name": "carm", "listbox": "x-options"},
        **HTMX,
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert f'data-token="source:{book["partner"].pk}"' in html
    assert 'id="x-options-1"' in html
    assert "Add “carm” as a new referral source" in html


def test_search_for_someone_elses_lead_is_404(client_of, salesperson, book):
    response = client_of(salesperson).get(
        reverse("referrer-search"), {"lead": book["theirs"].pk, "q": "a"}
    )

    assert response.status_code == 404


def test_quick_add_credits_the_picked_customer(client_of, salesperson, book):
    customer = book["customer"]
    response = client_of(salesperson).post(
        reverse("lead-create"),
        {
            "first_name": "Rita",
            "last_name": "Referred",
            "source": "own_network",
            "referred_by": f"lead:{customer.pk}",
            "referred_by_name": "Carla Customer",
        },
        **HTMX,
    )

    assert response.status_code == 200
    rita = Lead.objects.get(first_name="Rita")
    assert rita.referred_by.lead == customer
    assert rita.source == "referral"


def test_quick_add_shows_an_unknown_referrer_next_to_the_field(client_of, salesperson, book):
    response = client_of(salesperson).post(
        reverse("lead-create"),
        {"first_name": "Rita", "source": "own_network", "referred_by_name": "Zed Unknown"},
        **HTMX,
    )

    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="quick-add"' in html
    assert "No referral source, customer or lead is called “Zed Unknown”" in html
    assert 'value="Zed Unknown"' in html  # what was typed is kept
    assert not Lead.objects.filter(first_name="Rita").exists()


def test_deal_edit_sets_and_clears_the_referrer(client_of, salesperson, book):
    lead = LeadFactory(owner=salesperson, source="event")
    client = client_of(salesperson)
    form = {"source": "event", "currency": "EUR", "tags": "", "notes": ""}

    client.post(
        reverse("lead-edit", args=[lead.pk, "deal"]),
        {
            **form,
            "referred_by": f"source:{book['partner'].pk}",
            "referred_by_name": "Carmen Partner",
        },
        **HTMX,
    )
    lead.refresh_from_db()
    assert lead.referred_by == book["partner"]
    assert lead.source == "referral"  # crediting a referrer makes it a referral

    client.post(
        reverse("lead-edit", args=[lead.pk, "deal"]),
        {**form, "source": "referral", "referred_by": "source:1", "referred_by_name": ""},
        **HTMX,
    )
    lead.refresh_from_db()
    assert lead.referred_by is None


def test_the_deal_form_shows_the_current_referrer(client_of, salesperson, book):
    lead = LeadFactory(owner=salesperson, referred_by=book["partner"])

    response = client_of(salesperson).get(reverse("lead-edit", args=[lead.pk, "deal"]), **HTMX)

    html = response.content.decode()
    assert f'name="referred_by" value="source:{book["partner"].pk}"' in html
    assert 'name="referred_by_name" value="Carmen Partner"' in html


def test_who_referred_shows_only_for_a_referral_without_referrer(client_of, salesperson, book):
    unknown = LeadFactory(owner=salesperson, source="referral")
    credited = LeadFactory(owner=salesperson, source="referral", referred_by=book["partner"])
    client = client_of(salesperson)

    assert 'id="who-referred"' in client.get(reverse("lead-detail", args=[unknown.pk])).text
    assert 'id="who-referred"' not in client.get(reverse("lead-detail", args=[credited.pk])).text


def test_answering_who_referred_credits_them_and_updates_the_deal_card(
    client_of, salesperson, book
):
    lead = LeadFactory(
        owner=salesperson, source="referral", company=CompanyFactory(owner=salesperson)
    )

    response = client_of(salesperson).post(
        reverse("lead-referrer", args=[lead.pk]),
        {"referred_by": f"lead:{book['customer'].pk}", "referred_by_name": "Carla Customer"},
        **HTMX,
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="who-referred"')
    assert "Credited to" in html
    assert 'id="lead-deal" class="card" hx-swap-oob="true"' in html
    assert json.loads(response["HX-Trigger"]) == {"leadChanged": {}, "leadScored": {}}
    lead.refresh_from_db()
    assert lead.referred_by.lead == book["customer"]


def test_answering_who_referred_without_a_name_says_so(client_of, salesperson):
    lead = LeadFactory(owner=salesperson, source="referral")

    response = client_of(salesperson).post(
        reverse("lead-referrer", args=[lead.pk]), {"referred_by_name": ""}, **HTMX
    )

    assert response.status_code == 422
    assert "name and pick them from the list." in response.content.decode()


# --- imports -------------------------------------------------------------------------------


def test_an_import_credits_every_lead_it_adds_to_the_referrer(
    salesperson, book, settings, tmp_path
):
    settings.DATA_DIR = tmp_path
    existing = LeadFactory(owner=salesperson, email="known@example.com", source="event")
    data = csv_text(
        "First Name,Last Name,Email", "New,One,new1@example.com", "Known,Lead,known@example.com"
    ).encode()
    customer = book["customer"]

    job = import_services.import_job_create(
        owner=salesperson,
        data=data,
        filename="intros.csv",
        referred_by=ReferrerChoice(token=f"lead:{customer.pk}", typed="Carla Customer"),
    )
    import_services.import_job_start(job=job)

    added = Lead.objects.get(email="new1@example.com")
    assert added.referred_by.lead == customer
    assert added.source == "referral"
    existing.refresh_from_db()
    assert existing.referred_by is None  # a lead the owner already had keeps its story


def test_the_upload_form_shows_an_unknown_referrer_next_to_the_field(client_of, salesperson):
    response = client_of(salesperson).post(
        reverse("import-start"),
        {
            "file": SimpleUploadedFile("a.csv", b"First Name,Email\nA,a@example.com\n"),
            "format": "auto",
            "duplicates": "fill_empty",
            "referred_by_name": "Nobody Known",
        },
    )

    assert response.status_code == 422
    assert "No referral source, customer or lead is called “Nobody Known”" in response.text


def test_the_type_ahead_needs_the_same_queries_for_1_or_10_matching_leads(
    client_of, salesperson, django_assert_num_queries
):
    customer = LeadFactory(owner=salesperson, first_name="Zed", last_name="Customer", stage="won")
    ReferralSourceFactory(owner=salesperson, name="Zed Source", lead=customer)
    LeadFactory(owner=salesperson, first_name="Zed", last_name="Lead")
    client = client_of(salesperson)
    url, params = reverse("referrer-search"), {"q": "zed"}
    client.get(url, params)  # the session is read and touched once
    with CaptureQueriesContext(connection) as one_lead:
        client.get(url, params)
    for number in range(9):
        LeadFactory(owner=salesperson, first_name="Zed", last_name=f"Lead {number}")

    with django_assert_num_queries(len(one_lead)):
        response = client.get(url, params)

    assert response.content.decode().count('role="option"') == 9  # 1 source, 7 leads, "add new"


def test_without_javascript_quick_add_matches_the_typed_name(client_of, salesperson, book):
    # No htmx, no pick: the hidden token is empty and only the typed name is sent.
    response = client_of(salesperson).post(
        reverse("lead-create"),
        {"first_name": "Nora", "source": "own_network", "referred_by_name": "carmen partner"},
    )

    nora = Lead.objects.get(first_name="Nora")
    assert response.status_code == 302
    assert response["Location"] == reverse("lead-detail", args=[nora.pk])
    assert nora.referred_by == book["partner"]
