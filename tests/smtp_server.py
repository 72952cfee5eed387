"""A real SMTP server for tests: aiosmtpd on a loopback port, in this process (its own thread).

`smtp_server` starts one and points Django's email settings at it (plain SMTP, no login), so
what LeadHunter sends crosses a real socket and a real SMTP dialogue. The test reads what
arrived (`received`), makes the server refuse the next messages (`refuse_with("550 …")`) or
takes it down (`stop()`: nothing listens on the port any more). Shared by the email tests and
the browser journeys (import the fixture into the test module or a conftest).
"""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class ReceivedMessage:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class SmtpServer:
    host: str
    port: int
    received: list[ReceivedMessage] = field(default_factory=list)
    refusal: str = ""
    recipient_refusal: str = ""
    controller: Controller | None = None

    def refuse_with(self, reply: str) -> None:
        """Answer every message's DATA with `reply` (e.g. "550 5.7.1 Relaying denied")."""
        self.refusal = reply

    def refuse_recipients_with(self, reply: str) -> None:
        """Answer every RCPT TO with `reply` (e.g. "550 5.1.1 Mailbox unavailable")."""
        self.recipient_refusal = reply

    def stop(self) -> None:
        """Take the server down: connecting to its port is refused from now on."""
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if self.server.recipient_refusal:
            return self.server.recipient_refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.server.refusal:
            return self.server.refusal
        content = envelope.original_content or envelope.content
        message = message_from_bytes(content, policy=policy.default)
        self.server.received.append(
            ReceivedMessage(
                mail_from=envelope.mail_from,
                rcpt_tos=list(envelope.rcpt_tos),
                message=message,  # type: ignore[arg-type]
            )
        )
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    """A running SMTP server that Django's email settings point at."""
    # aiosmtpd logs every command at INFO: the dialogue of a failing test drowns its assertion.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    server = SmtpServer(host="127.0.0.1", port=_free_port())
    controller = Controller(_Handler(server), hostname=server.host, port=server.port)
    controller.start()
    server.controller = controller
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = server.host
    settings.EMAIL_PORT = server.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    yield server
    server.stop()
