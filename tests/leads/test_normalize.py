from __future__ import annotations

import pytest

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
