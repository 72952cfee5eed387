from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest
from django.urls import reverse

from imports.spreadsheet import neutralise
from leads.models import Lead
from tests.factories import (
    ActivityFactory,
    CompanyFactory,
    CriterionFactory,
    FollowUpFactory,
    LeadFactory,
    ReferralSourceFactory,
)
from tests.imports.conftest import import_data

pytestmark = pytest.mark.django_db


def body(response) -> str:
    return b"".join(response.streaming_content).decode("utf-8-sig")


def csv_rows(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body(response))))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+44 20 7946 0958", "'+44 20 7946 0958"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Ada", "Ada"),
        (42, 42),
    ],
)
def test_formula_cells_are_neutralised(value, expected):
    assert neutralise(value) == expected


def test_the_csv_export_is_safe_to_open_in_a_spreadsheet(client_of, salesperson):
    company = CompanyFactory(owner=salesperson, name="+cmd|' /C calc'!A0")
    LeadFactory(
        owner=salesperson,
        first_name='=HYPERLINK("http://evil","x")',
        last_name="-Smith",
        title="@SUM(1+1)",
        notes="\tnote",
        phone="+442079460958",
        company=company,
    )

    response = client_of(salesperson).get(reverse("lead-export-csv"))

    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="leads-')
    row = csv_rows(response)[0]
    assert row["First name"] == '\'=HYPERLINK("http://evil","x")'
    assert row["Last name"] == "'-Smith"
    assert row["Job title"] == "'@SUM(1+1)"
    assert row["Notes"] == "'\tnote"
    assert row["Phone"] == "'+442079460958"
    assert row["Company"] == "'+cmd|' /C calc'!A0"
    every_cell = [
        cell
        for row in csv_rows(client_of(salesperson).get(reverse("lead-export-csv")))
        for cell in row.values()
    ]
    assert not [cell for cell in every_cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]


def test_a_salesperson_exports_only_their_own_leads_and_a_manager_the_team(
    client_of, salesperson, other_salesperson, manager
):
    LeadFactory(owner=salesperson, first_name="Mine")
    LeadFactory(owner=other_salesperson, first_name="Theirs")

    own = [
        row["First name"]
        for row in csv_rows(client_of(salesperson).get(reverse("lead-export-csv")))
    ]
    team = [
        row["First name"] for row in csv_rows(client_of(manager).get(reverse("lead-export-csv")))
    ]

    assert own == ["Mine"]
    assert sorted(team) == ["Mine", "Theirs"]


def test_the_export_takes_the_lead_lists_filters(
    client_of, salesperson, other_salesperson, manager
):
    LeadFactory(owner=salesperson, first_name="Won", stage="won")
    LeadFactory(owner=salesperson, first_name="Open", stage="new")
    LeadFactory(owner=other_salesperson, first_name="Alex won", stage="won")

    won = csv_rows(client_of(salesperson).get(reverse("lead-export-csv"), {"stage": "won"}))
    searched = csv_rows(client_of(salesperson).get(reverse("lead-export-csv"), {"q": "open"}))
    by_owner = csv_rows(
        client_of(manager).get(reverse("lead-export-csv"), {"owner": other_salesperson.pk})
    )

    assert [row["First name"] for row in won] == ["Won"]
    assert [row["First name"] for row in searched] == ["Open"]
    assert [row["First name"] for row in by_owner] == ["Alex won"]


def test_the_export_streams_in_a_fixed_number_of_queries(
    client_of, salesperson, django_assert_max_num_queries
):
    LeadFactory.create_batch(30, owner=salesperson)
    client = client_of(salesperson)
    client.get(reverse("lead-list"))  # session and user loaded once

    with django_assert_max_num_queries(4):
        rows = csv_rows(client.get(reverse("lead-export-csv")))

    assert len(rows) == 30


def test_the_json_export_shape(client_of, salesperson):
    lead = LeadFactory(
        owner=salesperson,
        first_name="Ada",
        expected_value="1200.50",
        tags=["warm"],
        email="ada@x.example",
    )

    response = client_of(salesperson).get(reverse("lead-export-json"))

    assert response["Content-Type"] == "application/json"
    document = json.loads(body(response))
    assert set(document) == {"exported_at", "leads"}
    exported = document["leads"][0]
    assert exported["id"] == lead.pk
    assert exported["first_name"] == "Ada"
    assert exported["email"] == "ada@x.example"
    assert exported["company"] == {
        "id": lead.company.pk,
        "name": lead.company.name,
        "domain": lead.company.domain,
    }
    assert exported["expected_value"] == "1200.50"
    assert exported["tags"] == ["warm"]
    assert exported["owner"] == salesperson.username
    assert exported["created_at"].startswith(str(lead.created_at.year))


def test_an_empty_json_export_is_valid_json(client_of, salesperson):
    document = json.loads(body(client_of(salesperson).get(reverse("lead-export-json"))))

    assert document["leads"] == []


def test_an_exported_csv_imports_back_without_changing_anything(client_of, salesperson):
    LeadFactory(owner=salesperson, first_name="Ada", last_name="=Lovelace", phone="+442079460958")
    LeadFactory(
        owner=salesperson,
        first_name="Grace",
        email="",
        linkedin_url="https://www.linkedin.com/in/grace",
    )
    exported = b"".join(client_of(salesperson).get(reverse("lead-export-csv")).streaming_content)
    before = list(Lead.objects.order_by("id").values())

    result = import_data(salesperson, exported)

    assert (result.created, result.updated, result.errors) == (0, 0, 0)
    assert result.skipped_duplicates == 2
    assert list(Lead.objects.order_by("id").values()) == before


def test_the_account_zip_holds_all_of_my_records_and_nobody_elses(
    client_of, salesperson, other_salesperson, manager
):
    lead = LeadFactory(owner=salesperson, first_name="=Mine")
    ActivityFactory(lead=lead, text="called")
    FollowUpFactory(lead=lead)
    ReferralSourceFactory(owner=salesperson, name="Referrer")
    CriterionFactory(icp__owner=salesperson)
    LeadFactory(owner=other_salesperson, first_name="Theirs")

    response = client_of(salesperson).get(reverse("account-export"))

    assert response["Content-Disposition"].startswith('attachment; filename="leadhunter-sam-')
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = set(archive.namelist())
    for kind in (
        "leads",
        "companies",
        "activities",
        "follow_ups",
        "stage_changes",
        "referral_sources",
        "referral_asks",
        "icps",
        "icp_criteria",
    ):
        assert {f"{kind}.csv", f"{kind}.json"} <= names, kind
    assert "README.txt" in names
    leads = json.loads(archive.read("leads.json"))
    assert [row["first_name"] for row in leads] == ["=Mine"]
    lead_rows = csv.DictReader(io.StringIO(archive.read("leads.csv").decode("utf-8-sig")))
    assert next(lead_rows)["first_name"] == "'=Mine"
    assert json.loads(archive.read("activities.json"))[0]["text"] == "called"
    assert len(json.loads(archive.read("follow_ups.json"))) >= 1
    assert [row["name"] for row in json.loads(archive.read("referral_sources.json"))] == [
        "Referrer"
    ]
    assert len(json.loads(archive.read("icp_criteria.json"))) == 1
    assert "Theirs" not in archive.read("leads.csv").decode()


def test_a_manager_downloads_only_their_own_account(client_of, salesperson, manager):
    LeadFactory(owner=salesperson, first_name="Team member's")

    response = client_of(manager).get(reverse("account-export"))

    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert json.loads(archive.read("leads.json")) == []
