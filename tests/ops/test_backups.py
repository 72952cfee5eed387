"""`manage.py backup` and `manage.py restore`: a round trip gives back every table, row for row,
on whichever database the run uses (PostgreSQL via pg_dump/pg_restore, SQLite via its online
backup API)."""

from __future__ import annotations

import hashlib
import io
import sqlite3
import subprocess
import threading
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import timezone

from icp.rescoring import leads_rescore
from leads.models import Activity, ActivityKind, Lead
from leads.services import activity_log, lead_change_stage, lead_create, lead_update
from ops import backups
from referrals.services import referral_ask_record
from tests.factories import (
    CompanyFactory,
    CriterionFactory,
    ICPFactory,
    ManagerFactory,
    ReferralSourceFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)


def snapshot() -> dict[str, tuple[int, str]]:
    """Every table's row count and a checksum of its contents (order-independent)."""
    tables = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            if table.startswith("sqlite_"):
                continue
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            rows = sorted(repr(row) for row in cursor.fetchall())
            digest = hashlib.sha256("\n".join(rows).encode()).hexdigest()
            tables[table] = (len(rows), digest)
    return tables


def populate() -> None:
    """A bit of everything: users, companies, leads with history, activities, follow-ups,
    referral sources and asks, ICPs with criteria, scores."""
    now = timezone.now()
    manager = ManagerFactory(username="boss")
    for name in ("sam", "alex"):
        user = UserFactory(username=name)
        icp = ICPFactory(owner=user, name=f"{name}'s ICP")
        CriterionFactory(icp=icp, field="industry", value="Retail", weight=30)
        for number in range(4):
            company = CompanyFactory(owner=user, industry="Retail", name=f"{name} Co {number}")
            lead = lead_create(
                owner=user,
                first_name=f"Lead{number}",
                last_name=name.title(),
                email=f"{name}.{number}@example.org",
                company=company,
                now=now - timedelta(days=number),
            )
            activity_log(lead=lead, user=user, kind=ActivityKind.CALL, text="Left a message")
            activity_log(lead=lead, user=user, kind=ActivityKind.ASKED_FOR_DEMO)
            lead_update(lead=lead, user=user, title=f"Buyer {number}")
        won = Lead.objects.filter(owner=user).first()
        lead_change_stage(lead=won, to_stage="proposal", user=user)
        lead_change_stage(lead=won, to_stage="won", user=manager)
        source = ReferralSourceFactory(owner=user, name=f"{name}'s referrer")
        referral_ask_record(source=source, user=user)
    leads_rescore()


def test_a_backup_restores_every_table_exactly(tmp_path):
    populate()
    before = snapshot()
    assert before["leads_lead"][0] == 8
    assert all(before[table][0] > 0 for table in ("leads_activity", "leads_followup"))
    assert any(table.startswith("leads_historical") and before[table][0] for table in before)
    out = io.StringIO()

    call_command("backup", output=tmp_path / "leadhunter.backup", stdout=out)

    path = tmp_path / "leadhunter.backup"
    assert out.getvalue().strip() == str(path)
    assert path.stat().st_size > 0
    assert not list(tmp_path.glob("*.partial"))
    # Then things go wrong: rows deleted, changed and added.
    Lead.objects.filter(owner__username="alex").delete()
    Lead.objects.update(notes="overwritten")
    UserFactory(username="intruder")
    assert snapshot() != before

    call_command("restore", str(path), interactive=False, stdout=io.StringIO())

    assert snapshot() == before
    # The database works as before: new rows get fresh ids (sequences came back too).
    sam = Lead.objects.filter(owner__username="sam").first().owner
    lead = lead_create(owner=sam, first_name="After", last_name="Restore", email="a@r.example")
    assert lead.pk > max(Lead.objects.exclude(pk=lead.pk).values_list("pk", flat=True))


def test_a_backup_taken_while_the_app_writes_is_consistent(tmp_path):
    """Each writer transaction logs five activities; a consistent backup holds whole
    transactions only, so its number of activities is a multiple of five."""
    populate()
    lead = Lead.objects.first()
    stop = threading.Event()
    written = []

    def busy_app() -> None:
        try:
            while not stop.is_set():
                with transaction.atomic():
                    for _ in range(5):
                        activity_log(lead=lead, user=lead.owner, kind=ActivityKind.NOTE, text="x")
                written.append(5)
        finally:
            connection.close()

    base = Activity.objects.count()
    writer = threading.Thread(target=busy_app)
    writer.start()
    try:
        while len(written) < 3:
            stop.wait(0.05)
        path = backups.backup_create(output=tmp_path / "busy.backup")
        while len(written) < 6:
            stop.wait(0.05)
    finally:
        stop.set()
        writer.join()

    in_backup = _activities_in(path)
    assert (in_backup - base) % 5 == 0
    assert base + 15 <= in_backup < Activity.objects.count()


def _activities_in(path) -> int:
    if connection.vendor == "sqlite":
        with sqlite3.connect(path) as copy:
            return copy.execute("SELECT COUNT(*) FROM leads_activity").fetchone()[0]
    listing = subprocess.run(  # noqa: S603 - fixed command line
        ["pg_restore", "--data-only", "--table=leads_activity", "--file=-", str(path)],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = listing.split("FROM stdin;\n", 1)[1].split("\n\\.\n", 1)[0]
    return len(rows.splitlines())


def test_restoring_something_that_is_not_a_backup_changes_nothing(tmp_path):
    UserFactory(username="keep")
    before = snapshot()
    bogus = tmp_path / "notes.txt"
    bogus.write_text("not a database")

    with pytest.raises(CommandError, match="is not a"):
        call_command("restore", str(bogus), interactive=False)
    with pytest.raises(CommandError, match="No backup file"):
        call_command("restore", str(tmp_path / "missing.backup"), interactive=False)

    assert snapshot() == before


def test_restore_asks_before_replacing_the_database(tmp_path, monkeypatch):
    UserFactory(username="keep")
    path = backups.backup_create(output=tmp_path / "b.backup")
    before = snapshot()
    UserFactory(username="after-backup")
    monkeypatch.setattr("builtins.input", lambda prompt: "no")

    with pytest.raises(CommandError, match="cancelled"):
        call_command("restore", str(path))

    assert snapshot() != before  # nothing was restored
    monkeypatch.setattr("builtins.input", lambda prompt: "yes")
    call_command("restore", str(path), stdout=io.StringIO())
    assert snapshot() == before


def test_the_default_backup_goes_into_the_data_folder(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    path = backups.backup_create()
    assert path.parent == tmp_path / "backups"
    assert path.name.startswith("leadhunter-")
    assert path.suffix == (".dump" if connection.vendor == "postgresql" else ".sqlite3")
