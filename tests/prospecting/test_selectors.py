"""Warm paths and lookalikes read from a real database."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import TeamSettings
from leads.models import FollowUp, FollowUpKind, Stage
from prospecting import selectors
from prospecting.paths import Kind
from tests.factories import (
    ActivityFactory,
    CompanyFactory,
    LeadFactory,
    ReferralSourceFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(salesperson, other_salesperson):
    """Sam's ways into Acme (acme.com), spelled in many ways, and a teammate's contact there."""
    sam = salesperson
    acme_inc = CompanyFactory(owner=sam, name="ACME, Inc.", domain="acme.com")
    acme_ltd = CompanyFactory(owner=sam, name="Acme Ltd", domain="")
    acme_uk = CompanyFactory(owner=sam, name="Roadrunner Holdings UK", domain="acme.com.example")
    acme_uk.domain = ""
    acme_uk.save()
    foods = CompanyFactory(owner=sam, name="Acme Foods", domain="acmefoods.com")
    people = {
        "carla": LeadFactory(
            owner=sam,
            first_name="Carla",
            last_name="Customer",
            stage=Stage.WON,
            company=acme_inc,
            won_at=timezone.now(),
        ),
        "nina": LeadFactory(
            owner=sam,
            first_name="Nina",
            last_name="Network",
            source="own_network",
            company=acme_ltd,
        ),
        "leo": LeadFactory(
            owner=sam,
            first_name="Leo",
            last_name="Lead",
            source="marketing",
            stage=Stage.ENGAGED,
            company=acme_inc,
        ),
        "eve": LeadFactory(
            owner=sam,
            first_name="Eve",
            last_name="Email",
            email="eve@acme.com",
            source="marketing",
            company=None,
        ),
        "fred": LeadFactory(owner=sam, first_name="Fred", last_name="Foods", company=foods),
    }
    people["rita"] = ReferralSourceFactory(
        owner=sam, name="Rita Works", email="rita@acme.com", strength=4
    )
    people["ray"] = ReferralSourceFactory(
        owner=sam, name="Ray Referrer", email="ray@else.org", strength=5
    )
    people["paula"] = LeadFactory(
        owner=sam,
        first_name="Paula",
        last_name="Referred",
        company=acme_inc,
        referred_by=people["ray"],
        source="referral",
    )
    teammate_company = CompanyFactory(owner=other_salesperson, name="Acme", domain="acme.com")
    people["tom"] = LeadFactory(
        owner=other_salesperson,
        first_name="Tom",
        last_name="Tate",
        title="CTO",
        email="tom@acme.com",
        phone="+441234567890",
        notes="Secret: budget is 40k",
        company=teammate_company,
        stage=Stage.WON,
    )
    return people


def _names(result):
    return [path.name for path in result.paths]


@pytest.mark.parametrize(
    "typed",
    ["ACME, Inc.", "Acme Inc", "acme", "The Acme Company", "acme.com", "https://www.acme.com/"],
)
def test_every_spelling_finds_the_same_people_strongest_first(salesperson, acme, typed):
    result = selectors.warm_paths(salesperson, query=typed)
    names = _names(result)
    assert names[0] == "Carla Customer"  # your customer: 5
    assert set(names) >= {"Carla Customer", "Rita Works", "Ray Referrer", "Leo Lead", "Eve Email"}
    assert "Fred Foods" not in names
    assert "Tom Tate" not in names  # sharing is off by default
    strengths = [path.strength for path in result.paths]
    assert strengths == sorted(strengths, reverse=True)


def test_each_row_says_why_and_how_strong(salesperson, acme):
    result = selectors.warm_paths(salesperson, query="Acme Inc")
    by_name = {path.name: path for path in result.paths}
    assert by_name["Carla Customer"].reasons[0] == "Your customer at ACME, Inc."
    assert by_name["Carla Customer"].strength_word == "Very strong"
    assert by_name["Nina Network"].kind == Kind.CONNECTION
    assert by_name["Nina Network"].reasons == (
        "Your connection at Acme Ltd (imported from your network)",
        "never contacted",
    )
    assert by_name["Rita Works"].reasons == (
        "Referral source with an email at acme.com",
        "Relationship 4/5",
    )
    assert by_name["Rita Works"].strength == 4
    assert by_name["Ray Referrer"].reasons[0] == "Referred Paula Referred at ACME, Inc. to you"
    assert by_name["Ray Referrer"].strength == 4  # 5, one less: knows a person, not the place
    assert by_name["Eve Email"].reasons[0] == "Your lead with an email at acme.com (New)"
    assert {c.name: c.how for c in result.companies} == {"ACME, Inc.": "name", "Acme Ltd": "name"}


def test_a_company_found_by_name_brings_the_others_at_its_domain(salesperson):
    CompanyFactory(owner=salesperson, name="Globex Corporation", domain="globex.com")
    # A teammate keeps the same domain under another name (their view is shared).
    other = CompanyFactory(owner=UserFactory(), name="Initech Europe", domain="globex.com")
    TeamSettings.objects.create(pk=1, share_contacts=True)
    LeadFactory(owner=other.owner, first_name="Ian", last_name="Init", company=other)
    result = selectors.warm_paths(salesperson, query="globex corp")
    assert {c.name: c.how for c in result.companies} == {
        "Globex Corporation": "name",
        "Initech Europe": "same domain (globex.com)",
    }
    assert _names(result) == ["Ian Init"]


def test_teammates_contacts_show_only_when_the_team_shares_and_only_name_and_title(
    salesperson, acme
):
    TeamSettings.objects.create(pk=1, share_contacts=True)
    result = selectors.warm_paths(salesperson, query="acme")
    (tom,) = [path for path in result.paths if path.teammate]
    assert (tom.name, tom.title, tom.kind, tom.strength) == ("Tom Tate", "CTO", Kind.TEAMMATE, 4)
    assert tom.action_label == f"Ask {tom.teammate.split()[0]} for an intro"
    assert tom.lead_id is None
    assert tom.source_id is None
    shown = repr(tom)
    assert "tom@acme.com" not in shown
    assert "Secret" not in shown
    assert "+44" not in shown


def test_a_company_picked_from_its_page(salesperson, acme):
    company = acme["carla"].company
    result = selectors.warm_paths(salesperson, company=company)
    assert result.label == "ACME, Inc."
    assert "Nina Network" in _names(result)  # Acme Ltd, by name


def test_nothing_found_and_nothing_typed(salesperson, acme):
    assert selectors.warm_paths(salesperson, query="Initrode").paths == []
    assert selectors.warm_paths(salesperson, query=" ,. ").companies == []


def test_warm_paths_read_a_fixed_number_of_queries(salesperson, acme, django_assert_num_queries):
    TeamSettings.objects.create(pk=1, share_contacts=True)
    with django_assert_num_queries(5):
        first = selectors.warm_paths(salesperson, query="acme")
    company = acme["carla"].company
    for index in range(15):
        LeadFactory(owner=salesperson, company=company, first_name=f"More{index}")
        ReferralSourceFactory(owner=salesperson, email=f"more{index}@acme.com")
    with django_assert_num_queries(5):
        second = selectors.warm_paths(salesperson, query="acme")
    assert len(second.paths) == len(first.paths) + 30


# --- Lookalikes ------------------------------------------------------------------------------


@pytest.fixture
def customers(salesperson):
    """Sam won three software companies of 51–200 people in GB, one big and two small."""
    won = []
    for index, value in enumerate([Decimal(90_000), Decimal(5_000), None]):
        company = CompanyFactory(
            owner=salesperson,
            name=f"Won {index}",
            industry="Software",
            employee_count=120,
            country="GB",
        )
        won.append(
            LeadFactory(
                owner=salesperson,
                company=company,
                stage=Stage.WON,
                expected_value=value,
                title="VP Sales",
                seniority="vp",
                won_at=timezone.now(),
            )
        )
    retail = CompanyFactory(
        owner=salesperson, name="Won Retail", industry="Retail", employee_count=5
    )
    won.append(
        LeadFactory(
            owner=salesperson, company=retail, stage=Stage.WON, expected_value=Decimal(1_000)
        )
    )
    return won


def _candidate(owner, name, **company):
    return LeadFactory(
        owner=owner,
        first_name=name,
        last_name="Prospect",
        title="VP Marketing",
        seniority="vp",
        company=CompanyFactory(owner=owner, name=f"{name} Co", **company),
    )


def test_lookalikes_rank_unworked_contacts_by_likeness_and_say_why(salesperson, customers):
    best = _candidate(salesperson, "Best", industry="Software", employee_count=150, country="GB")
    middle = _candidate(
        salesperson, "Middle", industry="Software", employee_count=9000, country="US"
    )
    retail = _candidate(salesperson, "Retail", industry="Retail", employee_count=5, country="US")
    worked = _candidate(
        salesperson, "Worked", industry="Software", employee_count=150, country="GB"
    )
    ActivityFactory(lead=worked)
    result = selectors.lookalikes(salesperson)
    names = [row.name for row in result.leads]
    assert names[:3] == ["Best Prospect", "Middle Prospect", "Retail Prospect"]
    assert "Worked Prospect" not in names
    assert result.customers == 4
    top = result.leads[0]
    assert top.explanation.headline == (
        "Same industry, size band and country as 3 of your 4 won customers; title seniority matches"
    )
    assert 0 < top.score <= 1
    assert best.pk == top.lead_id
    assert middle
    assert retail


def test_a_contact_in_the_reconnect_plan_shows_its_day(salesperson, customers):
    lead = _candidate(salesperson, "Pooled", industry="Software", employee_count=150)
    due = timezone.now() + timedelta(days=3)
    FollowUp.objects.create(lead=lead, kind=FollowUpKind.RECONNECT, due_at=due, rule="reconnect")
    (row,) = [row for row in selectors.lookalikes(salesperson).leads if row.lead_id == lead.pk]
    assert row.in_pool_due == due


def test_another_owners_leads_and_unrelated_companies_do_not_change_the_order(
    salesperson, other_salesperson, customers
):
    for index, size in enumerate([150, 9000, 3, 600]):
        _candidate(salesperson, f"P{index}", industry="Software", employee_count=size)
    before = [row.lead_id for row in selectors.lookalikes(salesperson).leads]
    _candidate(other_salesperson, "Theirs", industry="Software", employee_count=150, country="GB")
    LeadFactory(owner=other_salesperson, stage=Stage.WON, expected_value=Decimal(10**6))
    CompanyFactory(owner=salesperson, name="Nobody works here", industry="Mining")
    assert [row.lead_id for row in selectors.lookalikes(salesperson).leads] == before


def test_companies_nobody_worked_are_ranked_on_company_facts(salesperson, customers):
    CompanyFactory(
        owner=salesperson, name="Like Them", industry="Software", employee_count=100, country="GB"
    )
    CompanyFactory(
        owner=salesperson, name="Unlike", industry="Mining", employee_count=None, country=""
    )
    companies = selectors.lookalikes(salesperson).companies
    assert companies[0].name == "Like Them"
    assert "Unlike" not in [company.name for company in companies]
    assert "Won 0" not in [company.name for company in companies]


def test_no_won_customers_means_no_lookalikes(salesperson):
    _candidate(salesperson, "Someone", industry="Software")
    result = selectors.lookalikes(salesperson)
    assert (result.customers, result.leads, result.companies) == (0, [], [])


def test_lookalikes_read_a_fixed_number_of_queries(
    salesperson, customers, django_assert_num_queries
):
    _candidate(salesperson, "One", industry="Software", employee_count=150)
    with django_assert_num_queries(4):
        selectors.lookalikes(salesperson)
    for index in range(20):
        _candidate(salesperson, f"N{index}", industry="Software", employee_count=150 + index)
    with django_assert_num_queries(4):
        result = selectors.lookalikes(salesperson)
    assert len(result.leads) == 21


def test_a_do_not_contact_lead_is_shown_without_an_ask(salesperson):
    company = CompanyFactory(owner=salesperson, name="Quiet Co")
    LeadFactory(owner=salesperson, first_name="Quinn", company=company, do_not_contact=True)
    (path,) = selectors.warm_paths(salesperson, query="quiet co.").paths
    assert not path.can_ask
    assert path.cannot_ask_because == "Asked not to be contacted."


def test_a_teammates_contact_known_only_by_email_is_not_shown_by_it(salesperson, other_salesperson):
    TeamSettings.objects.create(pk=1, share_contacts=True)
    company = CompanyFactory(owner=other_salesperson, name="Hidden Ltd", domain="hidden.example")
    LeadFactory(
        owner=other_salesperson,
        first_name="",
        last_name="",
        email="x@hidden.example",
        company=company,
    )
    (path,) = selectors.warm_paths(salesperson, query="hidden").paths
    assert path.name == "A contact"
    assert "x@hidden.example" not in repr(path)


@pytest.mark.parametrize(
    ("stored", "typed"), [("Müller GmbH", "Mueller GmbH"), ("Mueller AG", "müller")]
)
def test_an_umlaut_typed_either_way_finds_the_company(salesperson, stored, typed):
    LeadFactory(
        owner=salesperson, first_name="Uwe", company=CompanyFactory(owner=salesperson, name=stored)
    )
    assert _names(selectors.warm_paths(salesperson, query=typed)) == [
        f"Uwe {salesperson.leads.get().last_name}"
    ]


def test_a_deactivated_teammates_contacts_are_not_offered(salesperson, other_salesperson):
    TeamSettings.objects.create(pk=1, share_contacts=True)
    company = CompanyFactory(owner=other_salesperson, name="Gone Ltd")
    LeadFactory(owner=other_salesperson, first_name="Gina", company=company)
    assert len(selectors.warm_paths(salesperson, query="gone").paths) == 1
    other_salesperson.is_active = False
    other_salesperson.save()
    assert selectors.warm_paths(salesperson, query="gone").paths == []


def test_a_domain_typed_also_finds_the_companies_of_the_same_name(salesperson, acme):
    result = selectors.warm_paths(salesperson, query="acme.com")
    assert {c.name: c.how for c in result.companies} == {
        "ACME, Inc.": "domain",
        "Acme Ltd": "same name",
    }
    assert "Nina Network" in _names(result)
