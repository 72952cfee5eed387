from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest

from tests.factories import UserFactory

SITE_URL = "https://crm.example.com"
# Monday 30 November 2026 (ISO week 49), 09:00 in London.
MONDAY_9_LONDON = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture
def salesperson(db):
    """Sam, with the weekly email only: the digest (on by default for new accounts) is turned
    on by the tests about it, so each test plans just the email it is about."""
    return UserFactory(username="sam", daily_digest_email=False)


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = SITE_URL
    return SITE_URL


def link_path(url: str) -> str:
    """The path of an absolute email link, for the test client."""
    assert url.startswith(SITE_URL + "/e/")
    return urlsplit(url).path
