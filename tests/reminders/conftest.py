from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from django.core.mail.backends import locmem

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


@pytest.fixture
def clock(time_machine):
    """Stop the clock at a given moment; call again to move it."""

    def move_to(moment: datetime) -> datetime:
        time_machine.move_to(moment, tick=False)
        return moment

    return move_to


@pytest.fixture
def smtp_failures(monkeypatch) -> list[Exception]:
    """Errors the email backend raises, one per send, before it delivers again."""
    failures: list[Exception] = []
    deliver = locmem.EmailBackend.send_messages

    def send_messages(self, messages):
        if failures:
            raise failures.pop(0)
        return deliver(self, messages)

    monkeypatch.setattr(locmem.EmailBackend, "send_messages", send_messages)
    return failures


def link_path(url: str) -> str:
    """The path of an absolute email link, for the test client."""
    assert url.startswith(SITE_URL + "/e/")
    return urlsplit(url).path
