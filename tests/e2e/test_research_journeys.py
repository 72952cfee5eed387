"""Research moves the score: a salesperson fills in what they found out about a lead's company
and sees the score move on the same page, then looks at the company as a whole."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from icp.models import ICP, Criterion
from icp.rescoring import lead_rescore
from leads.models import Company, Lead
from tests.factories import CompanyFactory, LeadFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

INDUSTRY = "Industry equals Software"
STAFF = "Employee count is between 50 and 500"


def fact(card, name: str):
    """The value a facts list gives for `name`."""
    return card.locator(f"dt:text-is('{name}') + dd")


def software_icp(owner) -> ICP:
    icp = ICP.objects.create(owner=owner, name="Software scale-ups")
    Criterion.objects.create(
        icp=icp, field="industry", operator="equals", value="Software", weight=10
    )
    Criterion.objects.create(
        icp=icp, field="employee_count", operator="range", value={"min": 50, "max": 500}, weight=10
    )
    return icp


def test_researching_the_company_moves_the_score_without_a_reload(
    logged_in_page, live_server, salesperson, console_errors
):
    software_icp(salesperson)
    acme = CompanyFactory(
        owner=salesperson, name="Acme", industry="", employee_count=None, country="GB"
    )
    dana = LeadFactory(
        owner=salesperson, first_name="Dana", last_name="Lee", company=acme, expected_value=12000
    )
    won = LeadFactory(
        owner=salesperson,
        first_name="Wes",
        last_name="Won",
        company=acme,
        stage="won",
        won_at=timezone.now(),
        expected_value=40000,
    )
    for lead in (dana, won):
        lead_rescore(lead_id=lead.pk)
    page = logged_in_page(salesperson)
    page.goto(f"{live_server.url}/leads/{dana.pk}/")

    # What is not known is listed as worth researching, and only there.
    score = page.locator("#lead-score")
    expect(score.get_by_role("heading", level=2)).to_contain_text("Score 0")
    expect(score.locator(".explain-unknown")).to_contain_text(INDUSTRY)
    expect(score.locator(".explain-unknown")).to_contain_text(STAFF)
    expect(score).not_to_contain_text("Not matched")
    company_card = page.locator("#lead-company")
    expect(fact(company_card, "Industry")).to_have_text("unknown")

    # Cancel leaves the card as it was.
    company_card.get_by_role("link", name="Edit").click()
    expect(company_card.get_by_label("Industry")).to_be_focused()
    company_card.get_by_role("link", name="Cancel").click()
    expect(company_card.locator("form")).to_have_count(0)
    expect(fact(company_card, "Industry")).to_have_text("unknown")

    # The salesperson looked the company up: software, 120 people.
    page.evaluate("window.stillTheSamePage = true")
    company_card.get_by_role("link", name="Edit").click()
    # htmx focuses the autofocus field once the form settles: typing before that, a loaded
    # machine put "120" into Industry ("Software120"), as a person typing that fast would.
    expect(company_card.get_by_label("Industry")).to_be_focused()
    company_card.get_by_label("Industry").fill("Software")
    company_card.get_by_label("Employees").fill("120")
    company_card.get_by_role("button", name="Save").click()

    expect(fact(company_card, "Industry")).to_have_text("Software")
    expect(fact(company_card, "Employees")).to_have_text("120")
    expect(score.get_by_role("heading", level=2)).to_contain_text("Score 60")
    expect(page.locator("#lead-grade")).to_have_text("B")  # the header's grade too
    expect(score.locator(".explain-good")).to_contain_text(INDUSTRY)
    expect(score.locator(".explain-good")).to_contain_text(STAFF)
    expect(score).not_to_contain_text("worth researching")
    assert page.evaluate("window.stillTheSamePage") is True  # no reload
    assert Lead.objects.get(pk=dana.pk).total_score == 60

    # The company as a whole: its contacts, open value and won value.
    company_card.get_by_role("link", name="Acme", exact=True).click()
    expect(page).to_have_title("Acme · LeadHunter")
    contacts = page.locator("#company-leads")
    expect(contacts).to_contain_text("Contacts 2")
    expect(contacts.get_by_role("link", name="Dana Lee")).to_be_visible()
    expect(contacts.get_by_role("link", name="Wes Won")).to_be_visible()
    expect(fact(contacts, "Open value")).to_have_text("€12,000 · 1 open")
    expect(fact(contacts, "Won value")).to_have_text("€40,000 · 1 won")
    expect(contacts).to_contain_text("Score 60")
    assert console_errors == []


def test_a_required_fact_nobody_knows_says_so_until_the_salesperson_fills_it_in(
    logged_in_page, live_server, salesperson, console_errors
):
    icp = software_icp(salesperson)
    icp.criteria.filter(field="employee_count").update(required=True)
    acme = CompanyFactory(
        owner=salesperson, name="Acme", industry="Software", employee_count=None, country="GB"
    )
    dana = LeadFactory(owner=salesperson, first_name="Dana", last_name="Lee", company=acme)
    lead_rescore(lead_id=dana.pk)
    page = logged_in_page(salesperson)
    page.goto(f"{live_server.url}/leads/{dana.pk}/")

    # The size is required and unknown: the card says the fit waits for it, not that the
    # lead failed it.
    score = page.locator("#lead-score")
    expect(score.locator(".explain-bad")).to_have_text(
        f"Fit is 0 until this knock-out criterion is known: {STAFF}"
    )
    expect(score).not_to_contain_text("Knocked out by")
    expect(score.locator(".explain-unknown")).to_contain_text(STAFF)

    company_card = page.locator("#lead-company")
    company_card.get_by_role("link", name="Edit").click()
    expect(company_card.get_by_label("Industry")).to_be_focused()
    company_card.get_by_label("Employees").fill("120")
    company_card.get_by_role("button", name="Save").click()

    expect(score.get_by_role("heading", level=2)).to_contain_text("Score 60")
    expect(score.locator(".explain-bad")).to_have_count(0)
    expect(score.locator(".explain-good")).to_contain_text(STAFF)
    assert console_errors == []


def test_a_company_edited_on_its_page_rescores_every_contact(
    logged_in_page, live_server, salesperson, console_errors
):
    software_icp(salesperson)
    acme = CompanyFactory(owner=salesperson, name="Acme", industry="Retail", employee_count=20)
    for first_name in ("Ada", "Bo"):
        lead_rescore(lead_id=LeadFactory(owner=salesperson, first_name=first_name, company=acme).pk)
    page = logged_in_page(salesperson)
    page.goto(f"{live_server.url}/leads/")

    page.locator("#lead-table").get_by_role("link", name="Acme").first.click()
    expect(page).to_have_title("Acme · LeadHunter")
    expect(page.locator("#company-header")).to_contain_text("Retail")
    contacts = page.locator("#company-leads")
    expect(contacts).to_contain_text("Score 0")
    facts = page.locator("#company-facts")
    facts.get_by_role("link", name="Edit").click()
    expect(facts.get_by_label("Industry")).to_be_focused()  # htmx's autofocus, then type
    facts.get_by_label("Industry").fill("Software")
    facts.get_by_label("Employees").fill("")
    facts.get_by_role("button", name="Save").click()

    expect(fact(facts, "Industry")).to_have_text("Software")
    expect(page.locator("#company-header")).to_contain_text("Software")
    expect(contacts.get_by_text("Score 30")).to_have_count(2)
    assert Company.objects.get(pk=acme.pk).employee_count is None
    assert console_errors == []


def test_a_new_title_brings_its_seniority_and_moves_the_score(
    logged_in_page, live_server, salesperson, console_errors
):
    icp = ICP.objects.create(owner=salesperson, name="Decision makers")
    Criterion.objects.create(
        icp=icp, field="seniority", operator="one_of", value=["vp", "c_level"], weight=10
    )
    page = logged_in_page(salesperson)
    page.goto(f"{live_server.url}/leads/")
    quick_add = page.locator("#quick-add")
    quick_add.get_by_label("First name").fill("Pat")
    quick_add.get_by_label("Last name").fill("Doe")
    quick_add.get_by_role("button", name="Add lead").click()
    quick_add.get_by_role("link", name="Pat Doe").click()
    lead = Lead.objects.get(first_name="Pat")

    contact = page.locator("#lead-contact")
    contact.get_by_role("link", name="Edit").click()
    contact.get_by_label("Job title").fill("VP Sales")
    contact.get_by_role("button", name="Save").click()

    expect(contact).to_contain_text("VP Sales (VP)")
    expect(page.locator("#lead-score").get_by_role("heading", level=2)).to_contain_text("Score 60")
    # Editable: the salesperson knows better.
    contact.get_by_role("link", name="Edit").click()
    contact.get_by_label("Seniority").select_option("director")
    contact.get_by_role("button", name="Save").click()
    expect(contact).to_contain_text("VP Sales (Director)")
    expect(page.locator("#lead-score").get_by_role("heading", level=2)).to_contain_text("Score 0")
    assert Lead.objects.get(pk=lead.pk).seniority == "director"
    assert console_errors == []
