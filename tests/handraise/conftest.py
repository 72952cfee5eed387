from __future__ import annotations

import pytest

from handraise.services import public_page_for


@pytest.fixture(autouse=True)
def _fresh_cache(fresh_cache):
    """The rate limits count in the cache: every test starts from zero."""


@pytest.fixture
def public_page(salesperson):
    """Sam's public page."""
    return public_page_for(owner=salesperson)
