from __future__ import annotations

import codecs
import math
import threading
import time

import pytest
from django.db import OperationalError, connection, transaction
from django.test.utils import CaptureQueriesContext

from imports import engine
from imports.decoding import ImportFileError
from imports.dedupe import DedupeIndex
from imports.parsing import read_file
from leads.models import Company, FollowUp, Lead, StageChange
from leads.services import lead_create, lead_update
from tests.factories import CompanyFactory, LeadFactory
from tests.imports.conftest import MAX_BYTES, csv_text, fixture_bytes, import_data
from tests.waiting import wait_for

pytestmark = pytest.mark.django_db


def leads_of(owner) -> dict[str, Lead]:
    return {
        lead.full_name: lead for lead in Lead.objects.filter(owner=owner).select_related("company")
    }


def test_linkedin_connections_become_own_network_leads_with_their_companies(salesperson):
    result = import_data(salesperson, fixture_bytes("linkedin_connections.csv"))

    assert result.as_dict() == {
        "created": 3,
        "updated": 0,
        "skipped_duplicates": 0,
        "errors": 0,
        "error_rows": [],
    }
    ada = leads_of(salesperson)["Ada Lovelace"]
    assert ada.email == "ada@engines.example"
    assert ada.linkedin_url == "https://www.linkedin.com/in/ada-lovelace"
    assert ada.title == "Head of Engineering"
    assert ada.company.name == "Analytical Engines Ltd"
    assert ada.source == "own_network"
    assert ada.source_detail == "LinkedIn connection since 2021-03-12"
    assert ada.stage == "new"
    # Through the lead services: stage history and a first follow-up like any new lead.
    assert StageChange.objects.filter(lead=ada).count() == 1
    assert FollowUp.objects.filter(lead=ada, done_at__isnull=True).exists()
    assert (
        leads_of(salesperson)["Alan Turing"].linkedin_url
        == "https://www.linkedin.com/in/alan-turing"
    )


@pytest.mark.parametrize(
    ("name", "person", "email", "company", "title"),
    [
        (
            "google_contacts.csv",
            "Margaret Hamilton",
            "margaret@apollo.example",
            "Apollo Software",
            "Director",
        ),
        (
            "google_contacts_legacy.csv",
            "Linus Torvalds",
            "linus@kernel.example",
            "Linux Foundation",
            "Fellow",
        ),
        (
            "contacts_v3.vcf",
            "Marie Curie",
            "marie@radium.example",
            "Radium Institute",
            "Director of the Radium Institute and a title long enough to be folded",
        ),
        (
            "contacts_v4.vcf",
            "Rosalind Franklin",
            "rosalind@kcl.example",
            "King's College London",
            "Research Associate",
        ),
        ("hubspot.csv", "Hedy Lamarr", "hedy@spectrum.example", "Spread Spectrum Co", "Inventor"),
        (
            "salesforce.csv",
            "Dorothy Vaughan",
            "dorothy@west.example",
            "West Computing",
            "Supervisor",
        ),
        ("pipedrive.csv", "Frances Allen", "frances@ibm.example", "IBM Research", "Fellow"),
    ],
)
def test_each_format_imports_its_people(salesperson, name, person, email, company, title):
    result = import_data(salesperson, fixture_bytes(name))

    lead = leads_of(salesperson)[person]
    assert (lead.email, lead.company.name, lead.title) == (email, company, title)
    assert result.created >= 2


def test_google_contacts_take_the_first_of_several_values_and_a_profile_from_the_website(
    salesperson,
):
    import_data(salesperson, fixture_bytes("google_contacts.csv"))

    margaret = leads_of(salesperson)["Margaret Hamilton"]
    assert margaret.email == "margaret@apollo.example"
    assert margaret.phone == "+16175550101"
    assert margaret.linkedin_url == "https://www.linkedin.com/in/margaret-hamilton"
    assert leads_of(salesperson)["Katherine Johnson"].company.domain == "nasa.example"


def test_a_bad_vcard_is_reported_by_its_line_and_the_others_kept(salesperson):
    result = import_data(salesperson, fixture_bytes("contacts_v3.vcf"))

    assert (result.created, result.errors) == (2, 1)
    assert result.error_rows == [
        {"row": 21, "field": "EMAIL", "reason": "“not-an-email” is not a valid email address."}
    ]


