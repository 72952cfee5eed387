"""Research moves the score: the lead page's Company card, the company page and the score card."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from icp.rescoring import lead_rescore
from tests.factories import CompanyFactory, CriterionFactory, ICPFactory, LeadFactory

HTMX = {"HX-Request": "true"}


def html(response) -> str:
    return response.content.decode()


def score_card_lists(page: str) -> dict[str, list[str]]:
    """The score card's lists by heading: {"Matched": [...], "Not matched": [...], …}."""
    card = page[page.index('id="lead-score"') :]
    card = card[: card.index("</section>")]
    return {
        heading: re.findall(r"<li>([^<]*)</li>", items)
        for heading, items in re.findall(r"<h3>([^<]*)</h3><ul[^>]*>(.*?)</ul>", card)
    }


@pytest.mark.django_db
def test_a_score_stored_before_the_fix_lists_an_unknown_criterion_only_as_unknown(
    sam_client, salesperson
):
    # Scores stored before the engine listed unknown criteria apart had them in both lists
    # (until the nightly rescore rewrites them); the card shows each once either way.
    lead = LeadFactory(
        owner=salesperson,
        score_explanation={
            "icp": "EU SaaS",
            "matched": ["Country is GB"],
            "unmatched": ["Industry is Software", "Staff 50-500"],
            "unknown": ["Industry is Software"],
        },
    )

    response = sam_client.get(
        reverse("lead-detail", args=[lead.pk]) + "?region=lead-score", headers=HTMX
    )

    assert score_card_lists(html(response)) == {
        "Matched": ["Country is GB"],
        "Not matched": ["Staff 50-500"],
        "Unknown — worth researching": ["Industry is Software"],
    }


@pytest.fixture
def software_icp(salesperson):
    """Software companies of 50-500 people: half the fit each."""
    icp = ICPFactory(owner=salesperson, name="Software scale-ups")
    CriterionFactory(icp=icp, field="industry", value="Software", weight=10)
    CriterionFactory(
        icp=icp, field="employee_count", operator="range", value={"min": 50, "max": 500}, weight=10
    )
    return icp


INDUSTRY = "Industry equals Software"
STAFF = "Employee count is between 50 and 500"
COMPANY_FACTS = {
    "name": "Acme",
    "industry": "Software",
    "employee_count": "120",
    "annual_revenue": "",
    "country": "gb",
    "region": "",
    "city": "",
    "domain": "acme.example",
}


def researched_lead(owner, **company_fields):
    """A lead at a company whose industry and size nobody has looked up, scored as it is."""
    company = CompanyFactory(
        owner=owner, name="Acme", industry="", employee_count=None, domain="", **company_fields
    )
    lead = LeadFactory(owner=owner, first_name="Dana", last_name="Lee", company=company)
    lead_rescore(lead_id=lead.pk)
    return lead


# --- The lead page's Company card ----------------------------------------------------------


@pytest.mark.django_db
def test_the_company_card_shows_what_is_unknown_and_links_the_company_page(sam_client, salesperson):
    lead = researched_lead(salesperson, country="DE")

    page = html(sam_client.get(reverse("lead-detail", args=[lead.pk])))

    card = page[page.index('<section id="lead-company"') :]
    card = card[: card.index("</section>")]
    company_url = reverse("company-detail", args=[lead.company.pk])
    assert f'<a href="{company_url}">Acme</a>' in card
    assert '<dt>Industry</dt><dd><span class="muted">unknown</span>' in card
    assert "<dt>Country</dt><dd>DE" in card
    assert f'at <a href="{company_url}">Acme</a>' in page  # the header names it too


@pytest.mark.django_db
def test_edit_gives_the_company_form_with_the_industries_already_used(sam_client, salesperson):
    lead = researched_lead(salesperson)
    CompanyFactory(owner=salesperson, industry="Fintech")
    CompanyFactory(industry="Secret industry")  # someone else's

    response = sam_client.get(reverse("lead-company-edit", args=[lead.pk]), headers=HTMX)

    page = html(response)
    assert page.lstrip().startswith('<section id="lead-company"')
    assert 'name="industry"' in page
    assert 'list="industry-options"' in page
    assert '<option value="Fintech">' in page
    assert "Secret industry" not in page


