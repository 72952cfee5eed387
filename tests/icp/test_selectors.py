from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from icp import selectors
from icp.scoring import CriterionSpec
from icp.selectors import icp_preview, icps_visible_to
from leads.models import ActivityKind, Lead
from tests.factories import (
    ActivityFactory,
    CompanyFactory,
    CriterionFactory,
    ICPFactory,
    LeadFactory,
    ReferralSourceFactory,
)
from tests.icp.conftest import NOW

pytestmark = pytest.mark.django_db


def spec(field, operator, value, weight, required=False):
    return CriterionSpec(None, field, operator, value, weight, required, f"{field} {operator}")


def test_a_salesperson_sees_only_their_own_icps(salesperson, other_salesperson):
    mine = ICPFactory(owner=salesperson)
    ICPFactory(owner=other_salesperson)

    assert list(icps_visible_to(salesperson)) == [mine]


def test_a_manager_sees_the_whole_teams_icps(manager, salesperson, other_salesperson):
    icps = {ICPFactory(owner=salesperson), ICPFactory(owner=other_salesperson)}

    assert set(icps_visible_to(manager)) == icps


def lead_at(owner, industry, employees, **lead_fields):
    company = CompanyFactory(owner=owner, industry=industry, employee_count=employees)
    return LeadFactory(owner=owner, company=company, **lead_fields)


def test_the_preview_scores_the_edited_criteria_without_writing(
    salesperson, other_salesperson, django_assert_max_num_queries
):
    saved = ICPFactory(owner=salesperson, name="Retail")
    CriterionFactory(icp=saved, field="industry", operator="equals", value="Retail", weight=10)
    big_saas = lead_at(salesperson, "SaaS", 900)
    small_saas = lead_at(
        salesperson, "SaaS", 20, referred_by=ReferralSourceFactory(owner=salesperson)
    )
    retail = lead_at(salesperson, "Retail", 300)
    ActivityFactory(lead=retail, kind=ActivityKind.ASKED_FOR_DEMO, occurred_at=NOW)
    lead_at(other_salesperson, "SaaS", 900)
    # The edit under way: SaaS (weight 30) and 50+ staff (weight 10), replacing "Retail".
    draft = [
        spec("industry", "equals", "saas", 30),
        spec("employee_count", "range", {"min": 50}, 10),
    ]

    with django_assert_max_num_queries(4):
        preview = icp_preview(icp=saved, criteria_specs=draft, owner=salesperson, now=NOW)

    # big SaaS 100 → total 60 (B); small SaaS 75 → 45 + 10 referral = 55 (B);
    # retail 25 (only the size) → 15 + 0.4 × 40 = 31 (C)
    assert (preview.leads_considered, preview.matching, preview.sample_capped) == (3, 3, False)
    assert preview.grades == {"A": 0, "B": 2, "C": 1, "D": 0}
    assert [(e.lead_id, e.fit, e.total, e.grade) for e in preview.examples] == [
        (big_saas.id, 100, 60, "B"),
        (small_saas.id, 75, 55, "B"),
        (retail.id, 25, 31, "C"),
    ]
    assert preview.examples[0].explanation["icp"] == "Retail"
    assert preview.note == "Based on all 3 of your leads."
    assert set(Lead.objects.values_list("scored_at", flat=True)) == {None}


def test_the_preview_keeps_the_owners_other_active_icps(salesperson):
    other = ICPFactory(owner=salesperson, name="Big companies")
    CriterionFactory(
        icp=other, field="employee_count", operator="range", value={"min": 500}, weight=10
    )
    big_retail = lead_at(salesperson, "Retail", 900)

    preview = icp_preview(
        icp=None,
        criteria_specs=[spec("industry", "equals", "SaaS", 10)],
        owner=salesperson,
        name="SaaS",
        now=NOW,
    )

    # No match for the new ICP, but the lead still fits the other one.
    assert preview.matching == 0
    [example] = preview.examples
    assert (example.lead_id, example.fit, example.total) == (big_retail.id, 0, 60)
    assert example.explanation["icp"] == "Big companies"


def test_the_preview_samples_the_most_recent_leads_and_says_so(salesperson, monkeypatch):
    monkeypatch.setattr(selectors, "PREVIEW_SAMPLE_SIZE", 2)
    with time_machine.travel(NOW - timedelta(days=1)):
        oldest = lead_at(salesperson, "SaaS", 100)
    with time_machine.travel(NOW):
        recent = [lead_at(salesperson, "Retail", 100) for _ in range(2)]

    preview = icp_preview(
        icp=None, criteria_specs=[spec("industry", "equals", "SaaS", 10)], owner=salesperson
    )

    assert (preview.leads_considered, preview.sample_capped, preview.matching) == (2, True, 0)
    assert {e.lead_id for e in preview.examples} == {lead.id for lead in recent}
    assert oldest.id not in {e.lead_id for e in preview.examples}
    assert preview.note == "Based on your 2 most recent leads."
