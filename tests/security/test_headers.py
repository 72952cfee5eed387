"""Production settings, cookies and the Content-Security-Policy header.

Production values are read from a `manage.py` subprocess started with a production
environment (DEBUG off, a SECRET_KEY, HTTPS on by default), not from the test settings.
"""

from __future__ import annotations

import json
import secrets

import pytest
from django.urls import reverse

from api.services import api_token_create
from tests.factories import TEST_PASSWORD, LeadFactory
from tests.leadhunter.test_settings import run_manage
from tests.test_access import ROUTES, path_values, records_of

STRICT_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "base-uri": "'self'",
    "object-src": "'none'",
}
PRINT_SETTINGS = """
import json
from django.conf import settings as s
names = [
    "DEBUG", "ALLOWED_HOSTS", "SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE", "CSRF_COOKIE_SECURE", "CSRF_COOKIE_SAMESITE",
    "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_CONTENT_TYPE_NOSNIFF",
    "X_FRAME_OPTIONS", "MIDDLEWARE", "AUTHENTICATION_BACKENDS", "AXES_FAILURE_LIMIT",
    "AXES_LOCKOUT_PARAMETERS", "AXES_RESET_ON_SUCCESS", "AXES_ENABLED",
    "LOGIN_FAILURES_PER_USERNAME", "LOGIN_FAILURES_PER_ADDRESS",
]
print(json.dumps({name: getattr(s, name, None) for name in names}))
"""


def policy_of(response) -> dict[str, str]:
    header = response.headers.get("Content-Security-Policy", "")
    directives = (part.strip().split(" ", 1) for part in header.split(";") if part.strip())
    return dict(directives)


