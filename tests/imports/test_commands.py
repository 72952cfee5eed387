from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from leads.models import Company, FollowUp, Lead
from tests.imports.conftest import FILES, csv_text

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("import_leads", *args, stdout=out)
    return out.getvalue()


def test_json_output_is_exactly_one_object_with_the_counts_and_error_rows(salesperson):
    output = run(str(FILES / "contacts_v3.vcf"), "--owner", "sam", "--json")

    assert json.loads(output) == {
        "created": 2,
        "updated": 0,
        "skipped_duplicates": 0,
        "errors": 1,
        "error_rows": [
            {"row": 21, "field": "EMAIL", "reason": "“not-an-email” is not a valid email address."}
        ],
    }
    assert output.count("\n") <= 1


def test_a_dry_run_writes_nothing_but_reports_what_would_happen(salesperson):
    output = run(str(FILES / "linkedin_connections.csv"), "--owner", "sam", "--dry-run", "--json")

    assert json.loads(output)["created"] == 3
    assert Lead.objects.count() == 0
    assert Company.objects.count() == 0
    assert FollowUp.objects.count() == 0


def test_the_human_report_names_ignored_columns_and_bad_rows(salesperson, tmp_path):
    path = tmp_path / "hubspot.csv"
    path.write_text(csv_text("Email,Favourite colour", "ada@example.com,green", "bad@,blue"))

    output = run(str(path), "--owner", "sam", "--source", "referral")

    assert "Imported: 1 created, 0 updated, 0 duplicates skipped, 1 rows with errors." in output
    assert "Columns ignored: Favourite colour." in output
    assert "row 3: Email: “bad@” is not a valid email address." in output
    assert Lead.objects.get().source == "referral"


def test_format_can_be_forced(salesperson):
    with pytest.raises(CommandError, match=r"isn't LinkedIn's Connections\.csv"):
        run(str(FILES / "hubspot.csv"), "--owner", "sam", "--format", "linkedin")


def test_unknown_owner_and_binary_file_are_refused(salesperson, tmp_path):
    binary = tmp_path / "photo.png"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")

    with pytest.raises(CommandError, match="No user 'nobody'"):
        run(str(binary), "--owner", "nobody")
    with pytest.raises(CommandError, match="isn't a CSV or vCard"):
        run(str(binary), "--owner", "sam")


def test_the_size_limit_applies(salesperson, settings, tmp_path):
    settings.IMPORT_MAX_BYTES = 100
    path = tmp_path / "big.csv"
    path.write_text("Email\n" + "a@example.com\n" * 20)

    with pytest.raises(CommandError, match="imports take up to"):
        run(str(path), "--owner", "sam")
