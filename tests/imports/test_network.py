"""An import into the network pool: tags, reconnects spread a few a day best fit first, and
what the pages say about it."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from imports import engine
from imports.models import FirstTouch, ImportJob
from imports.parsing import read_file
from leads.models import FollowUp, FollowUpKind, Lead
from tests.factories import CriterionFactory, ICPFactory
from tests.imports.conftest import MAX_BYTES, csv_text, fixture_bytes, import_data

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
MONDAY = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)  # Monday 7 December 2026, afternoon
TUE, WED, THU = date(2026, 12, 8), date(2026, 12, 9), date(2026, 12, 10)
# Every third contact a founder (the best fit), every third a head of something, the rest not.
TITLES = ("Founder", "Head of Sales", "Analyst")


def connections_csv(count: int, *, start: int = 0) -> bytes:
    """A LinkedIn Connections.csv export of `count` people."""
    rows = [
        f"Person{n},Contact{n},https://www.linkedin.com/in/person-{n},,Company {n},"
        f"{TITLES[n % 3]},12 Mar 2021"
        for n in range(start, start + count)
    ]
    return csv_text(
        "First Name,Last Name,URL,Email Address,Company,Position,Connected On", *rows
    ).encode()


@pytest.fixture
def icp(salesperson):
    """The salesperson's ICP: founders fit best, heads of something next."""
    icp = ICPFactory(owner=salesperson)
    CriterionFactory(icp=icp, field="title", operator="contains", value="Founder", weight=10)
    CriterionFactory(icp=icp, field="title", operator="contains", value="Head", weight=5)
    return icp


def reconnect_days(owner) -> dict[str, date]:
    """Each pooled lead's first name → the day its reconnect is planned."""
    return {
        follow_up.lead.first_name: follow_up.due_at.astimezone(LONDON).date()
        for follow_up in FollowUp.objects.filter(
            lead__owner=owner, kind=FollowUpKind.RECONNECT, done_at__isnull=True
        ).select_related("lead")
    }


def title_of(first_name: str) -> str:
    return TITLES[int(first_name.removeprefix("Person")) % 3]


def test_an_import_into_the_pool_spreads_its_contacts_best_fit_first(salesperson, icp):
    with time_machine.travel(MONDAY, tick=False):
        result = import_data(
            salesperson, connections_csv(25), network=True, tags=("linkedin-2026",)
        )

    assert result.created == 25
    days = reconnect_days(salesperson)
    assert Counter(days.values()) == {TUE: 10, WED: 10, THU: 5}
    # The nine founders and one head come first; the analysts last.
    assert Counter(title_of(name) for name, day in days.items() if day == TUE) == {
        "Founder": 9,
        "Head of Sales": 1,
    }
    assert {title_of(name) for name, day in days.items() if day == THU} == {"Analyst"}
    # Every new lead: one pending follow-up (the reconnect), scored, tagged, next step set.
    leads = Lead.objects.filter(owner=salesperson)
    assert FollowUp.objects.filter(lead__in=leads, done_at__isnull=True).count() == 25
    assert not FollowUp.objects.filter(kind=FollowUpKind.FIRST_TOUCH).exists()
    for lead in leads:
        assert lead.tags == ["linkedin-2026"]
        assert lead.scored_at is not None
        assert lead.next_follow_up_at.astimezone(LONDON).date() == days[lead.first_name]


def test_the_old_way_still_plans_a_first_touch_for_each_on_the_next_business_day(salesperson):
    with time_machine.travel(MONDAY, tick=False):
        import_data(salesperson, connections_csv(25), network=False, tags=("event",))

    pending = FollowUp.objects.filter(lead__owner=salesperson, done_at__isnull=True)
    assert {follow_up.kind for follow_up in pending} == {FollowUpKind.FIRST_TOUCH}
    assert {follow_up.due_at.astimezone(LONDON).date() for follow_up in pending} == {TUE}
    assert list(Lead.objects.values_list("tags", flat=True)) == [["event"]] * 25


def test_importing_the_same_file_again_changes_nothing(salesperson, icp):
    with time_machine.travel(MONDAY, tick=False):
        import_data(salesperson, connections_csv(25), network=True)
        before = reconnect_days(salesperson)
        follow_ups = FollowUp.objects.count()

        again = import_data(salesperson, connections_csv(25), network=True)

    assert (again.created, again.skipped_duplicates) == (0, 25)
    assert reconnect_days(salesperson) == before
    assert FollowUp.objects.count() == follow_ups


def test_a_second_import_counts_what_is_planned_and_joins_the_order(salesperson, icp):
    with time_machine.travel(MONDAY, tick=False):
        import_data(salesperson, connections_csv(15), network=True)
        assert Counter(reconnect_days(salesperson).values()) == {TUE: 10, WED: 5}

        import_data(salesperson, connections_csv(12, start=100), network=True)

    days = reconnect_days(salesperson)
    assert Counter(days.values()) == {TUE: 10, WED: 10, THU: 7}
    # The pool is one order, whichever file a contact came in: Tuesday has the ten best.
    assert {title_of(name) for name, day in days.items() if day == TUE} == {
        "Founder",
        "Head of Sales",
    }


