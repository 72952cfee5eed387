"""Logging in: lockout after repeated failures, passwords, sessions and where `next` may lead.

The lockout is django-axes (settings: 5 failures per username + IP, 30 per IP whatever
the usernames, 15 minutes, reset by a successful login). The REST API authenticates with
bearer tokens, never with a password, so there is nothing to guess there and no lockout
applies (api/authentication.py).
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.lockout import client_ip
from leads.models import Lead
from tests.factories import TEST_PASSWORD, FollowUpFactory, LeadFactory

pytestmark = pytest.mark.django_db

WRONG = "not-the-password-at-all"
CSRF_TOKEN = re.compile(r"\b[A-Za-z0-9]{64}\b")  # a page's masked CSRF token, new each time
LIMIT = settings.LOGIN_FAILURES_PER_USERNAME
EVIL_TARGETS = [
    "//evil.example",
    "https://evil.example",
    "http://evil.example/path",
    "/\\evil.example",
    "\\\\evil.example",
    "javascript:alert(1)",
    " //evil.example",
]


def log_in(client: Client, username: str, password: str, ip: str = "203.0.113.7", **extra):
    return client.post(
        reverse("login"), {"username": username, "password": password, **extra}, REMOTE_ADDR=ip
    )


def fail(client: Client, username: str, times: int, ip: str = "203.0.113.7"):
    return [log_in(client, username, WRONG, ip) for _ in range(times)]


def comparable(response) -> str:
    return CSRF_TOKEN.sub("<csrf token>", response.content.decode())


def is_logged_in(client: Client) -> bool:
    return SESSION_KEY in client.session


# --- Lockout ------------------------------------------------------------------------------------


def test_failures_below_the_limit_only_say_the_password_is_wrong(client, salesperson):
    answers = fail(client, "sam", LIMIT - 1)

    assert [answer.status_code for answer in answers] == [200] * (LIMIT - 1)
    assert "That username and password don" in answers[-1].content.decode()
    assert log_in(client, "sam", TEST_PASSWORD).status_code == 302
    assert is_logged_in(client)


def test_the_limit_locks_that_username_from_that_address_even_with_the_right_password(
    client, salesperson
):
    answers = fail(client, "sam", LIMIT)
    locked = log_in(client, "sam", TEST_PASSWORD)

    assert answers[-1].status_code == 429
    assert locked.status_code == 429
    page = locked.content.decode()
    assert "Too many failed logins" in page
    assert f"paused for {settings.AXES_COOLOFF_TIME.seconds // 60} minutes" in page
    assert reverse("password_reset") in page
    assert not is_logged_in(client)


def test_the_lockout_page_is_the_same_for_an_unknown_username(salesperson):
    known, unknown = Client(), Client()

    fail(known, "sam", LIMIT)
    fail(unknown, "nobody-has-this-name", LIMIT)
    known_page = log_in(known, "sam", TEST_PASSWORD)
    unknown_page = log_in(unknown, "nobody-has-this-name", TEST_PASSWORD)

    assert known_page.status_code == unknown_page.status_code == 429
    assert comparable(known_page) == comparable(unknown_page)
    assert "nobody-has-this-name" not in comparable(unknown_page)
    # And below the limit, too: a wrong password reads the same for both (but for the form's
    # own CSRF token and the username typed in again).
    assert comparable(log_in(Client(), "sam", WRONG, ip="198.51.100.1")) == comparable(
        log_in(Client(), "nobody-has-this-name", WRONG, ip="198.51.100.1")
    ).replace("nobody-has-this-name", "sam")


def test_a_successful_login_resets_the_count(client, salesperson):
    fail(client, "sam", LIMIT - 1)
    assert log_in(client, "sam", TEST_PASSWORD).status_code == 302
    client.post(reverse("logout"))

    again = fail(client, "sam", LIMIT - 1)

    assert [answer.status_code for answer in again] == [200] * (LIMIT - 1)
    assert log_in(client, "sam", TEST_PASSWORD).status_code == 302


def test_the_lockout_is_per_username_and_address(client, salesperson, other_salesperson):
    fail(client, "sam", LIMIT)

    from_elsewhere = log_in(Client(), "sam", TEST_PASSWORD, ip="198.51.100.9")
    someone_else_here = log_in(Client(), "alex", TEST_PASSWORD)

    assert from_elsewhere.status_code == 302
    assert someone_else_here.status_code == 302


def test_guessing_many_usernames_from_one_address_is_locked_out_too(
    client, salesperson, other_salesperson
):
    """40 usernames, one wrong password each, from one address: after the address limit every
    login from it is refused, even a right password for a username it never tried; another
    address is not affected."""
    per_address = settings.LOGIN_FAILURES_PER_ADDRESS
    answers = [log_in(client, f"user{number}", WRONG).status_code for number in range(40)]

    # As for one username, the failure that reaches the limit already answers the lockout page.
    assert answers == [200] * (per_address - 1) + [429] * (40 - per_address + 1)
    assert log_in(Client(), "alex", TEST_PASSWORD).status_code == 429
    assert log_in(Client(), "alex", TEST_PASSWORD, ip="198.51.100.9").status_code == 302


def test_a_few_typos_from_an_office_address_lock_nobody_else_out(
    client, salesperson, other_salesperson
):
    for number in range(settings.LOGIN_FAILURES_PER_ADDRESS - 1):
        log_in(Client(), f"colleague{number}", WRONG)

    assert log_in(client, "sam", TEST_PASSWORD).status_code == 302


def test_the_address_limit_ends_after_the_cool_off(client, salesperson, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    for number in range(settings.LOGIN_FAILURES_PER_ADDRESS):
        log_in(client, f"user{number}", WRONG)
    assert log_in(client, "sam", TEST_PASSWORD).status_code == 429

    time_machine.move_to(timezone.now() + settings.AXES_COOLOFF_TIME + timedelta(seconds=1))

    assert log_in(client, "sam", TEST_PASSWORD).status_code == 302


def test_the_lockout_ends_after_the_cool_off(client, salesperson, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    fail(client, "sam", LIMIT)
    assert log_in(client, "sam", TEST_PASSWORD).status_code == 429

    time_machine.move_to(timezone.now() + settings.AXES_COOLOFF_TIME + timedelta(seconds=1))

    assert log_in(client, "sam", TEST_PASSWORD).status_code == 302


def test_the_admin_login_is_locked_out_too(client, manager):
    for _ in range(LIMIT):
        client.post(
            reverse("admin:login"), {"username": "morgan", "password": WRONG}, REMOTE_ADDR="1.2.3.4"
        )

    response = client.post(
        reverse("admin:login"),
        {"username": "morgan", "password": TEST_PASSWORD},
        REMOTE_ADDR="1.2.3.4",
    )

    assert response.status_code == 429
    assert not is_logged_in(client)


def test_behind_the_proxy_the_address_is_the_one_the_proxy_saw(rf, settings):
    request = rf.post(
        "/accounts/login/",
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.7",  # the client forged the first entry
    )

    settings.BEHIND_PROXY = False
    assert client_ip(request) == "10.0.0.2"  # no proxy: the header is anyone's to forge
    settings.BEHIND_PROXY = True
    assert client_ip(request) == "203.0.113.7"


# --- Passwords ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("new_password", "message"),
    [
        ("kx7-vq2-mnb", "at least 12 characters"),  # 11 characters
        ("password1234", "too common"),
    ],
)
def test_a_weak_new_password_is_refused(client_of, salesperson, new_password, message):
    client = client_of(salesperson)

    response = client.post(
        reverse("password_change"),
        {
            "old_password": TEST_PASSWORD,
            "new_password1": new_password,
            "new_password2": new_password,
        },
    )

    assert response.status_code == 200
    assert message in response.content.decode()
    salesperson.refresh_from_db()
    assert salesperson.check_password(TEST_PASSWORD)


def test_a_strong_new_password_is_accepted(client_of, salesperson):
    """The control for the test above: 12 uncommon characters pass."""
    client = client_of(salesperson)

    response = client.post(
        reverse("password_change"),
        {
            "old_password": TEST_PASSWORD,
            "new_password1": "kx7-vq2-mnb4",
            "new_password2": "kx7-vq2-mnb4",
        },
    )

    assert response.status_code == 302
    salesperson.refresh_from_db()
    assert salesperson.check_password("kx7-vq2-mnb4")


# --- Sessions -----------------------------------------------------------------------------------


def test_logging_in_gives_a_new_session_key(client, salesperson):
    """Session fixation: a key planted before login is not the one that is logged in."""
    session = client.session
    session["planted"] = "by an attacker"
    session.save()
    planted = session.session_key
    assert client.cookies[settings.SESSION_COOKIE_NAME].value == planted

    assert log_in(client, "sam", TEST_PASSWORD).status_code == 302

    assert client.cookies[settings.SESSION_COOKIE_NAME].value != planted
    assert is_logged_in(client)


def test_changing_the_password_ends_the_other_sessions_but_not_this_one(salesperson):
    here, elsewhere = Client(), Client()
    log_in(here, "sam", TEST_PASSWORD)
    log_in(elsewhere, "sam", TEST_PASSWORD, ip="198.51.100.20")
    assert elsewhere.get(reverse("today")).status_code == 200

    changed = here.post(
        reverse("password_change"),
        {
            "old_password": TEST_PASSWORD,
            "new_password1": "a-much-longer-new-passphrase",
            "new_password2": "a-much-longer-new-passphrase",
        },
    )

    assert changed.status_code == 302
    assert here.get(reverse("today")).status_code == 200
    logged_out = elsewhere.get(reverse("today"))
    assert logged_out.status_code == 302
    assert logged_out["Location"].startswith(reverse("login"))


# --- Where `next` may send the browser -------------------------------------------------------


@pytest.mark.parametrize("target", EVIL_TARGETS)
def test_login_never_redirects_off_the_site(client, salesperson, target):
    response = log_in(client, "sam", TEST_PASSWORD, next=target)

    assert response.status_code == 302
    assert response["Location"] == reverse(settings.LOGIN_REDIRECT_URL)


def test_login_follows_a_next_on_this_site(client, salesperson):
    response = log_in(client, "sam", TEST_PASSWORD, next="/pipeline/?owner=1")

    assert response["Location"] == "/pipeline/?owner=1"


@pytest.mark.parametrize("target", EVIL_TARGETS)
def test_logout_never_redirects_off_the_site(client_of, salesperson, target):
    response = client_of(salesperson).post(reverse("logout"), {"next": target})

    assert response.status_code == 302
    assert response["Location"] == reverse(settings.LOGOUT_REDIRECT_URL)


@pytest.mark.parametrize("target", EVIL_TARGETS)
def test_the_lead_actions_never_redirect_off_the_site(client_of, salesperson, target):
    client = client_of(salesperson)
    lead = LeadFactory(owner=salesperson)
    follow_up = FollowUpFactory(lead=lead)

    stage = client.post(
        reverse("lead-stage", args=[lead.pk]), {"to_stage": "qualified", "next": target}
    )
    done = client.post(reverse("follow-up-complete", args=[follow_up.pk]), {"next": target})
    bulk = client.post(
        reverse("lead-bulk"),
        {"lead_ids": [lead.pk], "action": "stage", "to_stage": "contacted", "next": target},
    )
    bulk_htmx = client.post(
        reverse("lead-bulk"),
        {"lead_ids": [lead.pk], "action": "stage", "to_stage": "contacted", "next": target},
        headers={"HX-Request": "true"},
    )

    assert stage["Location"] == reverse("lead-detail", args=[lead.pk])
    assert done["Location"] == reverse("today")
    assert bulk["Location"] == reverse("lead-list")
    assert bulk_htmx["HX-Redirect"] == reverse("lead-list")
    assert Lead.objects.get(pk=lead.pk).stage != "new"  # the actions themselves did happen


@pytest.mark.parametrize(
    "target", ["/leads/\r\nSet-Cookie: x=1", "/leads/\n", "/leads/\x00", "/leads/\x7f", "\t/leads/"]
)
def test_a_next_with_control_characters_falls_back_instead_of_a_server_error(
    client_of, salesperson, target
):
    """A header cannot carry CR/LF/NUL: such a `next` must not turn a saved change into a 500."""
    client = client_of(salesperson)
    lead = LeadFactory(owner=salesperson)

    bulk = client.post(
        reverse("lead-bulk"),
        {"lead_ids": [lead.pk], "action": "stage", "to_stage": "contacted", "next": target},
    )
    bulk_htmx = client.post(
        reverse("lead-bulk"),
        {"lead_ids": [lead.pk], "action": "stage", "to_stage": "qualified", "next": target},
        headers={"HX-Request": "true"},
    )
    stage = client.post(
        reverse("lead-stage", args=[lead.pk]), {"to_stage": "proposal", "next": target}
    )

    assert bulk["Location"] == reverse("lead-list")
    assert bulk_htmx["HX-Redirect"] == reverse("lead-list")
    assert stage["Location"] == reverse("lead-detail", args=[lead.pk])
    assert Lead.objects.get(pk=lead.pk).stage == "proposal"


def test_the_lead_actions_follow_a_next_on_this_site(client_of, salesperson):
    client = client_of(salesperson)
    lead = LeadFactory(owner=salesperson)

    response = client.post(
        reverse("lead-stage", args=[lead.pk]), {"to_stage": "qualified", "next": "/pipeline/"}
    )

    assert response["Location"] == "/pipeline/"
