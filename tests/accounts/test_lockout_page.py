"""The lockout page says when logging in works again, from the configured cool-off."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("cool_off", "says"), [(15, "15 minutes"), (1, "1 minute")])
def test_the_lockout_page_says_when_to_try_again(client, salesperson, settings, cool_off, says):
    settings.AXES_COOLOFF_TIME = timedelta(minutes=cool_off)
    for _ in range(settings.LOGIN_FAILURES_PER_USERNAME):
        response = client.post(
            reverse("login"), {"username": "sam", "password": "wrong-wrong-wrong"}
        )

    assert response.status_code == 429
    assert f"You can log in again in {says}." in response.content.decode()


def _fail_login(client, username: str = "sam"):
    return client.post(reverse("login"), {"username": username, "password": "wrong-wrong-wrong"})


@pytest.mark.parametrize("username", ["sam", "nobody-by-this-name"])
def test_the_login_page_warns_before_the_attempt_that_would_lock_it(client, salesperson, username):
    warning = "One more wrong password will pause logging in with this username for 15 minutes."
    pages = [_fail_login(client, username).content.decode() for _ in range(4)]

    assert [warning in page for page in pages] == [False, False, False, True]
    assert _fail_login(client, username).status_code == 429


def test_a_good_login_clears_the_warning(client, salesperson):
    for _ in range(3):
        _fail_login(client)
    logged_in = client.post(reverse("login"), {"username": "sam", "password": TEST_PASSWORD})
    client.logout()

    assert logged_in.status_code == 302

    assert "One more wrong password" not in _fail_login(client).content.decode()
