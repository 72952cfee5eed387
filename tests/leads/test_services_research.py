"""Research moves the score: company facts edited through the services, and the seniority a
job title implies, on create, on import and on edit."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from leads import services
from leads.models import Company, Lead
from leads.services import companies
from tests.factories import CompanyFactory, CriterionFactory, ICPFactory, LeadFactory
from tests.imports.conftest import csv_text, fixture_bytes, import_data


@pytest.fixture
def software_icp(salesperson):
    """Software companies of 50-500 people: half the fit each."""
    icp = ICPFactory(owner=salesperson, name="Software scale-ups")
    CriterionFactory(icp=icp, field="industry", value="Software", weight=10)
    CriterionFactory(
        icp=icp, field="employee_count", operator="range", value={"min": 50, "max": 500}, weight=10
    )
    return icp


def unknown_company(owner, **fields) -> Company:
    return CompanyFactory(owner=owner, industry="", employee_count=None, **fields)


# --- Company facts -----------------------------------------------------------------------


@pytest.mark.django_db
class TestCompanyUpdate:
    def test_its_leads_are_rescored_before_it_returns(self, salesperson, software_icp, rescores):
        acme = unknown_company(salesperson, name="Acme")
        ada, grace = LeadFactory.create_batch(2, owner=salesperson, company=acme)

        services.company_update(
            company=acme, user=salesperson, industry=" Software ", employee_count=120
        )

        for lead in (ada, grace):
            lead.refresh_from_db()
            assert (lead.fit_score, lead.total_score, lead.grade) == (100, 60, "B")
            assert lead.score_explanation["matched"] == [
                "Industry equals Software",
                "Employee count is between 50 and 500",
            ]
            assert lead.score_explanation["unknown"] == []
        assert rescores == []  # nothing left for a worker

    def test_facts_are_normalised_as_on_create(self, salesperson, rescores):
        acme = unknown_company(salesperson)

        services.company_update(
            company=acme,
            user=salesperson,
            name="  Acme Ltd ",
            domain="https://www.Acme.example/about",
            country=" gb ",
            annual_revenue=Decimal(8_000_000),
        )

        acme.refresh_from_db()
        assert (acme.name, acme.domain, acme.country, acme.annual_revenue) == (
            "Acme Ltd",
            "acme.example",
            "GB",
            Decimal(8_000_000),
        )

    def test_a_fact_the_scoring_does_not_read_rescores_nothing(
        self, salesperson, software_icp, rescores, django_assert_num_queries
    ):
        acme = unknown_company(salesperson)
        lead = LeadFactory(owner=salesperson, company=acme)

        # Savepoint, the owner's and the domain's checks, the UPDATE, release: no rescoring.
        with django_assert_num_queries(5):
            services.company_update(company=acme, user=salesperson, domain="acme.example")

        lead.refresh_from_db()
        assert lead.scored_at is None

    @pytest.mark.parametrize("leads", [1, 12])
    def test_rescoring_takes_the_same_statements_however_many_leads(
        self, salesperson, software_icp, rescores, django_assert_num_queries, leads
    ):
        acme = unknown_company(salesperson)
        LeadFactory.create_batch(leads, owner=salesperson, company=acme)

        # Savepoint, owner and domain checks, UPDATE; the leads' ids; ICPs, criteria;
        # savepoint, locked facts, signals, the UPDATE of the scores, release; release.
        with django_assert_num_queries(13):
            services.company_update(company=acme, user=salesperson, industry="Software")

        assert Lead.objects.filter(company=acme, fit_score=50).count() == leads

    def test_a_big_account_is_rescored_in_the_background(
        self, salesperson, software_icp, rescores, monkeypatch
    ):
        monkeypatch.setattr(companies, "COMPANY_RESCORE_NOW_UP_TO", 2)
        acme = unknown_company(salesperson)
        LeadFactory.create_batch(3, owner=salesperson, company=acme)

        services.company_update(company=acme, user=salesperson, industry="Software")

        assert rescores == [("owner", salesperson.pk)]
        assert not Lead.objects.filter(company=acme, fit_score__gt=0).exists()

    def test_a_domain_the_owner_has_already_is_refused(self, salesperson, rescores):
        CompanyFactory(owner=salesperson, domain="acme.example")
        other = unknown_company(salesperson)

        with pytest.raises(ValidationError) as refused:
            services.company_update(company=other, user=salesperson, domain="www.acme.example")

        assert refused.value.message_dict["__all__"] == [
            "You already have a company with this domain."
        ]

    def test_a_name_is_needed(self, salesperson, rescores):
        acme = unknown_company(salesperson)

        with pytest.raises(ValidationError) as refused:
            services.company_update(company=acme, user=salesperson, name=" ")

        assert "name" in refused.value.message_dict

    def test_only_company_facts_are_taken(self, salesperson):
        with pytest.raises(TypeError, match="owner"):
            services.company_update(
                company=unknown_company(salesperson), user=salesperson, owner=salesperson
            )


@pytest.mark.django_db
class TestLeadCompanyUpdate:
    def test_a_lead_without_a_company_gets_a_new_one_and_its_score(
        self, salesperson, software_icp, rescores
    ):
        lead = LeadFactory(owner=salesperson, company=None)

        company = services.lead_company_update(
            lead=lead, user=salesperson, name="Initech", industry="Software", employee_count=80
        )

        lead.refresh_from_db()
        assert lead.company == company
        assert (company.owner, company.name) == (salesperson, "Initech")
        assert lead.fit_score == 100
        assert rescores == []

    def test_a_lead_with_a_company_changes_that_company(self, salesperson, software_icp, rescores):
        acme = unknown_company(salesperson, name="Acme")
        lead = LeadFactory(owner=salesperson, company=acme)

        company = services.lead_company_update(
            lead=lead, user=salesperson, name="Acme", industry="Software"
        )

        lead.refresh_from_db()
        assert company == acme
        assert Company.objects.get(pk=acme.pk).industry == "Software"
        assert lead.fit_score == 50

    def test_a_managers_edit_creates_the_company_for_the_leads_owner(
        self, salesperson, manager, rescores
    ):
        lead = LeadFactory(owner=salesperson, company=None)

        company = services.lead_company_update(lead=lead, user=manager, name="Initech")

        assert company.owner == salesperson


# --- Seniority from the job title --------------------------------------------------------


@pytest.mark.django_db
class TestSeniorityFromTitle:
    def test_a_new_lead_gets_the_seniority_its_title_implies(self, salesperson, rescores):
        lead = services.lead_create(owner=salesperson, first_name="Vic", title="VP Sales")

        assert Lead.objects.get(pk=lead.pk).seniority == "vp"

    def test_a_seniority_given_on_create_is_kept(self, salesperson, rescores):
        lead = services.lead_create(
            owner=salesperson, first_name="Vic", title="VP Sales", seniority="director"
        )

        assert Lead.objects.get(pk=lead.pk).seniority == "director"

    def test_an_imported_lead_gets_it_too(self, salesperson, rescores):
        leads = [
            services.lead_new(owner=salesperson, first_name="Cy", title="Co-founder & CEO"),
            services.lead_new(owner=salesperson, first_name="Ike", title="Intern"),
            services.lead_new(owner=salesperson, first_name="Sal", title="Sales"),
        ]

        created = services.leads_bulk_create(leads=leads, created_by=salesperson)

        assert list(
            Lead.objects.filter(pk__in=[lead.pk for lead in created])
            .order_by("pk")
            .values_list("seniority", flat=True)
        ) == ["owner", "individual", ""]

    def test_a_linkedin_export_brings_each_connections_seniority(self, salesperson):
        import_data(salesperson, fixture_bytes("linkedin_connections.csv"))

        ada = Lead.objects.get(owner=salesperson, first_name="Ada")
        assert (ada.title, ada.seniority) == ("Head of Engineering", "director")

    def test_an_import_of_known_people_fills_their_seniority_with_their_title(self, salesperson):
        LeadFactory(owner=salesperson, email="vic@acme.example", title="", seniority="")

        import_data(
            salesperson,
            csv_text("Email,Job Title", "vic@acme.example,VP Sales"),
            duplicates="fill_empty",
        )

        assert Lead.objects.get(email="vic@acme.example").seniority == "vp"

    def test_an_import_filling_a_title_fills_the_seniority_unless_one_is_set(
        self, salesperson, rescores
    ):
        blank = LeadFactory(owner=salesperson, title="", seniority="")
        chosen = LeadFactory(owner=salesperson, title="", seniority="manager")

        filled = services.leads_bulk_fill_empty_fields(
            owner=salesperson,
            user=salesperson,
            values_by_lead={blank.pk: {"title": "CTO"}, chosen.pk: {"title": "CTO"}},
        )

        assert filled == {blank.pk: ["seniority", "title"], chosen.pk: ["title"]}
        assert Lead.objects.get(pk=blank.pk).seniority == "c_level"
        assert Lead.objects.get(pk=chosen.pk).seniority == "manager"

    def test_a_new_title_brings_its_seniority_when_the_old_one_was_implied(
        self, salesperson, rescores
    ):
        lead = services.lead_create(owner=salesperson, first_name="Pat", title="Sales Manager")

        services.lead_update(lead=lead, user=salesperson, title="VP Sales", seniority="manager")

        assert Lead.objects.get(pk=lead.pk).seniority == "vp"

    def test_a_seniority_a_person_chose_stays_when_the_title_changes(self, salesperson, rescores):
        lead = LeadFactory(owner=salesperson, title="Sales Manager", seniority="director")

        services.lead_update(lead=lead, user=salesperson, title="VP Sales", seniority="director")

        assert Lead.objects.get(pk=lead.pk).seniority == "director"

    def test_a_seniority_chosen_with_the_new_title_is_taken(self, salesperson, rescores):
        lead = services.lead_create(owner=salesperson, first_name="Pat", title="Sales Manager")

        services.lead_update(lead=lead, user=salesperson, title="VP Sales", seniority="c_level")

        assert Lead.objects.get(pk=lead.pk).seniority == "c_level"

    def test_an_edit_on_the_lead_page_rescores_at_once(self, salesperson, rescores):
        icp = ICPFactory(owner=salesperson)
        CriterionFactory(icp=icp, field="seniority", operator="one_of", value=["vp", "c_level"])
        lead = LeadFactory(owner=salesperson, title="Engineer", seniority="individual")

        services.lead_update(lead=lead, user=salesperson, seniority="vp", rescore_now=True)

        assert Lead.objects.get(pk=lead.pk).fit_score == 100
        assert rescores == []