def test_salesforce_sources_map_to_ours(salesperson):
    import_data(salesperson, fixture_bytes("salesforce.csv"))

    leads = leads_of(salesperson)
    assert leads["Dorothy Vaughan"].source == "event"
    assert leads["Dorothy Vaughan"].company.domain == "westcomputing.example"
    assert (leads["Mary Jackson"].source, leads["Mary Jackson"].source_detail) == (
        "other",
        "Web, added 2022-03-15",
    )


NAMES_CSV = "First Name,Last Name,Email,Company\nZoë,Müller,zoe@example.de,Müller GmbH\n"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(codecs.BOM_UTF8 + NAMES_CSV.encode(), id="utf-8 BOM"),
        pytest.param(
            codecs.BOM_UTF16_LE + NAMES_CSV.replace(",", "\t").encode("utf-16-le"),
            id="utf-16 LE tabs",
        ),
        pytest.param(NAMES_CSV.encode("cp1252"), id="windows-1252"),
        pytest.param(NAMES_CSV.replace(",", ";").encode("cp1252"), id="windows-1252 semicolons"),
    ],
)
def test_accented_names_survive_every_encoding(salesperson, data):
    import_data(salesperson, data)

    lead = Lead.objects.get(owner=salesperson)
    assert (lead.first_name, lead.last_name, lead.company.name) == ("Zoë", "Müller", "Müller GmbH")


def test_emoji_names_and_quoted_multi_line_notes(salesperson):
    import_data(
        salesperson,
        csv_text(
            "Name,Email,Notes",
            '🚀 Rocket Ranger,rocket@example.com,"Loves launches.',
            'Call after 5pm 🌙"',
        ),
    )

    lead = Lead.objects.get(owner=salesperson)
    assert (lead.first_name, lead.last_name) == ("🚀 Rocket", "Ranger")
    assert lead.notes == "Loves launches.\r\nCall after 5pm 🌙"


def test_bad_rows_are_reported_with_their_row_numbers_and_good_rows_kept(salesperson):
    result = import_data(
        salesperson,
        csv_text(
            "First Name,Last Name,Email,Created Date",
            "Ada,Lovelace,ada@example.com,2021-01-01",
            ",,,",
            ",,,2021-01-01",
            "Bad,Email,bad@,2021-01-01",
            "Bad,Date,date@example.com,someday",
            "Grace,Hopper,grace@example.com,",
        ),
    )

    assert (result.created, result.errors) == (2, 3)
    assert result.error_rows == [
        {
            "row": 4,
            "field": "Name / Email",
            "reason": "No name and no email address: a lead needs one.",
        },
        {"row": 5, "field": "Email", "reason": "“bad@” is not a valid email address."},
        {
            "row": 6,
            "field": "Created Date",
            "reason": "Can't read the date “someday” (write it like 2024-03-31 or 31 Mar 2024).",
        },
    ]
    assert set(leads_of(salesperson)) == {"Ada Lovelace", "Grace Hopper"}


@pytest.mark.parametrize(
    ("broken", "rows_in_file"),
    [
        ('Bob,"Builder,bob@example.com,Met at the fair', 4),  # the quote runs to the end
        ('Bob,Builder,"bob@example.com,x', 4),
    ],
)
def test_an_unclosed_quote_is_one_reported_row_and_the_rows_after_it_are_kept(
    salesperson, broken, rows_in_file
):
    """A 4-contact CSV with one unterminated quote: the broken row is an error naming its
    line, the rows after it are imported, and the counts add up to the rows in the file."""
    result = import_data(
        salesperson,
        csv_text(
            "First Name,Last Name,Email,Notes",
            "Ada,Lovelace,ada@example.com,Wrote the first program",
            broken,
            "Carol,King,carol@example.com,Tapestry",
            "Dan,Brown,dan@example.com,",
        ),
    )

    assert set(leads_of(salesperson)) == {"Ada Lovelace", "Carol King", "Dan Brown"}
    assert result.created + result.updated + result.skipped_duplicates + result.errors == (
        rows_in_file
    )
    [error] = result.error_rows
    assert error["row"] == 3
    assert "Line 3" in error["reason"]
    assert "never closed" in error["reason"]
    ada = Lead.objects.get(owner=salesperson, email="ada@example.com")
    assert "Carol" not in ada.notes