@pytest.mark.django_db
def test_saving_the_company_rescores_the_lead_before_the_score_card_reloads(
    sam_client, salesperson, software_icp
):
    lead = researched_lead(salesperson)
    score_url = reverse("lead-detail", args=[lead.pk]) + "?region=lead-score"
    before = score_card_lists(html(sam_client.get(score_url, headers=HTMX)))
    assert before["Unknown — worth researching"] == [INDUSTRY, STAFF]

    response = sam_client.post(
        reverse("lead-company-edit", args=[lead.pk]), COMPANY_FACTS, headers=HTMX
    )

    assert response.status_code == 200
    assert html(response).lstrip().startswith('<section id="lead-company"')
    assert "<dt>Industry</dt><dd>Software</dd>" in html(response)
    # The company named under the header comes along, out of band.
    heading = html(response).split('<div id="lead-heading" hx-swap-oob="true">', 1)[1]
    assert f'<a href="/companies/{lead.company.pk}/">Acme</a>' in heading.split("</div>")[0]
    # The score card reloads at once on leadScored (not after the 2.5 s it gives a worker).
    assert json.loads(response["HX-Trigger"]) == {"leadScored": {}}
    score_card = html(sam_client.get(score_url, headers=HTMX))
    assert "Score 60" in score_card
    # The header's grade comes along, out of band.
    assert '<span id="lead-grade" hx-swap-oob="true"><span class="grade grade-B"' in score_card
    assert score_card_lists(score_card) == {"Matched": [INDUSTRY, STAFF]}
    lead.company.refresh_from_db()
    assert (lead.company.country, lead.company.domain) == ("GB", "acme.example")


@pytest.mark.django_db
def test_cancel_reloads_the_company_card_as_it_was(sam_client, salesperson):
    lead = researched_lead(salesperson)
    form = html(sam_client.get(reverse("lead-company-edit", args=[lead.pk]), headers=HTMX))
    cancel_url = re.search(r'hx-get="([^"]*)"[^>]*>Cancel</a>', form).group(1)

    response = sam_client.get(cancel_url, headers=HTMX)

    page = html(response)
    assert page.lstrip().startswith('<section id="lead-company"')  # the card, not the timeline
    assert "<dt>Industry</dt>" in page
    assert "<form" not in page


@pytest.mark.django_db
def test_wrong_facts_are_shown_next_to_their_fields_and_nothing_is_saved(sam_client, salesperson):
    lead = researched_lead(salesperson)
    facts = {**COMPANY_FACTS, "country": "Germany", "employee_count": "-5"}

    response = sam_client.post(reverse("lead-company-edit", args=[lead.pk]), facts, headers=HTMX)

    assert response.status_code == 422
    page = html(response)
    assert page.lstrip().startswith('<section id="lead-company"')
    assert 'id="id_country_error">Use the two-letter country code, e.g. GB.' in page
    assert 'id="id_employee_count_error"' in page
    lead.company.refresh_from_db()
    assert (lead.company.industry, lead.company.country) == ("", "GB")


@pytest.mark.django_db
def test_a_domain_of_another_of_your_companies_is_refused_on_the_form(sam_client, salesperson):
    lead = researched_lead(salesperson)
    CompanyFactory(owner=salesperson, domain="acme.example")

    response = sam_client.post(
        reverse("lead-company-edit", args=[lead.pk]), COMPANY_FACTS, headers=HTMX
    )

    assert response.status_code == 422
    assert "You already have a company with this domain." in html(response)


@pytest.mark.django_db
def test_without_javascript_the_card_edits_on_the_whole_page(sam_client, salesperson):
    lead = researched_lead(salesperson)

    page = html(sam_client.get(reverse("lead-company-edit", args=[lead.pk])))
    response = sam_client.post(reverse("lead-company-edit", args=[lead.pk]), COMPANY_FACTS)

    assert "<title>Dana Lee · LeadHunter</title>" in page
    assert 'action="{}"'.format(reverse("lead-company-edit", args=[lead.pk])) in page
    assert response.status_code == 302
    assert response["Location"] == reverse("lead-detail", args=[lead.pk])