@pytest.fixture(scope="module")
def production(tmp_path_factory) -> dict:
    """The settings a production start-up gets: DEBUG off, a secret key, one host name."""
    result = run_manage(
        "shell",
        "-c",
        PRINT_SETTINGS,
        tmp_path=tmp_path_factory.mktemp("production"),
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(60),
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- Production settings ------------------------------------------------------------------------


def test_production_cookies_are_secure_httponly_and_samesite(production):
    assert production["DEBUG"] is False
    assert production["SESSION_COOKIE_SECURE"] is True
    assert production["SESSION_COOKIE_HTTPONLY"] is True
    assert production["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert production["CSRF_COOKIE_SECURE"] is True
    assert production["CSRF_COOKIE_SAMESITE"] == "Lax"


def test_production_forces_https_and_forbids_framing(production):
    assert production["SECURE_SSL_REDIRECT"] is True
    assert production["SECURE_HSTS_SECONDS"] >= 31_536_000
    assert production["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    assert production["X_FRAME_OPTIONS"] == "DENY"


def test_production_allowed_hosts_default_to_none_not_everyone(production):
    """Without ALLOWED_HOSTS set, no host is served (Django answers 400), never '*'."""
    assert production["ALLOWED_HOSTS"] == []


def test_production_has_the_csp_and_the_login_lockout(production):
    assert "csp.middleware.CSPMiddleware" in production["MIDDLEWARE"]
    assert production["MIDDLEWARE"][-1] == "axes.middleware.AxesMiddleware"
    assert production["AUTHENTICATION_BACKENDS"][0] == "axes.backends.AxesStandaloneBackend"
    assert production["AXES_ENABLED"] is not False
    assert production["AXES_FAILURE_LIMIT"] == "accounts.lockout.failure_limit"
    assert production["LOGIN_FAILURES_PER_USERNAME"] == 5
    assert production["LOGIN_FAILURES_PER_ADDRESS"] == 30
    assert production["AXES_LOCKOUT_PARAMETERS"] == [["username", "ip_address"]]
    assert production["AXES_RESET_ON_SUCCESS"] is True


def test_the_deploy_check_warns_about_a_weak_setup(tmp_path):
    """The control for tests/leadhunter/test_settings.py's deploy check: the same command fails
    when HTTPS is off, so its pass means something."""
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        tmp_path=tmp_path,
        DEBUG="false",
        HTTPS="false",
        SECRET_KEY=secrets.token_urlsafe(60),
        ALLOWED_HOSTS="crm.example.com",
    )

    assert result.returncode != 0
    assert "SECURE_SSL_REDIRECT" in result.stderr or "security.W008" in result.stderr


@pytest.mark.django_db
def test_the_session_cookie_a_login_sets_carries_the_production_flags(
    client, settings, production, salesperson
):
    settings.SESSION_COOKIE_SECURE = production["SESSION_COOKIE_SECURE"]
    settings.SESSION_COOKIE_HTTPONLY = production["SESSION_COOKIE_HTTPONLY"]
    settings.SESSION_COOKIE_SAMESITE = production["SESSION_COOKIE_SAMESITE"]

    response = client.post(
        reverse("login"), {"username": "sam", "password": TEST_PASSWORD}, secure=True
    )

    assert response.status_code == 302
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["secure"] is True
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"


# --- Content-Security-Policy on every page ------------------------------------------------------

PAGES = [route for route in ROUTES if route.name != "api-docs"]


@pytest.mark.django_db
def test_every_page_carries_the_strict_policy(client, salesperson):
    """Walked over every URL (one set of records for all: reads change nothing)."""
    records = records_of(salesperson)
    client.force_login(salesperson)
    wrong = {}

    for route in PAGES:
        url = route.url({"uidb64": "MQ", **path_values(route, records, {})})
        response = client.get(url)
        # Every response carries it (JSON and files too); what matters is that pages do.
        if policy_of(response) != STRICT_POLICY:
            wrong[url] = (response.status_code, response.headers.get("Content-Security-Policy"))

    assert not wrong, wrong
    assert len(PAGES) > 50


@pytest.mark.django_db
def test_no_page_api_answer_or_export_may_be_stored_by_a_browser_or_proxy(client, salesperson):
    """A shared computer's back button or disk cache must not show the next person someone's
    leads: every URL answers `private, no-store` (one set of records for all, as above)."""
    records = records_of(salesperson)
    client.force_login(salesperson)
    stored = {}

    for route in ROUTES:
        url = route.url({"uidb64": "MQ", **path_values(route, records, {})})
        response = client.get(url)
        directives = {part.strip() for part in response.headers.get("Cache-Control", "").split(",")}
        if not {"private", "no-store"} <= directives:
            stored[url] = (response.status_code, response.headers.get("Cache-Control"))

    assert not stored, stored
    assert len(ROUTES) > 50


@pytest.mark.django_db
def test_api_answers_to_a_token_and_the_login_page_are_not_stored_either(client, salesperson):
    _, secret = api_token_create(user=salesperson, name="script")

    api = client.get("/api/v1/leads/", headers={"Authorization": f"Bearer {secret}"})
    login = client.get(reverse("login"))

    assert api.status_code == 200
    assert "no-store" in api.headers["Cache-Control"]
    assert "no-store" in login.headers["Cache-Control"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url_name", ["login", "password_reset", "admin:index", "admin:leads_lead_changelist"]
)
def test_public_and_admin_pages_carry_the_strict_policy(client, manager, url_name):
    if url_name.startswith("admin:"):
        client.force_login(manager)
        LeadFactory(owner=manager)

    response = client.get(reverse(url_name))

    assert response.status_code == 200
    assert policy_of(response) == STRICT_POLICY


@pytest.mark.django_db
def test_not_found_and_htmx_partials_carry_it_too(client, salesperson):
    client.force_login(salesperson)

    missing = client.get("/no-such-page/")
    partial = client.get(reverse("lead-list"), headers={"HX-Request": "true"})

    assert missing.status_code == 404
    assert policy_of(missing) == STRICT_POLICY
    assert partial.status_code == 200
    assert policy_of(partial) == STRICT_POLICY


@pytest.mark.django_db
def test_only_the_api_docs_allow_inline_styles_and_still_no_inline_script(client, salesperson):
    client.force_login(salesperson)

    docs = policy_of(client.get(reverse("api-docs")))

    assert docs["style-src"] == "'self' 'unsafe-inline'"
    assert docs["script-src"] == "'self'"
    assert {name: value for name, value in docs.items() if name != "style-src"} == {
        name: value for name, value in STRICT_POLICY.items() if name != "style-src"
    }