def test_an_oversized_cell_is_that_rows_error_and_the_others_are_kept(salesperson):
    result = import_data(
        salesperson,
        csv_text(
            "First Name,Last Name,Email,Notes",
            "Ada,Lovelace,ada@example.com,short",
            "Huge,Notes,huge@example.com," + "x" * 200_000,
            "Carol,King,carol@example.com,",
        ),
    )

    assert set(leads_of(salesperson)) == {"Ada Lovelace", "Carol King"}
    assert (result.created, result.errors) == (2, 1)
    [error] = result.error_rows
    assert error["row"] == 3
    assert "Line 3 has a cell over 128 KB" in error["reason"]


def test_a_file_with_a_nul_byte_keeps_its_rows(salesperson):
    data = csv_text(
        "First Name,Last Name,Email", "Ada,Lovelace,ada@example.com", "Carol,King,carol@example.com"
    ).encode()

    result = import_data(salesperson, data.replace(b"Carol", b"Ca\x00rol"))

    assert (result.created, result.errors) == (2, 0)
    assert set(leads_of(salesperson)) == {"Ada Lovelace", "Carol King"}


def test_a_file_with_thousands_of_columns_is_refused_at_once_with_a_clear_message():
    from imports.decoding import ImportFileError

    header = ",".join(f"c{number}" for number in range(10_000))
    data = (header + "\n" + ",".join("x" for _ in range(10_000)) + "\n").encode()

    with pytest.raises(ImportFileError, match="10,000 columns"):
        read_file(data, max_bytes=MAX_BYTES)


def test_a_quote_closed_on_a_later_line_keeps_its_multi_line_cell(salesperson):
    """The control: a quoted cell with line breaks (an address, notes) is one row, not an
    unclosed quote, even when its lines hold commas."""
    result = import_data(
        salesperson,
        csv_text(
            "First Name,Last Name,Email,Notes",
            'Ada,Lovelace,ada@example.com,"Met in London, at the Society',
            'Likes: engines, poetry, maths"',
            "Carol,King,carol@example.com,",
        ),
    )

    assert (result.created, result.errors) == (2, 0)
    ada = Lead.objects.get(owner=salesperson, email="ada@example.com")
    assert ada.notes == "Met in London, at the Society\r\nLikes: engines, poetry, maths"


def test_duplicates_within_the_file_are_merged_not_doubled(salesperson):
    result = import_data(
        salesperson,
        csv_text(
            "First Name,Last Name,Email,Phone,LinkedIn,Company",
            "Ada,Lovelace,ada@example.com,,,Engines",
            "Ada,Lovelace,ADA@example.com,+44 20 7946 0958,,Engines",  # same email: fills the phone
            "Ada,Lovelace,,,,engines",  # same name + company: nothing new
            "Grace,Hopper,,,linkedin.com/in/grace,",
            "G.,Hopper,grace@example.com,,https://www.linkedin.com/in/grace/,",  # same profile
        ),
    )

    assert (result.created, result.updated, result.skipped_duplicates) == (2, 2, 1)
    leads = leads_of(salesperson)
    assert set(leads) == {"Ada Lovelace", "Grace Hopper"}
    assert leads["Ada Lovelace"].phone == "+442079460958"
    assert leads["Grace Hopper"].email == "grace@example.com"
    assert Company.objects.filter(owner=salesperson).count() == 1


def test_duplicates_of_existing_leads_fill_empty_fields_and_never_overwrite(salesperson):
    typed = LeadFactory(
        owner=salesperson,
        first_name="Ada",
        last_name="Lovelace",
        email="ada@example.com",
        title="Countess",
        phone="",
        notes="",
        company=None,
    )
    result = import_data(
        salesperson,
        csv_text(
            "First Name,Last Name,Email,Job Title,Phone,Company,Notes",
            "Augusta Ada,King,ada@example.com,Engineer,+44 20 7946 0958,Engines,From the import",
        ),
    )

    typed.refresh_from_db()
    assert result.updated == 1
    assert (typed.first_name, typed.last_name, typed.title) == ("Ada", "Lovelace", "Countess")
    assert typed.phone == "+442079460958"
    assert typed.company.name == "Engines"
    assert typed.notes == "From the import"


