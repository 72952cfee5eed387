"""Fixtures of the emails tests: a real IMAP server (Dovecot) with a capture mailbox user and
a salesperson's own mailbox user, fresh (empty) for each test."""

from __future__ import annotations

import itertools

import pytest

from tests.imap_server import ImapServer, dovecot

IMAP_USERS = {"capture": "capture-pass", "sam": "sam-mail-pass"}
# Logins for this many tests per run (each test takes a fresh pair).
LOGINS = 1000
_numbers = itertools.count()


@pytest.fixture(scope="session")
def dovecot_server() -> ImapServer:
    """One Dovecot for the whole run (starting one takes seconds), with a pool of logins."""
    logins = {f"{user}-{n}": pw for n in range(LOGINS) for user, pw in IMAP_USERS.items()}
    with dovecot(logins) as server:
        yield server


@pytest.fixture
def imap_server(dovecot_server) -> ImapServer:
    """The server with empty mailboxes of this test's own for `capture` and `sam`."""
    return dovecot_server.with_fresh_users(IMAP_USERS, str(next(_numbers)))


@pytest.fixture
def capture_mailbox_settings(settings, imap_server, fresh_cache):
    """The install's capture mailbox is the Dovecot user `capture`, address crm@example.com."""
    settings.CAPTURE_IMAP_URL = imap_server.url("capture")
    settings.CAPTURE_ADDRESS = "crm@example.com"
    return imap_server
