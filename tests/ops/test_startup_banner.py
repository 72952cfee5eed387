"""`manage.py startup_banner`, the one banner `make run` ends with (bin/serve): the address,
the demo logins while they work, where emails go. The real start-up that prints it is walked
in tests/test_readme.py."""

from __future__ import annotations

import socket
from io import StringIO

import pytest
from django.core.management import call_command

from team.demo import DEMO_PASSWORD
from tests.factories import ManagerFactory, UserFactory

pytestmark = pytest.mark.django_db


def banner(*args: str) -> str:
    output = StringIO()
    call_command("startup_banner", *args, stdout=output)
    return output.getvalue()


@pytest.fixture
def demo_team(db):
    return [
        UserFactory(username="sam", is_demo=True, password=DEMO_PASSWORD),
        UserFactory(username="jordan", is_demo=True, password=DEMO_PASSWORD),
        ManagerFactory(username="morgan", is_demo=True, password=DEMO_PASSWORD),
    ]


def test_the_banner_gives_the_address_and_the_demo_logins(demo_team):
    UserFactory(username="riley")  # a real account is never listed

    text = banner("--port", "8123")

    assert "LeadHunter is running: open http://127.0.0.1:8123" in text
    assert "Log in with a demo account, password leadhunter-demo:" in text
    assert "    sam        salesperson\n" in text
    assert "    jordan     salesperson\n" in text
    assert "    morgan     sales manager\n" in text
    assert "riley" not in text
    assert text.count("─" * 72) == 2


def test_a_demo_login_that_no_longer_works_is_not_shown(demo_team):
    sam, jordan, _ = demo_team
    sam.set_password("a-password-of-her-own-2026")
    sam.save()
    jordan.is_active = False
    jordan.save()

    text = banner()

    assert "sam " not in text
    assert "jordan" not in text
    assert "morgan     sales manager" in text


def test_without_demo_accounts_it_says_how_to_log_in(db):
    assert "No account yet: open http://127.0.0.1:" in banner()
    assert "to create the first one." in banner()
    UserFactory(username="riley")
    text = banner()
    assert "Log in with your account." in text
    assert "demo" not in text


def test_it_says_where_emails_go(db, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    printed = "Emails (to leads, reminders, digests, password resets) are printed here, not sent"
    assert printed in banner()

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "mail.example.com", 587
    settings.DEFAULT_FROM_EMAIL = "LeadHunter <crm@example.com>"
    assert (
        "Emails are sent through mail.example.com:587 from LeadHunter <crm@example.com>."
        in banner()
    )

    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = "/tmp/leadhunter-mail"  # noqa: S108 - only printed
    assert "Emails are written as files to /tmp/leadhunter-mail, not sent." in banner()


def test_links_in_emails_are_named_when_they_point_elsewhere(db, settings):
    settings.SITE_URL = "https://crm.example.com"
    assert "Links in emails point to https://crm.example.com." in banner("--port", "8000")
    settings.SITE_URL = "http://127.0.0.1:8000"
    assert "Links in emails" not in banner("--port", "8000")


def test_when_the_server_never_comes_up_the_banner_says_so(db):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens there

    text = banner("--port", str(port), "--wait", "1")

    assert "Not everything is up yet: the web server does not answer (see /healthz)" in text
