from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from api import services
from api.models import ApiToken
from tests.factories import LeadFactory

LEADS = "/api/v1/leads/"


def bearer(secret):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@pytest.mark.django_db
def test_only_a_hash_of_the_token_is_stored(salesperson):
    token, secret = services.api_token_create(user=salesperson, name="Zapier")

    stored = ApiToken.objects.get(pk=token.pk)
    assert secret.startswith("lh_")
    assert len(secret) > 40
    assert stored.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert stored.prefix == secret[:11]
    assert not any(
        secret in str(value)
        for value in ApiToken.objects.filter(pk=token.pk).values().get().values()
    )


@pytest.mark.django_db
def test_a_token_authenticates_as_its_user(salesperson):
    lead = LeadFactory(owner=salesperson)
    _, secret = services.api_token_create(user=salesperson, name="script")

    response = bearer(secret).get(LEADS)

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [lead.pk]


@pytest.mark.django_db
def test_no_token_is_401_with_a_bearer_challenge(anonymous_api):
    response = anonymous_api.get(LEADS)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json() == {
        "error": "Authentication credentials were not provided.",
        "fields": {},
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    "header",
    ["Bearer lh_not-a-real-token", "Bearer", "Bearer two parts", "bearer \u00e9t\u00e9"],
)
def test_a_wrong_or_malformed_token_is_401(salesperson, header):
    services.api_token_create(user=salesperson, name="real")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get(LEADS)

    assert response.status_code == 401
    assert response.json()["error"]


@pytest.mark.django_db
def test_a_revoked_token_is_401(salesperson):
    token, secret = services.api_token_create(user=salesperson, name="old laptop")
    assert bearer(secret).get(LEADS).status_code == 200

    services.api_token_revoke(token=token)

    response = bearer(secret).get(LEADS)
    assert response.status_code == 401
    assert response.json()["error"] == "This API token is not valid or was revoked."


@pytest.mark.django_db
def test_a_deactivated_users_token_is_401(salesperson):
    _, secret = services.api_token_create(user=salesperson, name="script")
    salesperson.is_active = False
    salesperson.save(update_fields=["is_active"])

    assert bearer(secret).get(LEADS).status_code == 401


@pytest.mark.django_db
def test_last_used_at_is_recorded_at_most_once_a_minute(salesperson):
    token, secret = services.api_token_create(user=salesperson, name="script")
    assert token.last_used_at is None
    start = timezone.now()

    with time_machine.travel(start, tick=False):
        bearer(secret).get(LEADS)
    token.refresh_from_db()
    assert token.last_used_at == start

    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        bearer(secret).get(LEADS)
    token.refresh_from_db()
    assert token.last_used_at == start

    with time_machine.travel(start + timedelta(minutes=2), tick=False):
        bearer(secret).get(LEADS)
    token.refresh_from_db()
    assert token.last_used_at == start + timedelta(minutes=2)


@pytest.mark.django_db
def test_the_session_works_too_for_the_browser(client_of, salesperson):
    LeadFactory(owner=salesperson)

    response = client_of(salesperson).get(LEADS)

    assert response.status_code == 200
    assert len(response.json()["results"]) == 1


@pytest.mark.django_db
def test_a_session_write_needs_the_csrf_token(salesperson):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(salesperson)

    response = client.post(LEADS, {"first_name": "Ada"}, content_type="application/json")

    assert response.status_code == 403
    assert "CSRF" in response.json()["error"]


@pytest.mark.django_db
def test_the_api_never_redirects_to_the_login_page(anonymous_api):
    for url in (LEADS, "/api/v1/leads/1/", reverse("api-schema"), "/api/v1/nowhere/"):
        response = anonymous_api.get(url)
        assert response.status_code in (401, 404), url
        assert response["Content-Type"] == "application/json", url


@pytest.mark.django_db
def test_a_user_has_at_most_twenty_active_tokens(salesperson):
    from django.core.exceptions import ValidationError

    for number in range(services.MAX_ACTIVE_TOKENS):
        services.api_token_create(user=salesperson, name=f"token {number}")

    with pytest.raises(ValidationError, match="revoke one"):
        services.api_token_create(user=salesperson, name="one too many")