@pytest.mark.django_db
def test_a_lead_without_a_company_gets_one_from_its_card(sam_client, salesperson, software_icp):
    lead = LeadFactory(owner=salesperson, company=None)
    card = html(sam_client.get(reverse("lead-detail", args=[lead.pk])))
    assert "No company yet" in card
    assert "Add company" in card

    response = sam_client.post(
        reverse("lead-company-edit", args=[lead.pk]),
        {**COMPANY_FACTS, "name": "Initech"},
        headers=HTMX,
    )

    assert response.status_code == 200
    lead.refresh_from_db()
    assert (lead.company.name, lead.company.owner, lead.fit_score) == ("Initech", salesperson, 100)


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post"])
def test_another_salespersons_lead_company_answers_404(sam_client, other_salesperson, method):
    lead = researched_lead(other_salesperson)

    response = getattr(sam_client, method)(
        reverse("lead-company-edit", args=[lead.pk]), COMPANY_FACTS
    )

    assert response.status_code == 404
    lead.company.refresh_from_db()
    assert lead.company.industry == ""


# --- The company page ----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_company_page_lists_its_contacts_and_their_open_and_won_value(sam_client, salesperson):
    acme = CompanyFactory(owner=salesperson, name="Acme", industry="Software")
    LeadFactory(
        owner=salesperson, company=acme, first_name="Ada", expected_value=12000, total_score=80
    )
    LeadFactory(
        owner=salesperson,
        company=acme,
        first_name="Bo",
        expected_value=3000,
        stage="proposal",
        total_score=40,
    )
    LeadFactory(
        owner=salesperson,
        company=acme,
        first_name="Cy",
        expected_value=40000,
        stage="won",
        won_at=timezone.now(),
    )
    LeadFactory(
        owner=salesperson,
        company=acme,
        first_name="Di",
        expected_value=500,
        stage="lost",
        lost_reason="Budget",
    )
    LeadFactory(
        owner=salesperson, company=acme, first_name="Ed", expected_value=900, currency="USD"
    )
    LeadFactory(owner=salesperson, first_name="Elsewhere")

    page = html(sam_client.get(reverse("company-detail", args=[acme.pk])))

    assert "<title>Acme · LeadHunter</title>" in page
    assert 'Contacts <span class="muted">5</span>' in page
    assert re.search(r"Open value</dt><dd><span[^>]*>€15,000</span> \+ <span[^>]*>\$900", page)
    assert "3 open" in page
    assert re.search(r"Won value</dt><dd><span[^>]*>€40,000</span> <span[^>]*>· 1 won", page)
    contacts = page[page.index("company-contacts") :]
    assert contacts.index("Ada") < contacts.index("Bo")  # best score first
    assert "Elsewhere" not in page


@pytest.mark.django_db
def test_a_company_without_leads_says_how_to_add_one(sam_client, salesperson):
    acme = CompanyFactory(owner=salesperson, name="Acme")

    page = html(sam_client.get(reverse("company-detail", args=[acme.pk])))

    assert "No leads at Acme yet" in page
    assert "Open value</dt><dd>—" in page


@pytest.mark.django_db
@pytest.mark.parametrize("contacts", [1, 15])
def test_the_company_page_query_count_does_not_depend_on_contacts(
    sam_client, salesperson, django_assert_num_queries, contacts
):
    acme = CompanyFactory(owner=salesperson)
    LeadFactory.create_batch(contacts, owner=salesperson, company=acme)

    # Session, user with the manager flag, company, contacts, values.
    with django_assert_num_queries(5):
        sam_client.get(reverse("company-detail", args=[acme.pk]))


@pytest.mark.django_db
def test_editing_on_the_company_page_rescores_and_reloads_the_contacts(
    sam_client, salesperson, software_icp
):
    lead = researched_lead(salesperson)
    company_url = reverse("company-detail", args=[lead.company.pk])

    response = sam_client.post(
        reverse("company-edit", args=[lead.company.pk]), COMPANY_FACTS, headers=HTMX
    )

    assert response.status_code == 200
    assert html(response).lstrip().startswith('<section id="company-facts"')
    header = html(response)[html(response).index('id="company-header"') :]
    assert header.startswith('id="company-header" hx-swap-oob="true"')
    assert "Software · GB" in header
    assert json.loads(response["HX-Trigger"]) == {"companyChanged": {}}
    contacts = html(sam_client.get(company_url + "?region=company-leads", headers=HTMX))
    assert contacts.lstrip().startswith('<section id="company-leads"')
    assert "Score 60" in contacts
    cancel = html(sam_client.get(company_url + "?region=company-facts", headers=HTMX))
    assert cancel.lstrip().startswith('<section id="company-facts"')


