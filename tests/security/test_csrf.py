"""CSRF on every mutation, and mutations that refuse GET.

Walked from the URL resolver like tests/test_access.py, so a new URL is covered without being
listed: a logged-in browser session that sends a write without the CSRF token is refused (403),
for every URL and every unsafe method. The API answers the same for a session, while a bearer
token (which a malicious page cannot send for the user) needs no CSRF token.
"""

from __future__ import annotations

import json
from string import ascii_letters, digits
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils.crypto import get_random_string

from api import services as api_services
from handraise.models import PublicPage
from handraise.services import public_page_for
from leads.models import Lead
from reminders import links
from reminders.links import make_link
from tests.factories import LeadFactory, ReferralSourceFactory

# walk_*: the fixtures that make Sam's and Alex's records once for this module (and hand the
# test `salesperson` and `mine`), as for tests/test_access.py.
from tests.test_access import (  # noqa: F401
    MANAGER_ONLY,
    POST_DATA,
    ROUTES,
    Route,
    path_values,
    walk_mine,
    walk_people,
    walk_salesperson,
    with_upload,
)

UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# URLs where GET shows a form (or the page that carries it) and POST submits it: GET is right.
FORM_PAGES = {
    "login",
    "password_reset",
    "password_reset_confirm",
    "password_change",
    "settings",
    "lead-edit",  # GET: the section's edit form, as a partial
    "lead-company-edit",  # GET: the Company card's form
    "lead-follow-up",  # GET: "Plan a different follow-up", loaded when its panel opens
    "company-edit",  # GET: the company page's facts form
    "import-start",
    "import-mapping",
    "lead-erase",  # GET: what erasing deletes, and the box to confirm it
    "reminders:email-link",  # GET: what the one-click link will do, and its one button
    "referral-ask-add-leads",  # GET: "Add them now", a short row per person the source named
    "first-account",  # GET: the first-run form (404 once anyone exists)
    "team-member-deactivate",  # GET: what moves, and who gets it
    "team-demo-remove",  # GET: what removing the demo deletes, and the button to confirm
    "public-page-settings",  # GET: Settings → Public page, its form
    "public-page",  # GET: a salesperson's public page with its form (anonymous)
    "public-page-embed",  # GET: the same form, for a frame on another site
    "booking-new",  # GET: the form for the slot picked on a public page (anonymous)
    "lead-email-compose",  # GET: the email to write, its template picker and preview
    "email-template-create",  # GET: Settings → Email templates, a new one's form
    "email-template-update",  # GET: a template's form
    "email-template-delete",  # GET: the button to confirm deleting a template
}
# Anonymous forms posted from other sites (a frame, where the browser sends no cookie): no
# CSRF token to check. A signed form stamp, a honeypot and rate limits guard them instead
# (handraise/views.py); they act for no logged-in user.
CSRF_EXEMPT = {"public-page", "public-page-embed", "booking-new"}
# An API route answers GET (read) and POST (create) on the same URL, by design of REST.
API_PREFIX = "api/v1/"


def url_of(route: Route, records: dict) -> str:
    # The password-reset link's user id; the views answer a bad one themselves.
    return route.url({"uidb64": "MQ", **path_values(route, records, {})})


def is_api(route: Route) -> bool:
    return str(route).startswith(API_PREFIX) or route.name.startswith("api-")


def send(client: Client, route: Route, method: str, url: str, **headers: str):
    data = POST_DATA.get(route.name, {})
    if method == "POST" and not route.speaks_json_only:
        return client.post(url, data, headers=headers)
    return client.generic(
        method, url, json.dumps(data), content_type="application/json", headers=headers
    )


