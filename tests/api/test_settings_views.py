from __future__ import annotations

import re

import pytest
from django.urls import reverse

from api import services
from api.models import ApiToken, CalendarFeed


@pytest.mark.django_db
def test_the_settings_page_has_the_api_and_calendar_sections(client_of, salesperson):
    services.api_token_create(user=salesperson, name="Zapier")

    page = client_of(salesperson).get(reverse("settings")).content.decode()

    assert "API tokens" in page
    assert "Calendar feed" in page
    assert "Zapier" in page
    assert reverse("api-docs") in page
    assert "Create calendar link" in page


@pytest.mark.django_db
def test_creating_a_token_shows_the_secret_once(client_of, salesperson):
    client = client_of(salesperson)

    response = client.post(reverse("api-token-create"), {"name": "Laptop script"})

    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    page = response.content.decode()
    secret = re.search(r'id="new-api-token" type="text" readonly value="(lh_[^"]+)"', page)[1]
    token = ApiToken.objects.get(user=salesperson)
    assert token.key_hash == services.api_token_hash(secret)
    assert token.name == "Laptop script"
    again = client.get(reverse("settings")).content.decode()
    assert secret not in again
    assert token.prefix in again


@pytest.mark.django_db
def test_a_token_needs_a_name(client_of, salesperson):
    response = client_of(salesperson).post(reverse("api-token-create"), {"name": "  "})

    assert response.status_code == 422
    assert "This field is required." in response.content.decode()
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_revoking_a_token(client_of, salesperson):
    token, _ = services.api_token_create(user=salesperson, name="Old")

    response = client_of(salesperson).post(
        reverse("api-token-revoke", args=[token.pk]), follow=True
    )

    token.refresh_from_db()
    assert token.revoked_at is not None
    assert "Revoked the token “Old”" in response.content.decode()


@pytest.mark.django_db
def test_another_users_token_cant_be_revoked(client_of, salesperson, other_salesperson):
    token, _ = services.api_token_create(user=other_salesperson, name="Theirs")

    response = client_of(salesperson).post(reverse("api-token-revoke", args=[token.pk]))

    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


@pytest.mark.django_db
def test_creating_regenerating_and_turning_off_the_calendar_link(client_of, salesperson):
    client = client_of(salesperson)

    created = client.post(reverse("calendar-feed-regenerate"), follow=True).content.decode()
    first = CalendarFeed.objects.get(user=salesperson).token
    assert f"/calendar/{first}.ics" in created
    assert "Regenerate (revokes the old link)" in created

    regenerated = client.post(reverse("calendar-feed-regenerate"), follow=True).content.decode()
    second = CalendarFeed.objects.get(user=salesperson).token
    assert second != first
    assert f"/calendar/{second}.ics" in regenerated
    assert first not in regenerated
    assert "the old one no longer works" in regenerated

    client.post(reverse("calendar-feed-delete"))
    assert not CalendarFeed.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["api-token-create", "calendar-feed-regenerate"])
def test_the_settings_actions_take_post_only(client_of, salesperson, name):
    assert client_of(salesperson).get(reverse(name)).status_code == 405
