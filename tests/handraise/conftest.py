from __future__ import annotations

import pytest
from django.core.cache import cache

from handraise.services import public_page_for


@pytest.fixture(autouse=True)
def empty_cache():
    """The rate limits count in the cache (a file cache on the SQLite runs): every test starts
    from zero and leaves nothing behind."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def page(salesperson):
    """Sam's public page."""
    return public_page_for(owner=salesperson)
