"""Company matching: one key for the many ways a company's name is typed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prospecting.companies import (
    domain_of,
    email_domain,
    name_search_words,
    normalise_company_name,
    spellings,
)


@pytest.mark.parametrize(
    "names",
    [
        ["ACME, Inc.", "Acme Inc", "acme", "Acme Incorporated", "The Acme Company", "ACME LLC"],
        ["Müller GmbH", "Mueller GmbH", "MÜLLER GMBH", "Müller GmbH & Co. KG"],
        ["Société Générale S.A.", "Societe Generale SA", "société générale"],
        ["Ben & Jerry's", "Ben and Jerry's Inc.", "ben + jerrys"],
        ["Smith & Co", "Smith and Co.", "smith"],
        ["Acme Holdings Ltd", "Acme Ltd.", "acme limited", "ACME PLC"],
        ["Nordisk A/S", "Nordisk AS"],
        ["Grupo Bimbo, S.A.B. de C.V.", "Grupo Bimbo"],
        ["Atlassian Pty Ltd", "Atlassian"],
    ],
)
def test_messy_spellings_of_one_company_share_a_key(names):
    keys = {normalise_company_name(name) for name in names}
    assert len(keys) == 1, keys
    assert keys != {""}


@pytest.mark.parametrize(
    ("one", "other"),
    [
        # Decided: an umlaut written out (ue) is the same name; dropping it (u) is another.
        ("Müller GmbH", "Muller GmbH"),
        ("Acme", "Acme Foods"),
        ("Apple", "Pineapple"),
        ("Group Nine Media", "Nine Media"),
    ],
)
def test_different_companies_keep_different_keys(one, other):
    assert normalise_company_name(one) != normalise_company_name(other)


def test_a_name_that_is_only_legal_words_is_not_made_empty():
    assert normalise_company_name("The Company") == "the company"
    assert normalise_company_name("Holding AG") == "holding ag"
    assert normalise_company_name("  ,. ") == ""


@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=40))
def test_the_key_ignores_case_and_surrounding_punctuation(name):
    key = normalise_company_name(name)
    assert normalise_company_name(name.upper()) == key
    assert normalise_company_name(f"  {name} ,.") == key
    assert key == key.strip()
    assert "  " not in key


@given(st.text(max_size=40))
def test_any_text_gives_a_key_of_words_without_punctuation(name):
    key = normalise_company_name(name)
    assert key == key.casefold() or key.casefold() != key.lower()
    assert all(char.isalnum() or char == " " for char in key)
    assert key == " ".join(key.split())


def test_names_in_other_scripts_keep_their_letters():
    assert normalise_company_name("トヨタ自動車株式会社") == "トヨタ自動車株式会社"
    assert normalise_company_name("Яндекс, ООО") == "яндекс ооо"


def test_search_words_and_spellings_find_the_typed_and_the_umlaut_forms():
    assert name_search_words("mueller bau") == ["mueller", "bau"]
    assert set(spellings("mueller")) == {"mueller", "müller"}
    assert spellings("acme") == ["acme"]
    assert len(spellings("aeoeuessaeoeue")) <= 8


@pytest.mark.parametrize(
    ("typed", "domain"),
    [
        ("acme.com", "acme.com"),
        ("https://www.Acme.com/about", "acme.com"),
        ("dana@acme.co.uk", "acme.co.uk"),
        ("Acme Inc", ""),
        ("S.A.", ""),
        ("Acme Inc.", ""),
        ("acme", ""),
    ],
)
def test_a_search_that_names_a_domain(typed, domain):
    assert domain_of(typed) == domain


def test_email_domain():
    assert email_domain("Dana@Acme.com") == "acme.com"
    assert email_domain("no-at-sign") == ""
