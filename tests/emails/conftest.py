"""Fixtures of the emails tests: a real IMAP server (Dovecot) with a capture mailbox user and
a salesperson's own mailbox user."""

from __future__ import annotations

import pytest

from tests.imap_server import ImapServer, dovecot

IMAP_USERS = {"capture": "capture-pass", "sam": "sam-mail-pass"}


@pytest.fixture
def imap_server() -> ImapServer:
    with dovecot(IMAP_USERS) as server:
        yield server


@pytest.fixture
def capture_mailbox_settings(settings, imap_server, fresh_cache):
    """The install's capture mailbox is the Dovecot user `capture`, address crm@example.com."""
    settings.CAPTURE_IMAP_URL = imap_server.url("capture")
    settings.CAPTURE_ADDRESS = "crm@example.com"
    return imap_server
