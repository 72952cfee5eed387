"""Password reset tells nobody who has an account, and cannot be used to flood a mailbox."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import services
from accounts.models import PasswordResetRequest

pytestmark = pytest.mark.django_db


def ask_reset(client: Client, email: str, ip: str = "203.0.113.7"):
    return client.post(reverse("password_reset"), {"email": email}, REMOTE_ADDR=ip)


def test_the_request_sends_nothing_itself_and_answers_alike_for_known_and_unknown(
    client, salesperson, django_capture_on_commit_callbacks
):
    """No email in the request (that was ~300 ms for a known address vs ~8 ms for an unknown
    one): both only note the request and queue the same task, with the same queries."""
    answers, queries, queued = [], [], []
    for email in ("sam@example.com", "nobody@example.com"):
        with (
            CaptureQueriesContext(connection) as captured,
            django_capture_on_commit_callbacks() as callbacks,
        ):
            answers.append(ask_reset(Client(), email))
        queries.append(
            [
                re.sub(r"'[^']*'|\"s\d+_x\d+\"", "?", query["sql"])
                for query in captured.captured_queries
            ]
        )
        queued.append(len(callbacks))

    assert [(a.status_code, a["Location"]) for a in answers] == [
        (302, reverse("password_reset_done"))
    ] * 2
    assert queries[0] == queries[1]
    assert queued == [1, 1]
    assert mail.outbox == []
    assert not any("auth_user" in sql or "accounts_user" in sql for sql in queries[0]), (
        "the request must not look the address up"
    )


def test_the_worker_sends_to_the_account_and_nothing_for_an_unknown_address(salesperson):
    assert services.password_reset_send(email="SAM@example.com") == 1
    assert services.password_reset_send(email="nobody@example.com") == 0

    assert [message.to for message in mail.outbox] == [["sam@example.com"]]
    assert mail.outbox[0].body.count(settings.SITE_URL) == 1


def test_resets_are_limited_per_address(client, salesperson):
    per_address = settings.PASSWORD_RESETS_PER_ADDRESS
    answers = [
        ask_reset(Client(), "sam@example.com", ip=f"198.51.100.{number}").status_code
        for number in range(per_address + 2)
    ]

    assert answers == [302] * per_address + [429, 429]
    assert "Too many reset requests" in ask_reset(Client(), "Sam@Example.com").text
    assert ask_reset(Client(), "other@example.com").status_code == 302


def test_resets_are_limited_per_ip_whatever_the_addresses(client):
    per_ip = settings.PASSWORD_RESETS_PER_IP
    answers = [
        ask_reset(Client(), f"person{number}@example.com").status_code
        for number in range(per_ip + 3)
    ]

    assert answers == [302] * per_ip + [429] * 3
    assert ask_reset(Client(), "person1@example.com", ip="192.0.2.44").status_code == 302


def test_the_limits_are_per_hour(client, time_machine):
    from django.utils import timezone

    time_machine.move_to(timezone.now(), tick=False)
    for number in range(settings.PASSWORD_RESETS_PER_IP):
        ask_reset(Client(), f"person{number}@example.com")
    assert ask_reset(Client(), "late@example.com").status_code == 429

    time_machine.shift(services.PASSWORD_RESET_WINDOW.total_seconds() + 1)

    assert ask_reset(Client(), "late@example.com").status_code == 302


def test_the_requests_keep_no_address_in_the_clear(client):
    ask_reset(client, "secret.person@example.com")

    stored = list(PasswordResetRequest.objects.values_list("email_digest", flat=True))
    assert len(stored) == 1
    assert "secret" not in stored[0]
    assert "@" not in stored[0]


def test_with_the_broker_down_the_answer_is_the_same_page_and_the_request_is_noted(
    transactional_db, salesperson, broker_unreachable, caplog
):
    # transactional_db: the request runs as in production, in autocommit, so the task is sent
    # (and fails) in the request itself, not in a test's capture of on_commit callbacks.
    with broker_unreachable():
        answers = [ask_reset(Client(), email) for email in ("sam@example.com", "x@example.com")]

    assert [(a.status_code, a["Location"]) for a in answers] == [
        (302, reverse("password_reset_done"))
    ] * 2
    assert PasswordResetRequest.objects.count() == 2  # they still count towards the limits
    # The failure goes to the log, not to the person.
    assert caplog.text.count("in on_commit()") == 2
    assert "Connection refused" in caplog.text
    assert mail.outbox == []
