"""`passes_clean` answers for a field's clean() without running it: whenever it says a value
passes, clean() passes that value unchanged."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from leads.models import Lead
from leads.services import check_email
from leads.services.validation import passes_clean

NOW = datetime(2026, 12, 7, 9, 30, tzinfo=ZoneInfo("Europe/Dublin"))


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
    name=st.sampled_from(["first_name", "title", "email", "linkedin_url", "source", "phone"]),
    value=st.one_of(
        st.text(max_size=40),
        st.emails().map(str.lower),
        st.from_regex(r"https://www\.linkedin\.com/in/[a-z0-9%~._-]{1,30}", fullmatch=True),
        st.sampled_from(["referral", "own_network", "Referral", "+35312345678"]),
    ),
)
def test_whatever_passes_clean_passes(name, value):
    if passes_clean(Lead, name, value):
        assert clean_passes_unchanged(name, value)


def test_an_address_is_checked_as_an_email_field_checks_it_and_only_valid_ones_are_remembered():
    check_email("ada@example.com")
    check_email("ada@example.com")  # remembered: a look-up

    for _ in range(2):  # never remembered
        with pytest.raises(ValidationError):
            check_email("ada@example")
    assert passes_clean(Lead, "email", "ada@example.com")
    assert not passes_clean(Lead, "email", "ada@example")