@pytest.mark.django_db
def test_wrong_facts_on_the_company_page_are_shown_next_to_the_field(sam_client, salesperson):
    acme = CompanyFactory(owner=salesperson, name="Acme")

    response = sam_client.post(
        reverse("company-edit", args=[acme.pk]), {**COMPANY_FACTS, "name": ""}, headers=HTMX
    )

    assert response.status_code == 422
    assert 'id="id_name_error"' in html(response)
    acme.refresh_from_db()
    assert acme.name == "Acme"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "url_name"),
    [("get", "company-detail"), ("get", "company-edit"), ("post", "company-edit")],
)
def test_another_salespersons_company_answers_404(sam_client, other_salesperson, method, url_name):
    theirs = CompanyFactory(owner=other_salesperson, name="Theirs")

    response = getattr(sam_client, method)(reverse(url_name, args=[theirs.pk]), COMPANY_FACTS)

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "Theirs"


@pytest.mark.django_db
def test_a_manager_sees_a_team_members_company(client_of, manager, salesperson):
    acme = CompanyFactory(owner=salesperson, name="Acme")
    LeadFactory(owner=salesperson, company=acme, first_name="Ada")

    page = html(client_of(manager).get(reverse("company-detail", args=[acme.pk])))

    assert "Ada" in page


@pytest.mark.django_db
def test_the_lead_list_links_each_company_to_its_page(sam_client, salesperson):
    lead = LeadFactory(owner=salesperson, company__name="Acme")

    page = html(sam_client.get(reverse("lead-list")))

    assert '<a href="{}">Acme</a>'.format(reverse("company-detail", args=[lead.company.pk])) in page


# --- Seniority on the Contact card ---------------------------------------------------------


@pytest.mark.django_db
def test_a_new_title_on_the_contact_card_brings_its_seniority_and_score_at_once(
    sam_client, salesperson
):
    icp = ICPFactory(owner=salesperson)
    CriterionFactory(icp=icp, field="seniority", operator="one_of", value=["vp", "c_level"])
    lead = LeadFactory(owner=salesperson, first_name="Pat", title="Sales Manager", seniority="")
    contact = {"first_name": "Pat", "last_name": "Doe", "seniority": "", "title": "VP Sales"}

    response = sam_client.post(
        reverse("lead-edit", args=[lead.pk, "contact"]), contact, headers=HTMX
    )

    assert response.status_code == 200
    assert 'VP Sales <span class="muted">(VP)</span>' in html(response)
    assert json.loads(response["HX-Trigger"]) == {"leadChanged": {}, "leadScored": {}}
    lead.refresh_from_db()
    assert (lead.seniority, lead.fit_score) == ("vp", 100)


@pytest.mark.django_db
def test_a_company_name_in_the_lead_list_is_escaped(sam_client, salesperson):
    lead = LeadFactory(owner=salesperson, company__name="<b>Acme</b> & Co")

    page = html(sam_client.get(reverse("lead-list")))

    company_url = reverse("company-detail", args=[lead.company.pk])
    assert f'<a href="{company_url}">&lt;b&gt;Acme&lt;/b&gt; &amp; Co</a>' in page


def score_card_notes(page: str) -> list[str]:
    """The score card's red notes (knock-outs), as read."""
    card = page[page.index('id="lead-score"') :]
    card = card[: card.index("</section>")]
    return re.findall(r'<p class="explain-bad">([^<]*)</p>', card)


@pytest.mark.django_db
def test_a_required_fact_nobody_knows_reads_as_missing_not_as_a_knock_out(
    sam_client, salesperson, software_icp
):
    software_icp.criteria.update(required=True)
    lead = researched_lead(salesperson)  # industry and size unknown
    score_url = reverse("lead-detail", args=[lead.pk]) + "?region=lead-score"

    before = html(sam_client.get(score_url, headers=HTMX))
    sam_client.post(
        reverse("lead-company-edit", args=[lead.pk]),
        {**COMPANY_FACTS, "industry": "Retail", "employee_count": ""},
        headers=HTMX,
    )
    after = html(sam_client.get(score_url, headers=HTMX))

    assert score_card_notes(before) == [
        f"Fit is 0 until this knock-out criterion is known: {INDUSTRY}, {STAFF}"
    ]
    assert score_card_lists(before)["Unknown — worth researching"] == [INDUSTRY, STAFF]
    # Known now, and not met: a knock-out; the size is still to be found.
    assert score_card_notes(after) == [
        f"Knocked out by: {INDUSTRY}",
        f"Fit is 0 until this knock-out criterion is known: {STAFF}",
    ]
