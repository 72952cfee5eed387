from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from leads import normalize
from leads.normalize import (
    normalize_domain,
    normalize_email,
    normalize_linkedin_url,
    normalize_phone,
)


def test_email_is_trimmed_and_lower_cased():
    assert normalize_email("  Dana.Smith@Example.COM ") == "dana.smith@example.com"


@pytest.mark.parametrize(
    "value",
    ["example.com", "https://www.Example.com/about", "http://example.com", "WWW.EXAMPLE.COM."],
)
def test_domain_forms_become_the_bare_host(value):
    assert normalize_domain(value) == "example.com"


@pytest.mark.parametrize(
    "value",
    [
        "https://www.linkedin.com/in/dana-smith/",
        "linkedin.com/in/Dana-Smith",
        "http://uk.linkedin.com/in/dana-smith?trk=abc",
        "https://www.linkedin.com/in/dana-smith/details/experience/",
    ],
)
def test_linkedin_profile_forms_become_one_url(value):
    assert normalize_linkedin_url(value) == "https://www.linkedin.com/in/dana-smith"


def test_phone_is_e164_when_parseable_and_kept_otherwise():
    assert normalize_phone("020 7946 0958", region="GB") == "+442079460958"
    assert normalize_phone("+1 (415) 555-0132") == "+14155550132"
    assert normalize_phone("ext. 12") == "ext. 12"


REGIONS = ["", "GB", "US", "IT", "DE", "FR", "AU", "BR", "IN", "JP"]


@given(
    digits=st.text("0123456789", min_size=5, max_size=16),
    international=st.booleans(),
    region=st.sampled_from(REGIONS),
    region_again=st.sampled_from(REGIONS),
)
def test_a_number_normalised_to_e164_normalises_to_itself_in_any_region(
    digits, international, region, region_again
):
    """What lets normalize_phone return a number it produced without parsing it again."""
    normalize._E164_PRODUCED.clear()
    first = normalize_phone(("+" if international else "") + digits, region=region)
    assume(first in normalize._E164_PRODUCED)
    normalize._E164_PRODUCED.clear()  # parsed for real this time
    assert normalize_phone(first, region=region_again) == first
