"""The lockout page says when logging in works again, from the configured cool-off."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.mark.parametrize(("cool_off", "says"), [(15, "15 minutes"), (1, "1 minute")])
def test_the_lockout_page_says_when_to_try_again(client, salesperson, settings, cool_off, says):
    settings.AXES_COOLOFF_TIME = timedelta(minutes=cool_off)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(
            reverse("login"), {"username": "sam", "password": "wrong-wrong-wrong"}
        )

    assert response.status_code == 429
    assert f"You can log in again in {says}." in response.content.decode()
