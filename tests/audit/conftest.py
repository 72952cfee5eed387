from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from api import services as api_services


@pytest.fixture
def api_of(db):
    """An API client authenticated only by a bearer token of the given user (no session)."""

    def client_for(user):
        _, secret = api_services.api_token_create(user=user, name="audit tests")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        return client

    return client_for
