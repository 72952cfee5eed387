"""`passes_clean` answers for a field's clean() without running it: whenever it says a value
passes, clean() passes that value unchanged."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core import validators
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from leads.models import Lead
from leads.services import check_email, validation
from leads.services.validation import passes_clean

NOW = datetime(2026, 12, 7, 9, 30, tzinfo=ZoneInfo("Europe/Dublin"))


@pytest.fixture(autouse=True)
def nothing_remembered(monkeypatch):
    monkeypatch.setattr(validation, "_VALID_EMAILS", {})


def clean_passes_unchanged(name: str, value: object) -> bool:
    field = Lead._meta.get_field(name)
    try:
        return field.clean(value, Lead()) == value
    except ValidationError:
        return False


@pytest.mark.parametrize(
    ("name", "value", "passes"),
    [
        ("first_name", "Zoë", True),
        ("first_name", "", True),
        ("first_name", "Z" * 101, False),
        ("first_name", "Zo\x00e", False),
        ("stage", "won", True),
        ("stage", "asleep", False),
        ("email", "zoe@example.com", True),
        ("email", "", True),
        ("email", "zoe@example", False),
        ("email", "zoe", False),
        ("email", f"{'z' * 250}@example.com", False),
        ("linkedin_url", "https://www.linkedin.com/in/zoe-m", True),
        ("linkedin_url", "", True),
        ("linkedin_url", "not a url", False),
        ("linkedin_url", "https://example.com/zoe", False),  # valid, but clean() decides
        ("stage_changed_at", NOW, True),
        ("stage_changed_at", None, False),
        ("stage_changed_at", datetime(2026, 12, 7, 9, 30), False),  # naive: clean() decides
        ("won_at", None, True),
        ("tags", ["vip", "board"], True),
        ("tags", [], True),
        ("tags", [1], False),
        ("tags", "vip", False),
        ("company", None, False),  # a relation: never answered for
        ("expected_value", "12.5", False),  # a decimal: never answered for
    ],
)
def test_a_value_passes_only_when_clean_passes_it_unchanged(name, value, passes):
    assert passes_clean(Lead, name, value) is passes
    if passes:
        assert clean_passes_unchanged(name, value)


@settings(max_examples=300, deadline=None)
@given(
    name=st.sampled_from(
        ["first_name", "title", "email", "linkedin_url", "source", "phone", "won_at", "tags"]
    ),
    value=st.one_of(
        st.text(max_size=40),
        st.emails().map(str.lower),
        st.from_regex(r"https://www\.linkedin\.com/in/[a-z0-9%~._-]{1,30}", fullmatch=True),
        st.sampled_from(["referral", "own_network", "Referral", "+35312345678"]),
        st.none(),
        st.datetimes(timezones=st.sampled_from([None, ZoneInfo("UTC"), ZoneInfo("Asia/Tokyo")])),
        st.lists(st.one_of(st.text(max_size=10), st.integers())),
    ),
)
def test_whatever_passes_clean_passes(name, value):
    if passes_clean(Lead, name, value):
        assert clean_passes_unchanged(name, value)


def test_an_address_is_checked_as_an_email_field_checks_it_and_only_valid_ones_are_remembered(
    monkeypatch,
):
    checked = []

    def validate_email(address):
        checked.append(address)
        validators.EmailValidator()(address)

    monkeypatch.setattr(validators, "validate_email", validate_email)
    monkeypatch.setattr(validation, "_VALID_EMAILS_REMEMBERED", 2)

    check_email("ada@example.com")
    assert passes_clean(Lead, "email", "ada@example.com")  # remembered: a look-up
    for _ in range(2):  # never remembered
        with pytest.raises(ValidationError):
            check_email("ada@example")
    assert not passes_clean(Lead, "email", "ada@example")
    assert checked == ["ada@example.com", "ada@example", "ada@example", "ada@example"]

    check_email("bo@example.com")
    check_email("cy@example.com")  # full: what was remembered is forgotten, then this kept
    check_email("ada@example.com")
    assert checked[-3:] == ["bo@example.com", "cy@example.com", "ada@example.com"]
    assert list(validation._VALID_EMAILS) == ["cy@example.com", "ada@example.com"]
