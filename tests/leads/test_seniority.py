from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leads.models import Seniority
from leads.seniority import seniority_from_title

OWNER, C_LEVEL, VP = Seniority.OWNER, Seniority.C_LEVEL, Seniority.VP
DIRECTOR, MANAGER, INDIVIDUAL = Seniority.DIRECTOR, Seniority.MANAGER, Seniority.INDIVIDUAL


# Titles as people write them on LinkedIn and in CRM exports.
@pytest.mark.parametrize(
    ("title", "seniority"),
    [
        # Founders and owners, also when they run the company as CEO.
        ("Founder", OWNER),
        ("Co-Founder", OWNER),
        ("Cofounder & CTO", OWNER),
        ("CEO/Founder", OWNER),
        ("Founder & CEO", OWNER),
        ("Co-founder and Chief Product Officer", OWNER),
        ("Owner", OWNER),
        ("Business Owner", OWNER),
        ("Proprietor", OWNER),
        ("Managing Partner", OWNER),
        ("Partner", OWNER),
        ("Founding Partner, Acme Ventures", OWNER),
        ("Gründer und Geschäftsführer", OWNER),
        ("Inhaber", OWNER),
        ("Fondatrice", OWNER),
        # C-level.
        ("CEO", C_LEVEL),
        ("C.E.O.", C_LEVEL),
        ("Chief Executive Officer", C_LEVEL),
        ("Chief Revenue Officer", C_LEVEL),
        ("CTO", C_LEVEL),
        ("CFO & COO", C_LEVEL),
        ("CISO", C_LEVEL),
        ("CHRO", C_LEVEL),
        ("President", C_LEVEL),
        ("President & CEO", C_LEVEL),
        ("SVP & Chief Marketing Officer", C_LEVEL),
        ("Managing Director", C_LEVEL),
        ("Managing Director DACH", C_LEVEL),
        ("Chairman of the Board", C_LEVEL),
        ("Board Member", C_LEVEL),
        ("Geschäftsführerin", C_LEVEL),
        ("Directeur Général", C_LEVEL),
        ("PDG", C_LEVEL),
        # VPs.
        ("VP Sales", VP),
        ("VP, Sales", VP),
        ("VP of Engineering", VP),
        ("V.P. Marketing", VP),
        ("SVP Global Sales", VP),
        ("EVP, Operations", VP),
        ("Vice President of Sales", VP),
        ("Vice-President Finance", VP),
        ("Executive Vice President", VP),
        ("Senior Vice President, Customer Success", VP),
        ("Vicepresidente Comercial", VP),
        # Directors and heads.
        ("Director of Sales", DIRECTOR),
        ("Sales Director", DIRECTOR),
        ("Senior Director, Product Management", DIRECTOR),
        ("Executive Director", DIRECTOR),
        ("Head of Marketing", DIRECTOR),
        ("Head of the Sales Team", DIRECTOR),
        ("Sales Head EMEA", DIRECTOR),
        ("Chief of Staff", DIRECTOR),
        ("General Manager", DIRECTOR),
        ("Abteilungsleiter Vertrieb", DIRECTOR),
        ("Directora de Ventas", DIRECTOR),
        ("Directeur Commercial", DIRECTOR),
        # Managers and team leads.
        ("Sales Manager", MANAGER),
        ("Product Manager", MANAGER),
        ("Senior Engineering Manager", MANAGER),
        ("Partner Manager", MANAGER),
        ("Assistant Manager", MANAGER),
        ("Country Manager DACH", MANAGER),
        ("Team Lead, Customer Support", MANAGER),
        ("Tech Lead", MANAGER),
        ("Supervisor", MANAGER),
        ("Teamleiter Innendienst", MANAGER),
        ("Gerente de Ventas", MANAGER),
        # People without reports.
        ("Intern", INDIVIDUAL),
        ("Marketing Intern", INDIVIDUAL),
        ("Working Student", INDIVIDUAL),
        ("Software Engineer", INDIVIDUAL),
        ("Senior Software Engineer", INDIVIDUAL),
        ("Account Executive", INDIVIDUAL),
        ("Senior Account Executive", INDIVIDUAL),
        ("SDR", INDIVIDUAL),
        ("Sales Development Representative", INDIVIDUAL),
        ("Data Analyst", INDIVIDUAL),
        ("Product Owner", INDIVIDUAL),
        ("Founder's Associate", INDIVIDUAL),
        ("Assistant to the CEO", INDIVIDUAL),
        ("Executive Assistant to CEO", INDIVIDUAL),
        ("Consultant", INDIVIDUAL),
        ("Junior Developer", INDIVIDUAL),
        ("Compliance Officer", INDIVIDUAL),
        ("Werkstudentin Marketing", INDIVIDUAL),
        # Titles that don't tell.
        ("", ""),
        ("   ", ""),
        ("Sales", ""),
        ("Growth", ""),
        ("Partner at Sequoia", OWNER),
        ("Vice", ""),
    ],
)
def test_seniority_from_real_titles(title, seniority):
    assert seniority_from_title(title) == seniority


def test_no_title_says_nothing():
    assert seniority_from_title(None) == ""


_SENIORITIES = ["", *Seniority.values]
_WORDS = st.sampled_from(
    [
        "sales",
        "vp",
        "ceo",
        "founder",
        "head",
        "of",
        "the",
        "to",
        "manager",
        "intern",
        "Senior",
        "director",
        "engineer",
        "vice",
        "president",
        "partner",
        "owner",
        "&",
        ",",
        "-",
        "/",
    ]
)


@given(st.text(max_size=60))
def test_any_text_gives_a_seniority_or_nothing(title):
    assert seniority_from_title(title) in _SENIORITIES


@given(st.lists(_WORDS, max_size=8).map(" ".join))
def test_case_and_surrounding_spaces_do_not_matter(title):
    expected = seniority_from_title(title)

    assert seniority_from_title(title.upper()) == expected
    assert seniority_from_title(f"  {title.title()}  ") == expected


@given(st.lists(_WORDS, max_size=6).map(" ".join))
def test_whoever_the_title_is_relative_to_does_not_count(rest):
    # "Assistant to the CEO" is an assistant, whatever follows.
    assert seniority_from_title(f"Assistant to {rest}") == INDIVIDUAL
    assert seniority_from_title(f"Intern to the {rest}") == INDIVIDUAL


@given(st.lists(_WORDS.filter(lambda word: word != "to"), max_size=6).map(" ".join))
def test_a_founder_is_a_founder_whatever_else_the_title_says(rest):
    assert seniority_from_title(f"Co-founder & {rest}") == OWNER