def csrf_client(user) -> tuple[Client, str]:
    """A browser that enforces CSRF like a real one, logged in, and its CSRF token (the
    secret in its csrftoken cookie, as a page's form would send it)."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    token = get_random_string(32, allowed_chars=ascii_letters + digits)
    browser.cookies[settings.CSRF_COOKIE_NAME] = token
    return browser, token


# One walk per test, over one set of records: a test per URL would build them ~90 times.
@pytest.mark.django_db
def test_every_write_without_the_csrf_token_is_refused(salesperson, mine):
    browser, _token = csrf_client(salesperson)
    before = Lead.objects.count()
    answered = {}

    for route in ROUTES:
        if route.name in CSRF_EXEMPT:
            continue
        url = url_of(route, mine)
        answered[str(route)] = {
            method: send(browser, route, method, url).status_code for method in UNSAFE_METHODS
        }

    not_refused = {
        route: codes for route, codes in answered.items() if set(codes.values()) != {403}
    }
    assert not not_refused, f"Writes without a CSRF token were not refused: {not_refused}"
    assert len(answered) == len(ROUTES) - len(CSRF_EXEMPT) > 50
    assert Lead.objects.count() == before


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(CSRF_EXEMPT))
def test_the_public_forms_take_a_post_without_a_csrf_token(salesperson, fresh_cache, name):
    """The control for CSRF_EXEMPT: each really is an anonymous public form (a bad submission
    comes back with its errors, 422, rather than a CSRF 403)."""
    page = public_page_for(owner=salesperson)
    PublicPage.objects.filter(pk=page.pk).update(booking_enabled=True)  # booking-new needs it
    browser = Client(enforce_csrf_checks=True)

    response = browser.post(reverse(name, args=[page.token]), {"name": "Dana"})

    assert response.status_code == 422


@pytest.mark.django_db
def test_the_same_writes_with_the_token_get_past_the_csrf_check(salesperson, manager, mine):
    """The control for the test above: its 403s come from the CSRF check, not the views
    (the team pages' from their manager check, so a manager sends those)."""
    refused = {}

    for route in ROUTES:
        url = url_of(route, with_upload(mine))
        # Each URL finds the records as they were made: what the one before wrote (a deleted
        # lead, a deactivated salesperson) is rolled back with its savepoint. Cheaper than a
        # new set of records per URL, which took most of this walk's time.
        with transaction.atomic():
            browser, token = csrf_client(manager if route.name in MANAGER_ONLY else salesperson)
            for method in UNSAFE_METHODS:
                status = send(browser, route, method, url, X_CSRFTOKEN=token).status_code
                if status == 403:
                    refused[f"{method} {url}"] = status
            transaction.set_rollback(True)

    assert not refused, f"Refused although the token was sent: {refused}"


def mutation_routes() -> list[Route]:
    return [route for route in ROUTES if not is_api(route) and route.name not in FORM_PAGES]


@pytest.mark.django_db
@pytest.mark.parametrize("route", mutation_routes(), ids=str)
def test_a_url_that_accepts_post_refuses_get(client, salesperson, mine, route):
    """A change is never made by a GET (a link, an <img>, a prefetch): a URL that takes POST
    answers GET with 405, unless it is a form page listed in FORM_PAGES."""
    url = url_of(route, mine)
    client.force_login(salesperson)

    get = client.get(url).status_code
    post = send(client, route, "POST", url).status_code

    # A read-only page refuses POST instead; no URL may take both.
    assert 405 in (post, get), f"{url} takes POST ({post}) and GET ({get})"


@pytest.mark.django_db
# The first-run page exists only while there is no account (tests/accounts/test_first_account.py).
@pytest.mark.parametrize("name", sorted(FORM_PAGES - {"first-account"}))
def test_the_form_pages_listed_do_take_get_and_post(
    client, salesperson, manager, mine, fresh_cache, name
):
    """FORM_PAGES stays an exact list: each really is a form page, none is there by mistake."""
    [route] = [route for route in ROUTES if route.name == name]
    url = url_of(route, mine)
    if name == "reminders:email-link":  # the walk's sample token is refused (400) by design
        source = ReferralSourceFactory(owner=salesperson)
        url = urlsplit(make_link(salesperson, links.REFERRAL_ASKED, source.pk)).path
    if name in CSRF_EXEMPT:  # the walk's sample token is no page's (404)
        page = public_page_for(owner=salesperson)
        PublicPage.objects.filter(pk=page.pk).update(booking_enabled=True)  # for booking-new
        url = reverse(name, args=[page.token])
    client.force_login(manager if name in MANAGER_ONLY else salesperson)

    get = client.get(url).status_code
    post = send(client, route, "POST", url).status_code

    assert get == 200
    assert post != 405


# --- The API: session writes need the token, bearer-token writes do not ------------------------


@pytest.mark.django_db
def test_an_api_write_by_session_needs_the_csrf_token(salesperson):
    browser, token = csrf_client(salesperson)
    body = json.dumps({"first_name": "Dana", "last_name": "Smith"})
    url = reverse("api-lead-list")

    before = Lead.objects.filter(owner=salesperson).count()

    refused = browser.post(url, body, content_type="application/json")
    accepted = browser.post(
        url, body, content_type="application/json", headers={"X-CSRFToken": token}
    )

    assert refused.status_code == 403
    assert "CSRF" in refused.json()["error"]
    assert accepted.status_code == 201, accepted.content
    assert Lead.objects.filter(owner=salesperson).count() == before + 1


@pytest.mark.django_db
def test_an_api_write_by_session_to_a_record_needs_the_csrf_token(salesperson):
    lead = LeadFactory(owner=salesperson, first_name="Dana")
    browser, _token = csrf_client(salesperson)
    url = reverse("api-lead-detail", args=[lead.pk])

    patch = browser.patch(url, json.dumps({"first_name": "X"}), content_type="application/json")
    delete = browser.delete(url)

    assert (patch.status_code, delete.status_code) == (403, 403)
    lead.refresh_from_db()
    assert lead.first_name == "Dana"


@pytest.mark.django_db
def test_an_api_write_with_a_bearer_token_needs_no_csrf_token(salesperson):
    _token, secret = api_services.api_token_create(user=salesperson, name="Script")
    program = Client(enforce_csrf_checks=True)
    before = Lead.objects.filter(owner=salesperson).count()

    response = program.post(
        reverse("api-lead-list"),
        json.dumps({"first_name": "Dana", "last_name": "Smith"}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}"},
    )

    assert response.status_code == 201, response.content
    assert Lead.objects.filter(owner=salesperson).count() == before + 1