def test_the_pool_s_statements_grow_with_batches_not_rows(salesperson, other_salesperson):
    def statements(owner, rows: int) -> list[str]:
        parsed = read_file(connections_csv(rows), max_bytes=MAX_BYTES)
        with time_machine.travel(MONDAY, tick=False), CaptureQueriesContext(connection) as run:
            engine.import_file(parsed, owner=owner, options=engine.ImportOptions(network=True))
        return [query["sql"].split()[0] for query in run.captured_queries]

    small, large = statements(salesperson, 30), statements(other_salesperson, 300)

    def not_inserts(kinds: list[str]) -> list[str]:
        return [kind for kind in kinds if kind != "INSERT"]

    # The same reads, updates and savepoints for 300 contacts as for 30 (SQLite splits wide
    # INSERTs by its parameter limit: those are counted by tests/imports/test_engine.py).
    assert not_inserts(large) == not_inserts(small)
    assert len(not_inserts(small)) < 40


# --- Pages -------------------------------------------------------------------------------


def upload(client, name: str, data: bytes):
    form = {"format": "auto", "source": "", "duplicates": "fill_empty"}
    return client.post(reverse("import-start"), {**form, "file": SimpleUploadedFile(name, data)})


def test_the_preview_offers_the_pool_for_contacts_and_the_next_day_for_a_crm_csv(
    client_of, salesperson
):
    client = client_of(salesperson)
    salesperson.reconnects_per_day = 7
    salesperson.save(update_fields=["reconnects_per_day"])

    linkedin = client.get(upload(client, "Connections.csv", connections_csv(3)).url)
    page = linkedin.content.decode()
    assert "Add to my network pool — reconnect 7 a day, best fit first" in page
    assert 'value="network" id="id_first_touch_0" checked' in page
    assert 'name="tags"' in page

    crm = upload(client, "hubspot.csv", fixture_bytes("hubspot.csv"))
    job = ImportJob.objects.get(filename="hubspot.csv")
    assert job.first_touch == FirstTouch.NEXT_DAY
    page = client.get(reverse("import-preview", args=[job.pk])).content.decode()
    assert 'value="next_day" id="id_first_touch_1" checked' in page
    assert crm.status_code == 302


def test_importing_with_tags_into_the_pool_says_what_happens_next(client_of, salesperson):
    client = client_of(salesperson)
    with time_machine.travel(MONDAY, tick=False):
        job = ImportJob.objects.get(
            pk=upload(client, "Connections.csv", connections_csv(25)).url.split("/")[2]
        )
        response = client.post(
            reverse("import-run", args=[job.pk]),
            {"tags": "LinkedIn-2026, alumni, alumni", "first_touch": "network"},
            follow=True,
        )

    job.refresh_from_db()
    assert (job.tags, job.first_touch) == (["linkedin-2026", "alumni"], FirstTouch.NETWORK)
    page = response.content.decode()
    assert (
        "25 contacts added to your network pool</strong>: 10 a day from Tue 8 Dec, best fit "
        "first — the last on Thu 10 Dec 2026."
    ) in page
    assert f"{reverse('lead-list')}?follow_up=network&amp;sort=follow_up" in page
    assert Lead.objects.filter(owner=salesperson, tags=["linkedin-2026", "alumni"]).count() == 25


def test_tags_that_do_not_fit_are_shown_next_to_the_field(client_of, salesperson):
    client = client_of(salesperson)
    job_url = upload(client, "Connections.csv", connections_csv(3)).url
    job = ImportJob.objects.get()

    response = client.post(
        reverse("import-run", args=[job.pk]),
        {"tags": ",".join(f"tag{n}" for n in range(11)), "first_touch": "network"},
    )

    assert response.status_code == 422
    assert 'class="field-error" id="id_tags_error">Up to 10 tags.' in response.content.decode()
    assert job_url == reverse("import-preview", args=[job.pk])
    assert not Lead.objects.exists()


def test_the_lead_list_shows_the_pool(client_of, salesperson):
    with time_machine.travel(MONDAY, tick=False):
        import_data(salesperson, connections_csv(4), network=True)
        import_data(salesperson, fixture_bytes("linkedin_connections.csv"), network=False)

    page = client_of(salesperson).get(reverse("lead-list"), {"follow_up": "network"})

    text = page.content.decode()
    assert all(f"Person{n} Contact{n}" in text for n in range(4))
    # The full name: a bare "Ada" also matches a random user name in the page ("Adams").
    assert "Ada Lovelace" not in text


def test_the_command_line_import_can_fill_the_pool_and_tag(salesperson, tmp_path):
    path = tmp_path / "Connections.csv"
    path.write_bytes(connections_csv(12))

    with time_machine.travel(MONDAY, tick=False):
        call_command(
            "import_leads",
            str(path),
            "--owner",
            salesperson.username,
            "--network",
            "--tag",
            "Alumni",
            stdout=StringIO(),
        )

    assert Counter(reconnect_days(salesperson).values()) == {TUE: 10, WED: 2}
    assert list(Lead.objects.values_list("tags", flat=True)) == [["alumni"]] * 12