def test_a_salespersons_edit_after_an_import_survives_the_next_import(salesperson):
    data = fixture_bytes("linkedin_connections.csv")
    import_data(salesperson, data)
    ada = Lead.objects.get(owner=salesperson, first_name="Ada")
    lead_update(lead=ada, user=salesperson, title="CTO", email="ada@new.example")

    result = import_data(salesperson, data)

    ada.refresh_from_db()
    assert (ada.title, ada.email) == ("CTO", "ada@new.example")
    assert (result.created, result.updated) == (0, 0)


def test_the_skip_policy_leaves_existing_leads_alone(salesperson):
    lead = LeadFactory(owner=salesperson, email="ada@example.com", phone="")

    result = import_data(
        salesperson, csv_text("Email,Phone", "ada@example.com,+44 20 7946 0958"), duplicates="skip"
    )

    lead.refresh_from_db()
    assert (result.skipped_duplicates, lead.phone) == (1, "")


def test_another_salespersons_leads_are_not_duplicates(salesperson, other_salesperson):
    LeadFactory(owner=other_salesperson, email="ada@example.com")

    result = import_data(salesperson, csv_text("Email", "ada@example.com"))

    assert result.created == 1


@pytest.mark.parametrize(
    "name",
    [
        "linkedin_connections.csv",
        "google_contacts.csv",
        "google_contacts_legacy.csv",
        "contacts_v3.vcf",
        "contacts_v4.vcf",
        "hubspot.csv",
        "salesforce.csv",
        "pipedrive.csv",
    ],
)
def test_importing_the_same_file_again_creates_nothing_and_changes_nothing(salesperson, name):
    data = fixture_bytes(name)
    import_data(salesperson, data)
    before = list(Lead.objects.filter(owner=salesperson).order_by("id").values())
    companies = Company.objects.count()

    again = import_data(salesperson, data)

    assert (again.created, again.updated) == (0, 0)
    assert again.skipped_duplicates + again.errors == again.processed
    assert list(Lead.objects.filter(owner=salesperson).order_by("id").values()) == before
    assert Company.objects.count() == companies


def test_matching_costs_one_query_up_front_not_one_per_row(salesperson, django_assert_num_queries):
    rows = [f"Person {n},Lead{n},lead{n}@example.com,Company {n % 5}" for n in range(60)]
    data = csv_text("First Name,Last Name,Email,Company", *rows).encode()
    import_data(salesperson, data)
    parsed = read_file(data, max_bytes=MAX_BYTES)

    # One query for the leads' keys, one for the companies; no query per duplicate row.
    with django_assert_num_queries(2):
        result = engine.import_file(parsed, owner=salesperson, options=engine.ImportOptions())

    assert result.skipped_duplicates == 60


