from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.cache import cache

from icp import tasks

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def forget_rescore_requests(monkeypatch):
    """Drop the coalescing keys a test set: the cache outlives the test's database rollback
    and ids repeat between tests (SQLite reuses them), so a leftover key would swallow the
    next test's request."""
    added: list[str] = []
    add = cache.add

    def recording_add(key, *args, **kwargs):
        added.append(key)
        return add(key, *args, **kwargs)

    monkeypatch.setattr(cache, "add", recording_add)
    yield
    cache.delete_many(added)


@pytest.fixture
def enqueued(monkeypatch):
    """Record the rescore tasks sent after commit, instead of sending them to the broker."""
    sent: list[tuple[str, tuple, dict]] = []
    for task in (
        tasks.rescore_lead,
        tasks.rescore_icp_leads,
        tasks.rescore_owner_leads,
        tasks.rescore_all_leads,
    ):
        monkeypatch.setattr(
            task,
            "apply_async",
            lambda args=(), name=task.name, **options: sent.append((name, args, options)),
        )
    return sent
