from __future__ import annotations

from tests.smtp_server import smtp_server  # noqa: F401 -- the real SMTP server fixture