def import_statements(owner, rows: int) -> list[str]:
    """The SQL an import of `rows` new people (each with a new company), a tenth of them
    filling in an existing lead, sends; the owner's leads and companies are read first."""
    for n in range(rows // 10):
        LeadFactory(owner=owner, email=f"known{n}@example.com", phone="", company=None)
    lines = [
        f"Pérson{n},Lëad,p{n}@example.com,Company {n},company{n}.example,+44 20 7946 {n:04d}"
        for n in range(rows)
    ]
    lines += [f"Known,Lead,known{n}@example.com,,,+44 20 7946 0000" for n in range(rows // 10)]
    data = csv_text("First Name,Last Name,Email,Company,Website,Phone", *lines).encode()
    parsed = read_file(data, max_bytes=MAX_BYTES)
    with CaptureQueriesContext(connection) as queries:
        result = engine.import_file(parsed, owner=owner, options=engine.ImportOptions())
    assert (result.created, result.updated, result.errors) == (rows, rows // 10, 0)
    return [query["sql"] for query in queries.captured_queries]


def inserts_the_backend_must_split(rows: int) -> int:
    """INSERT statements `rows` leads take beyond one per table: none on PostgreSQL; SQLite
    caps the parameters of a statement (999), so wide rows go a few dozen per INSERT."""
    models = [Company, Lead, Lead.history.model, StageChange, FollowUp]
    extra = 0
    for model in models:
        fields = [field for field in model._meta.concrete_fields if not field.primary_key]
        per_statement = connection.ops.bulk_batch_size(fields, range(rows))
        extra += math.ceil(rows / per_statement) - 1
    return extra


def test_the_statements_of_an_import_grow_with_batches_not_rows(salesperson, other_salesperson):
    small = import_statements(salesperson, 30)
    large = import_statements(other_salesperson, 300)

    def shape(statements: list[str]) -> list[str]:
        return [sql.split()[0] for sql in statements if not sql.startswith("INSERT")]

    # The same reads, locks, updates and savepoints for 30 rows as for 300: a handful per
    # batch (the per-row import sent about ten per row).
    assert shape(large) == shape(small)
    inserts = [len([sql for sql in run if sql.startswith("INSERT")]) for run in (small, large)]
    assert inserts[1] - inserts[0] <= inserts_the_backend_must_split(300)
    assert len(small) < 30


def test_a_large_import_writes_a_batch_per_transaction(salesperson):
    rows = [f"P{n},p{n}@example.com" for n in range(250)]
    parsed = read_file(csv_text("First Name,Email", *rows).encode(), max_bytes=MAX_BYTES)

    with CaptureQueriesContext(connection) as queries:
        engine.import_file(
            parsed, owner=salesperson, options=engine.ImportOptions(), batch_rows=100
        )

    savepoints = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SAVEPOINT")]
    # One transaction (a savepoint inside the test's) per batch: three batches, each with
    # the one savepoint `leads_bulk_create` nests in it.
    assert len(savepoints) == 3 * 2
    assert Lead.objects.filter(owner=salesperson).count() == 250


def test_companies_are_matched_by_domain_or_name_and_created_once(salesperson):
    existing = CompanyFactory(owner=salesperson, name="Acme Corporation", domain="acme.example")
    named = CompanyFactory(owner=salesperson, name="Initech", domain="")

    import_data(
        salesperson,
        csv_text(
            "Email,Company,Website",
            "a@example.com,ACME Inc,https://www.acme.example",  # by domain
            "b@example.com,initech,initech.example",  # by name; the domain is recorded
            "c@example.com,New Co,",
            "d@example.com,new co,",
        ),
    )

    by_email = {lead.email: lead.company for lead in Lead.objects.filter(owner=salesperson)}
    assert by_email["a@example.com"] == existing
    assert by_email["b@example.com"] == named
    named.refresh_from_db()
    assert named.domain == "initech.example"
    assert by_email["c@example.com"] == by_email["d@example.com"]
    assert Company.objects.filter(owner=salesperson).count() == 3


def written_meanwhile(monkeypatch, write) -> None:
    """Run `write` right after the import has read the owner's leads and companies: another
    request or import saving or deleting a lead while this import runs."""
    real = DedupeIndex.for_owner.__func__

    def for_owner(cls, owner, undo=None):
        index = real(cls, owner, undo=undo)
        write(owner)
        return index

    monkeypatch.setattr(DedupeIndex, "for_owner", classmethod(for_owner))


@pytest.mark.parametrize(
    ("taken", "row"),
    [
        pytest.param({"email": "grace@example.com"}, "Grace,grace@example.com,,G", id="email"),
        pytest.param(
            {"linkedin_url": "https://www.linkedin.com/in/grace"},
            "Grace,,linkedin.com/in/grace,G",
            id="linkedin",
        ),
    ],
)
def test_a_row_the_database_refuses_is_reported_and_the_rest_of_its_batch_kept(
    salesperson, monkeypatch, taken, row
):
    # Saved after the import read the owner's leads: only the unique constraint can catch it.
    written_meanwhile(
        monkeypatch, lambda owner: lead_create(owner=owner, first_name="Someone", **taken)
    )

    result = import_data(
        salesperson,
        csv_text(
            "First Name,Email,LinkedIn,Company",
            "Ada,ada@example.com,,A",
            row,
            "Linus,linus@example.com,linkedin.com/in/linus,L",
        ),
    )

    assert (result.created, result.errors) == (2, 1)
    assert result.error_rows == [{"row": 3, "field": "", "reason": engine.CONFLICT}]
    assert sorted(Lead.objects.values_list("first_name", flat=True)) == ["Ada", "Linus", "Someone"]
    # Nothing of the refused row is left: not its company, its stage history or its follow-up.
    assert sorted(Company.objects.values_list("name", flat=True)) == ["A", "L"]
    assert StageChange.objects.count() == FollowUp.objects.count() == 3
    linus = Lead.objects.get(first_name="Linus")
    assert (linus.company.name, linus.history.count()) == ("L", 1)


def test_after_a_refused_batch_the_next_batches_are_written_whole(salesperson, monkeypatch):
    written_meanwhile(
        monkeypatch, lambda owner: lead_create(owner=owner, first_name="X", email="p1@example.com")
    )
    rows = [f"P{n},p{n}@example.com,C{n % 3}" for n in range(40)]

    result = import_data(salesperson, csv_text("First Name,Email,Company", *rows), batch_rows=10)

    # Rows 2..41: p1 is row 3, in the first batch; the other 39 rows are all created.
    assert (result.created, result.errors) == (39, 1)
    assert result.error_rows[0]["row"] == 3
    assert Lead.objects.filter(owner=salesperson).count() == 40
    assert Company.objects.filter(owner=salesperson).count() == 3


def test_a_matched_lead_deleted_during_the_import_is_a_row_error(salesperson, monkeypatch):
    lead = LeadFactory(owner=salesperson, email="ada@example.com", phone="")
    written_meanwhile(monkeypatch, lambda owner: lead.delete())

    result = import_data(
        salesperson,
        csv_text("Email,Phone", "ada@example.com,+44 20 7946 0958", "grace@example.com,"),
    )

    assert (result.created, result.errors) == (1, 1)
    assert result.error_rows == [{"row": 2, "field": "", "reason": engine.DELETED}]
    assert list(Lead.objects.values_list("email", flat=True)) == ["grace@example.com"]


def test_a_field_filled_by_someone_else_meanwhile_is_kept(salesperson, monkeypatch):
    lead = LeadFactory(owner=salesperson, email="ada@example.com", phone="", title="")
    written_meanwhile(
        monkeypatch, lambda owner: Lead.objects.filter(pk=lead.pk).update(phone="+15550100")
    )

    result = import_data(salesperson, csv_text("Email,Phone", "ada@example.com,+44 20 7946 0958"))

    lead.refresh_from_db()
    assert (result.updated, result.skipped_duplicates, lead.phone) == (0, 1, "+15550100")


def test_after_a_refused_first_batch_the_owners_companies_are_still_known(salesperson, monkeypatch):
    acme = CompanyFactory(owner=salesperson, name="Acme", domain="acme.example")
    written_meanwhile(
        monkeypatch, lambda owner: lead_create(owner=owner, first_name="X", email="b@example.com")
    )

    result = import_data(
        salesperson,
        csv_text(
            "First Name,Email,Company", "A,a@example.com,Acme", "B,b@example.com,Acme", "C,,acme"
        ),
    )

    # The batch was written again row by row: its rows still find the company read up front.
    assert (result.created, result.errors) == (2, 1)
    assert list(Company.objects.filter(owner=salesperson)) == [acme]
    assert Lead.objects.filter(owner=salesperson, company=acme).count() == 2


# Rows for `test_batches_written_in_the_background_end_as_batches_written_in_turn`, three to
# a batch: a lead of one batch filled in by the next, a company named in one and given its
# website in the next, a refused batch (row 6's email is taken meanwhile) with the batch
# after it already planned, companies read up front, a bad row and a duplicate.
IN_BATCHES = csv_text(
    "First Name,Last Name,Email,Phone,Company,Website",
    "Ada,Lovelace,ada@example.com,,Analytical,",
    "Grace,Hopper,grace@example.com,,Navy,",
    "Linus,T,linus@example.com,,Known Co,",
    "Ada,Lovelace,ada@example.com,+44 20 7946 0958,,",  # fills in row 2's lead
    "Alan,Turing,alan@example.com,,Analytical,analytical.example",  # row 2's company's site
    "Taken,Meanwhile,taken@example.com,,Navy,",
    "Bad,Email,not-an-email,,,",
    "Grace,Hopper,grace@example.com,+1 202 555 0100,,",
    "Edsger,D,edsger@example.com,,Known Co,known.example",
    "Barbara,L,barbara@example.com,,Analytical,",
    "Alan,Turing,alan@example.com,,,",  # nothing new: a duplicate
)


def imported_state(owner) -> dict[str, object]:
    leads = Lead.objects.filter(owner=owner).select_related("company")
    return {
        "leads": sorted(
            (lead.email, lead.full_name, lead.phone, lead.company.name if lead.company else "")
            for lead in leads
        ),
        "companies": sorted(
            Company.objects.filter(owner=owner).values_list("name", "domain", "leads__email")
        ),
        "stage_changes": StageChange.objects.filter(lead__owner=owner).count(),
        "follow_ups": FollowUp.objects.filter(lead__owner=owner).count(),
    }


@pytest.mark.django_db(transaction=True)
def test_batches_written_in_the_background_end_as_batches_written_in_turn(
    salesperson, other_salesperson, monkeypatch
):
    written_meanwhile(
        monkeypatch,
        lambda owner: lead_create(owner=owner, first_name="Other", email="taken@example.com"),
    )
    writers: dict[int, set[str]] = {}
    real_bulk_create = engine.leads_bulk_create

    def slow_bulk_create(*, leads, created_by, **kwargs):
        # A slow database: the next batch is planned while this one is being written.
        writers.setdefault(created_by.pk, set()).add(threading.current_thread().name)
        time.sleep(0.2)
        return real_bulk_create(leads=leads, created_by=created_by, **kwargs)

    monkeypatch.setattr(engine, "leads_bulk_create", slow_bulk_create)
    for owner in (salesperson, other_salesperson):
        CompanyFactory(owner=owner, name="Known Co", domain="")

    background = import_data(salesperson, IN_BATCHES, batch_rows=3)
    with transaction.atomic():  # an open transaction: each batch is written in turn
        in_turn = import_data(other_salesperson, IN_BATCHES, batch_rows=3)

    assert background.as_dict() == in_turn.as_dict()
    assert (background.created, background.updated, background.errors) == (6, 2, 2)
    assert imported_state(salesperson) == imported_state(other_salesperson)
    assert imported_state(salesperson)["leads"][:2] == [
        ("ada@example.com", "Ada Lovelace", "+442079460958", "Analytical"),
        ("alan@example.com", "Alan Turing", "", "Analytical"),
    ]
    assert ("Analytical", "analytical.example") in {
        (name, domain) for name, domain, _ in imported_state(salesperson)["companies"]
    }
    # On PostgreSQL the batches go from the writer's thread; the refused batch's rows are
    # written one by one from the import's own.
    if connection.vendor == "postgresql":
        assert writers[salesperson.pk] == {"import-writer_0", "MainThread"}
    else:
        assert writers[salesperson.pk] == {"MainThread"}
    assert writers[other_salesperson.pk] == {"MainThread"}


def import_stopped_by(error: type[Exception], owner, *, people: int) -> engine.ImportResult:
    """Import `people` rows, in batches of 3, that `error` stops; the counts it reached."""
    rows = [f"P{n},p{n}@example.com" for n in range(people)]
    parsed = read_file(csv_text("First Name,Email", *rows).encode(), max_bytes=MAX_BYTES)
    result = engine.ImportResult()
    with pytest.raises(error):
        engine.import_file(
            parsed, owner=owner, options=engine.ImportOptions(), result=result, batch_rows=3
        )
    return result


@pytest.mark.django_db(transaction=True)
def test_an_import_stopped_by_a_failed_write_counts_what_was_committed(salesperson, monkeypatch):
    real_bulk_create = engine.leads_bulk_create
    calls = []
    writers = set()  # the database sessions the batches were written on

    def bulk_create_losing_the_database(**kwargs):
        calls.append(threading.current_thread().name)
        writers.add(session_id())
        if len(calls) == 2:
            raise OperationalError("server closed the connection unexpectedly")
        return real_bulk_create(**kwargs)

    monkeypatch.setattr(engine, "leads_bulk_create", bulk_create_losing_the_database)
    result = import_stopped_by(OperationalError, salesperson, people=7)

    # The first batch is in and counted; the rest is for the run that resumes.
    assert (result.created, result.processed) == (3, 3)
    assert Lead.objects.filter(owner=salesperson).count() == 3
    assert not [thread for thread in threading.enumerate() if thread.name.startswith("import-")]
    # The writer's connection is closed. (Only its own: a session another test left behind
    # on this worker's database, as a live server's, is not this import's.)
    writers.discard(session_id())
    assert writers or connection.vendor != "postgresql"  # on PostgreSQL, a writer of its own
    assert wait_for(lambda: not sessions_open(writers), timeout=10), sessions_open(writers)


def session_id() -> int | None:
    """This thread's PostgreSQL session (its backend's pid); None on SQLite."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def sessions_open(ids: set[int | None]) -> list[tuple]:
    """Which of these PostgreSQL sessions are still connected, with what they last ran."""
    ids = {session for session in ids if session is not None}
    if connection.vendor != "postgresql" or not ids:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, state, query FROM pg_stat_activity WHERE pid = ANY(%s)", [list(ids)]
        )
        return cursor.fetchall()


def file_failing_after(monkeypatch, rows: int) -> None:
    """The file can't be read past its first `rows` data rows (the import stops there)."""
    real = engine.candidates

    def candidates(parsed, options, *, skip_rows=0):
        for number, item in enumerate(real(parsed, options, skip_rows=skip_rows)):
            if number == rows:
                raise ImportFileError("The file ends in the middle of a row.")
            yield item

    monkeypatch.setattr(engine, "candidates", candidates)


@pytest.mark.django_db(transaction=True)
def test_a_refused_batch_still_on_its_way_when_the_file_fails_keeps_its_other_rows(
    salesperson, monkeypatch
):
    written_meanwhile(
        monkeypatch, lambda owner: lead_create(owner=owner, first_name="X", email="p1@example.com")
    )
    file_failing_after(monkeypatch, 3)
    result = import_stopped_by(ImportFileError, salesperson, people=6)

    assert (result.created, result.errors) == (2, 1)
    assert set(Lead.objects.filter(owner=salesperson).values_list("email", flat=True)) == {
        "p0@example.com",
        "p1@example.com",
        "p2@example.com",
    }


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="a batch is written in the background on PostgreSQL"
)
def test_a_stopping_import_cancels_a_write_left_waiting_for_a_lock(salesperson, monkeypatch):
    lead = LeadFactory(owner=salesperson, email="ada@example.com", phone="")
    locked, release = threading.Event(), threading.Event()

    def hold_the_lead() -> None:  # another request editing the lead, for longer than the limit
        with transaction.atomic():
            Lead.objects.select_for_update().get(pk=lead.pk)
            locked.set()
            release.wait(60)
        connection.close()

    holder = threading.Thread(target=hold_the_lead)
    holder.start()
    assert locked.wait(10)
    monkeypatch.setattr(engine, "STOP_GRACE_SECONDS", 0.5)
    file_failing_after(monkeypatch, 1)  # a time limit, say, while the first batch is written
    parsed = read_file(
        csv_text("Email,Phone", "ada@example.com,+44 20 7946 0958", "bo@example.com,").encode(),
        max_bytes=MAX_BYTES,
    )
    started = time.monotonic()
    try:
        with pytest.raises(OperationalError):  # the cancelled statement
            engine.import_file(
                parsed, owner=salesperson, options=engine.ImportOptions(), batch_rows=1
            )
        stopped_after = time.monotonic() - started
    finally:
        release.set()
        holder.join()
    assert stopped_after < 10
    lead.refresh_from_db()
    assert lead.phone == ""  # the batch was rolled back: a resumed run fills it in


def test_preview_marks_new_rows_duplicates_and_errors_without_writing(salesperson):
    existing = LeadFactory(owner=salesperson, email="known@example.com", phone="")
    parsed = read_file(
        csv_text(
            "Name,Email,Phone",
            "New Person,new@example.com,",
            "Known Person,known@example.com,+44 20 7946 0958",
            "Again,new@example.com,",
            "Broken,broken@,",
        ).encode(),
        max_bytes=MAX_BYTES,
    )

    rows = engine.preview(parsed, owner=salesperson, options=engine.ImportOptions())

    assert [row.action for row in rows] == ["create", "fill", "skip", "error"]
    assert rows[1].duplicate_of.ref == existing.pk
    assert rows[1].plan.fills == ("phone",)
    assert rows[2].duplicate_of.row == 2
    assert Lead.objects.count() == 1
