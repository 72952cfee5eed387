from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from api import services
from tests.e2e.conftest import (  # noqa: F401 -- the browser fixtures, for test_browser.py
    browser_context_args,
    browser_type_launch_args,
    console_errors,
    logged_in_page,
)


@pytest.fixture
def api_for(db):
    """An API client authenticated with a fresh bearer token of the given user."""

    def client_for(user, name="tests"):
        _, secret = services.api_token_create(user=user, name=name)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        return client

    return client_for


@pytest.fixture
def api(api_for, salesperson):
    """The salesperson's API client."""
    return api_for(salesperson)


@pytest.fixture
def anonymous_api():
    return APIClient()
