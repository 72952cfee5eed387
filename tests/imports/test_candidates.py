from __future__ import annotations

import re
from datetime import date

import pytest

from imports.candidates import (
    Candidate,
    CandidateContext,
    build_candidate,
    parse_date,
    split_full_name,
)
from imports.parsing import RawRecord

CSV = CandidateContext(format="csv")


def build(values: dict[str, str], context: CandidateContext = CSV):
    return build_candidate(RawRecord(7, values, {key: f"[{key}]" for key in values}), context)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12 Mar 2021", date(2021, 3, 12)),
        ("2023-05-04 10:15", date(2023, 5, 4)),
        ("2023-05-04T10:15:00Z", date(2023, 5, 4)),
        ("3/14/2022", date(2022, 3, 14)),
        ("3/14/2022 9:30 AM", date(2022, 3, 14)),
        ("31/12/2022", date(2022, 12, 31)),
        ("31.12.2022", date(2022, 12, 31)),
        ("March 5, 2020", date(2020, 3, 5)),
    ],
)
def test_dates_as_other_tools_write_them(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["yesterday", "32/13/2020", "2020-02-30"])
def test_an_unreadable_date_raises(text):
    with pytest.raises(ValueError, match=re.escape(text)):
        parse_date(text)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Mary Ann Smith", ("Mary Ann", "Smith")),
        ("Smith, Jane", ("Jane", "Smith")),
        ("Cher", ("Cher", "")),
    ],
)
def test_full_names_are_split(name, expected):
    assert split_full_name(name) == expected


def test_a_candidate_is_normalised_like_the_lead_services_normalise():
    candidate = build(
        {
            "first_name": "  Zoë ",
            "last_name": "Müller  ",
            "email": " Zoe@Example.DE ",
            "phone": "+49 30 1234567",
            "linkedin_url": "https://de.linkedin.com/in/Zoe-Mueller/?trk=x",
            "company_name": "Müller   GmbH",
            "company_domain": "https://www.mueller.example/about",
            "lead_source": "Trade show",
            "added_on": "2024-01-31",
        }
    )

    assert isinstance(candidate, Candidate)
    assert (candidate.first_name, candidate.last_name) == ("Zoë", "Müller")
    assert candidate.email == "zoe@example.de"
    assert candidate.phone == "+49301234567"
    assert candidate.linkedin_url == "https://www.linkedin.com/in/zoe-mueller"
    assert (candidate.company_name, candidate.company_domain) == ("Müller GmbH", "mueller.example")
    assert candidate.source == "event"
    assert candidate.source_detail == "Trade show, added 2024-01-31"


def test_the_rows_own_source_wins_over_the_default():
    referral = build(
        {"email": "a@example.com", "lead_source": "Referral"}, CandidateContext("csv", "marketing")
    )
    unknown = build(
        {"email": "a@example.com", "lead_source": "Billboard"}, CandidateContext("csv", "marketing")
    )

    assert (referral.source, referral.source_detail) == ("referral", "CSV import")
    assert (unknown.source, unknown.source_detail) == ("marketing", "Billboard")


def test_linkedin_rows_are_own_network_since_the_day_you_connected():
    candidate = build(
        {"first_name": "Ada", "added_on": "12 Mar 2021"}, CandidateContext("linkedin")
    )

    assert candidate.source == "own_network"
    assert candidate.source_detail == "LinkedIn connection since 2021-03-12"


def test_a_linkedin_profile_in_the_website_column_becomes_the_profile():
    candidate = build({"email": "a@example.com", "company_domain": "linkedin.com/in/ada"})

    assert candidate.linkedin_url == "https://www.linkedin.com/in/ada"
    assert candidate.company_domain == ""


@pytest.mark.parametrize(
    ("values", "field", "reason"),
    [
        ({"company_name": "Acme"}, "Name / Email", "No name and no email address"),
        ({"first_name": "Ada", "email": "ada@"}, "[email]", "“ada@” is not a valid email address."),
        ({"first_name": "Ada", "added_on": "soon"}, "[added_on]", "Can't read the date “soon”"),
        ({"first_name": "A" * 101}, "[first_name]", "at most 100 characters"),
        (
            {"first_name": "Ada", "linkedin_url": "linkedin.com/in/a b"},
            "[linkedin_url]",
            "valid URL",
        ),
    ],
)
def test_a_bad_row_says_which_row_column_and_why(values, field, reason):
    errors = build(values)

    assert isinstance(errors, list)
    assert errors[0].row == 7
    assert errors[0].field == field
    assert reason in errors[0].reason


def test_every_problem_of_a_row_is_reported():
    errors = build({"first_name": "Ada", "email": "nope", "added_on": "soon"})

    assert [error.field for error in errors] == ["[added_on]", "[email]"]
