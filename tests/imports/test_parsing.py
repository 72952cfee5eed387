from __future__ import annotations

import pytest

from imports.columns import Target, auto_mapping
from imports.decoding import ImportFileError
from imports.parsing import mapping_problem, read_file
from imports.vcard import read_cards
from tests.imports.conftest import MAX_BYTES, csv_text, fixture_bytes


def parse(data: bytes | str, format: str = "auto"):
    return read_file(
        data.encode() if isinstance(data, str) else data, max_bytes=MAX_BYTES, format=format
    )


def records(parsed):
    return [(record.row, record.values) for record in parsed.records()]


@pytest.mark.parametrize(
    ("name", "file_format", "rows"),
    [
        ("linkedin_connections.csv", "linkedin", 3),
        ("google_contacts.csv", "google", 2),
        ("google_contacts_legacy.csv", "google", 2),
        ("contacts_v3.vcf", "vcard", 3),
        ("contacts_v4.vcf", "vcard", 2),
        ("hubspot.csv", "csv", 2),
        ("salesforce.csv", "csv", 2),
        ("pipedrive.csv", "csv", 2),
    ],
)
def test_the_format_is_detected(name, file_format, rows):
    parsed = parse(fixture_bytes(name))

    assert parsed.format == file_format
    assert parsed.data_rows == rows


def test_linkedin_note_lines_above_the_header_are_skipped_and_rows_keep_spreadsheet_numbers():
    parsed = parse(fixture_bytes("linkedin_connections.csv"))

    assert parsed.header_row == 4
    first_row, first = records(parsed)[0]
    assert first_row == 5
    assert first[Target.FIRST_NAME] == "Ada"
    assert first[Target.LINKEDIN] == "https://www.linkedin.com/in/ada-lovelace"
    assert first[Target.ADDED_ON] == "12 Mar 2021"
    assert not parsed.needs_mapping


def test_an_old_linkedin_export_without_the_url_column_is_still_linkedin():
    text = csv_text(
        "First Name,Last Name,Email Address,Company,Position,Connected On",
        "Ada,L,,Acme,CTO,1 Jan 2020",
    )

    assert parse(text).format == "linkedin"


def test_asking_for_linkedin_on_another_csv_says_what_is_missing():
    with pytest.raises(ImportFileError, match=r"isn't LinkedIn's Connections\.csv"):
        parse(fixture_bytes("hubspot.csv"), format="linkedin")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "hubspot.csv",
            {
                "Record ID": "ignore",
                "Phone Number": "phone",
                "Create Date": "added_on",
                "Original Source": "lead_source",
                "Website URL": "company_domain",
            },
        ),
        (
            "salesforce.csv",
            {
                "Company / Account": "company_name",
                "Phone": "phone",
                "Mobile": "ignore",
                "Lead Source": "lead_source",
                "Created Date": "added_on",
                "Title": "title",
            },
        ),
        (
            "pipedrive.csv",
            {
                "Person - Name": "full_name",
                "Person - Organization": "company_name",
                "Person - Email - Work": "email",
                "Person - Job title": "title",
                "Person - Owner": "ignore",
            },
        ),
    ],
)
def test_other_crms_headers_are_mapped_and_the_rest_asked_about(name, expected):
    parsed = parse(fixture_bytes(name))
    mapping = dict(zip(parsed.headers, parsed.mapping, strict=True))

    for header, target in expected.items():
        assert mapping[header] == target, header
    assert parsed.needs_mapping
    assert "ignore" not in [mapping[h] for h in parsed.headers if h not in parsed.unmapped]


@pytest.mark.parametrize(
    ("header", "target"),
    [
        ("firstname", "first_name"),
        ("Given name", "first_name"),
        ("lastname", "last_name"),
        ("E-mail", "email"),
        ("Email Address", "email"),
        ("Primary Email", "email"),
        ("Account Name", "company_name"),
        ("Organization", "company_name"),
        ("Position", "title"),
        ("Mobile Phone", "phone"),
        ("LinkedIn", "linkedin_url"),
        ("LinkedIn URL", "linkedin_url"),
        ("Company Domain Name", "company_domain"),
        ("Website", "company_domain"),
        ("Lead Source", "lead_source"),
        ("Notes", "notes"),
        ("Favourite colour", "ignore"),
    ],
)
def test_obvious_headers_map_however_they_are_spelled(header, target):
    assert auto_mapping([header]) == [target]


def test_semicolon_delimited_file_with_commas_in_values():
    text = csv_text(
        "Vorname;Nachname;E-Mail;Firma", "Zoë;Müller;zoe@example.de;Müller, Schmidt & Co"
    )
    parsed = parse(text)

    assert parsed.delimiter == ";"
    assert parsed.headers == ["Vorname", "Nachname", "E-Mail", "Firma"]


