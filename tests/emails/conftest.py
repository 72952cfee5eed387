"""Fixtures of the emails tests: a real SMTP server (aiosmtpd, tests/smtp_server.py) and a real
IMAP server (Dovecot, tests/imap_server.py) with a capture mailbox user and a salesperson's own
mailbox user, fresh (empty) for each test."""

from __future__ import annotations

from tests.imap_server import (  # noqa: F401 - fixtures
    capture_mailbox_settings,
    dovecot_server,
    imap_server,
)
from tests.smtp_server import smtp_server  # noqa: F401 -- the real SMTP server fixture
