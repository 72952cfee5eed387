from __future__ import annotations

import os

import pytest
from celery.contrib.testing.worker import start_worker
from hypothesis import settings as hypothesis_settings

from leadhunter.celery import app as celery_app
from tests.factories import ManagerFactory, UserFactory

# Playwright's sync API runs an event loop in the test thread; the live server's ORM calls
# from that thread are safe because each test owns its own database connection.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# Property tests run with a fixed budget and fixed examples, so CI is repeatable: a property
# that fails, fails every run. No example database: nothing carries over between runs.
hypothesis_settings.register_profile("ci", derandomize=True, database=None, deadline=None)
hypothesis_settings.load_profile("ci")


@pytest.fixture
def salesperson(db):
    return UserFactory(username="sam")


@pytest.fixture
def other_salesperson(db):
    return UserFactory(username="alex")


@pytest.fixture
def manager(db):
    return ManagerFactory(username="morgan")


@pytest.fixture
def client_of(client):
    """A test client logged in as the given user."""

    def log_in(user):
        client.force_login(user)
        return client

    return log_in


@pytest.fixture
def celery_worker(transactional_db):
    """A real Celery worker in a thread, consuming from the configured broker.

    Redis in the PostgreSQL CI run, the embedded filesystem broker on the SQLite default.
    Leftover messages from earlier runs are purged so the test sees only its own tasks.
    """
    with celery_app.connection_for_write() as connection:
        connection.default_channel.queue_purge(celery_app.conf.task_default_queue)
    with start_worker(
        celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=30
    ) as worker:
        yield worker