def test_tab_delimited_file():
    parsed = parse("First Name\tLast Name\tEmail\nAda\tLovelace\tada@example.com\n")

    assert parsed.delimiter == "\t"
    assert records(parsed) == [
        (2, {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"})
    ]


def test_excels_sep_line_names_the_delimiter():
    parsed = parse("sep=;\nName;Email\nAda Lovelace;ada@example.com\n")

    assert parsed.delimiter == ";"
    assert records(parsed)[0][1] == {"full_name": "Ada Lovelace", "email": "ada@example.com"}


def test_quoted_cells_with_line_breaks_blank_lines_and_ragged_rows():
    text = csv_text(
        "First Name,Last Name,Email,Notes",
        'Ada,Lovelace,ada@example.com,"Line one',
        'line two, with a comma"',
        "",
        ",,,",
        "Grace,Hopper",  # short row
        "Alan,Turing,alan@example.com,Enigma,extra,cells",  # long row
    )
    rows = records(parse(text))

    assert rows == [
        (
            2,
            {
                "first_name": "Ada",
                "last_name": "Lovelace",
                "email": "ada@example.com",
                "notes": "Line one\r\nline two, with a comma",
            },
        ),
        (5, {"first_name": "Grace", "last_name": "Hopper"}),
        (
            6,
            {
                "first_name": "Alan",
                "last_name": "Turing",
                "email": "alan@example.com",
                "notes": "Enigma",
            },
        ),
    ]


def test_an_exported_and_neutralised_cell_is_read_back_as_it_was():
    rows = records(parse(csv_text("Name,Phone", "'=Ada,'+44 20 7946 0958")))

    assert rows[0][1] == {"full_name": "=Ada", "phone": "+44 20 7946 0958"}


def test_a_header_without_rows_is_refused():
    with pytest.raises(ImportFileError, match="no contacts"):
        parse("First Name,Email\n\n")


def test_mapping_needs_a_name_or_email_and_no_target_twice():
    headers = ["A", "B", "C"]

    assert "name or the email" in mapping_problem(["phone", "ignore", "ignore"], headers)
    assert "Only one column can be Email" in mapping_problem(["email", "email", "ignore"], headers)
    assert mapping_problem(["email", "notes", "notes"], headers) == ""


def test_vcard_unfolds_lines_unescapes_values_and_prefers_the_preferred_email():
    cards = list(read_cards(fixture_bytes("contacts_v3.vcf").decode()))

    assert [card.line for card in cards] == [1, 14, 21]
    marie = cards[0].values
    assert marie["first_name"] == "Marie"
    assert marie["last_name"] == "Curie"
    assert marie["title"] == "Director of the Radium Institute and a title long enough to be folded"
    assert marie["email"] == "marie@radium.example"
    assert marie["company_name"] == "Radium Institute"
    assert marie["notes"] == "Two Nobel prizes, physics and chemistry.\nAsk about polonium."
    assert marie["linkedin_url"] == "https://www.linkedin.com/in/marie-curie"


def test_vcard_4_reads_tel_uris_pref_parameters_and_folded_urls():
    rosalind = next(read_cards(fixture_bytes("contacts_v4.vcf").decode())).values

    assert rosalind["phone"] == "+44-20-7946-0958"
    assert rosalind["email"] == "rosalind@kcl.example"
    assert rosalind["linkedin_url"] == "https://www.linkedin.com/in/rosalind-franklin"
    assert rosalind["company_name"] == "King's College London"


def test_vcard_2_1_quoted_printable_values():
    text = (
        "BEGIN:VCARD\nVERSION:2.1\nN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;Zo=C3=AB;;;\n"
        "EMAIL;WORK;PREF:zoe@example.de\nEND:VCARD\n"
    )
    card = next(read_cards(text)).values

    assert (card["first_name"], card["last_name"], card["email"]) == (
        "Zoë",
        "Müller",
        "zoe@example.de",
    )


def test_no_cards_in_a_vcard_file_is_refused():
    with pytest.raises(ImportFileError, match="No contacts found"):
        parse("just some text\n", format="vcard")


def test_a_vcard_line_that_cannot_be_read_costs_only_that_line():
    """Phones and old CRMs write stray lines (a wrapped note without its leading space); the
    card keeps what it has and the cards after it are all read."""
    text = (
        "BEGIN:VCARD\nVERSION:3.0\nFN:Ada Lovelace\na wrapped note without a colon\n"
        "EMAIL:ada@example.com\nEND:VCARD\n"
        "BEGIN:VCARD\nVERSION:3.0\nFN:Grace Hopper\nEND:VCARD\n"
    )

    cards = list(read_cards(text))

    assert [card.line for card in cards] == [1, 7]
    assert cards[0].values == {"full_name": "Ada Lovelace", "email": "ada@example.com"}
    assert cards[1].values == {"full_name": "Grace Hopper"}


def test_a_last_vcard_without_its_end_line_is_still_read():
    text = "BEGIN:VCARD\nVERSION:3.0\nFN:Ada Lovelace\nEND:VCARD\nBEGIN:VCARD\nFN:Grace Hopper\n"

    assert [card.values["full_name"] for card in read_cards(text)] == [
        "Ada Lovelace",
        "Grace Hopper",
    ]


def test_vcard_2_1_bare_pref_type_picks_the_preferred_email():
    text = (
        "BEGIN:VCARD\nVERSION:2.1\nFN:Zoë Müller\nEMAIL;HOME:zoe@home.example\n"
        "EMAIL;WORK;PREF:zoe@work.example\nEND:VCARD\n"
    )

    assert next(read_cards(text)).values["email"] == "zoe@work.example"
