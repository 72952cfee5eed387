from __future__ import annotations

import gc
import os
import socket
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from celery.contrib.testing.worker import start_worker
from django.core.mail.backends import locmem
from django.db.backends.postgresql.operations import DatabaseOperations as PostgresOperations
from hypothesis import settings as hypothesis_settings

from icp.models import ICP, Criterion
from leadhunter.celery import app as celery_app
from tests.factories import CompanyFactory, LeadFactory, ManagerFactory, UserFactory

# Playwright's sync API runs an event loop in the test thread; the live server's ORM calls
# from that thread are safe because each test owns its own database connection.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# Property tests run with a fixed budget and fixed examples, so CI is repeatable: a property
# that fails, fails every run. No example database: nothing carries over between runs.
hypothesis_settings.register_profile("ci", derandomize=True, database=None, deadline=None)
hypothesis_settings.load_profile("ci")


# Redis keeps 16 numbered databases unless configured otherwise.
REDIS_DATABASES = 16


def worker_environment(worker: str, environ: dict[str, str]) -> dict[str, str]:
    """The settings an xdist worker (`make test` runs `pytest -n`) gets on top of the run's:
    a DATA_DIR of its own (filesystem broker, file cache, SQLite test database) and, on Redis,
    the database number REDIS_URL's plus the worker's number (broker queues, unacked set,
    cache, and the FLUSHDB of the outage tests). pytest-django already gives it a PostgreSQL
    test database of its own (test_<name>_gw<N>); servers pick free ports, so need nothing."""
    data_dir = Path(environ.get("DATA_DIR") or Path(__file__).resolve().parents[1] / "var")
    extra = {"DATA_DIR": str(data_dir / worker)}
    if redis := environ.get("REDIS_URL"):
        parts = urlsplit(redis)
        number = int(parts.path.strip("/") or 0) + int(worker.removeprefix("gw"))
        if number >= REDIS_DATABASES:
            raise pytest.UsageError(
                f"REDIS_URL {redis} leaves no Redis database for worker {worker}: use a lower "
                "database number or fewer workers (-n)"
            )
        extra["REDIS_URL"] = urlunsplit(parts._replace(path=f"/{number}"))
    return extra


def pytest_collection_finish(session):
    """What is loaded by now (Django, the apps, every test module, hypothesis) lives for the
    whole run: frozen out of the cyclic collector's walks, as leadhunter/wsgi.py does for a web
    process. A full collection walked all of it, ~90 ms in a test process: after each import
    (`cyclic_gc_paused(collect_after=True)`) and every few thousand allocations."""
    gc.collect()
    gc.freeze()


def pytest_xdist_setupnodes(config, specs):
    """Give each worker process its own environment before it loads the Django settings
    (execnet sets `env:` of a worker's spec in its os.environ first). Subprocesses the tests
    start (Celery workers, `bin/serve`) inherit it."""
    for spec in specs:
        spec.env.update(worker_environment(spec.id, dict(os.environ)))


def _delete_rows_instead_of_truncating(sql_flush):
    """PostgreSQL's flush as DELETE statements rather than one TRUNCATE of every table.

    A transactional test (a browser journey, a real worker) is followed by a flush; the
    TRUNCATE of ~60 tables cost ~0.4-0.8 s each time (new files for each table), the few rows
    a test leaves take milliseconds to DELETE. The foreign keys are deferred, so the order does
    not matter; row triggers fire (the leads' search table empties itself as on TRUNCATE).
    Resetting sequences or cascading to other tables keeps Django's own statement."""

    def flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences or allow_cascade:
            return sql_flush(
                self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
            )
        return [
            f"{style.SQL_KEYWORD('DELETE FROM')} {style.SQL_FIELD(self.quote_name(table))};"
            for table in tables
        ]

    return flush


@pytest.fixture(autouse=True, scope="session")
def fast_postgresql_flush():
    original = PostgresOperations.sql_flush
    PostgresOperations.sql_flush = _delete_rows_instead_of_truncating(original)
    yield
    PostgresOperations.sql_flush = original


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Factories give every user a password; PBKDF2's million rounds would cost ~0.5 s a user
    (Django's advice for tests). No test depends on the production hasher."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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
def sam_client(client_of, salesperson):
    """The test client logged in as `salesperson` (Sam, in the tests' stories)."""
    return client_of(salesperson)


@pytest.fixture
def celery_worker(transactional_db):
    """A real Celery worker in a thread, consuming from the configured broker.

    Redis in the PostgreSQL CI run, the embedded filesystem broker on the SQLite default.
    Leftover messages from earlier runs are purged so the test sees only its own tasks; under
    xdist the queue is this worker's own (worker_environment), not another worker's.
    """
    with celery_app.connection_for_write() as connection:
        connection.default_channel.queue_purge(celery_app.conf.task_default_queue)
    with start_worker(
        celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=30
    ) as worker:
        yield worker


@contextmanager
def _unreachable_broker() -> Iterator[None]:
    """The app's producers point at a loopback port where nothing listens, as when Redis is
    down: sending a task fails as it does then (kombu's OperationalError, after the publish
    retries). Consumers already running are not touched; all is as before afterwards."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again when the block ends: nothing listens
    conf = celery_app.conf
    saved = (conf.broker_url, conf.broker_transport_options)
    saved_pools = (celery_app._pool, celery_app.amqp._producer_pool)
    conf.broker_url = f"redis://127.0.0.1:{port}/0"
    conf.broker_transport_options = {}
    celery_app._pool = celery_app.amqp._producer_pool = None
    try:
        yield
    finally:
        if celery_app._pool is not None:
            celery_app._pool.force_close_all()
        conf.broker_url, conf.broker_transport_options = saved
        celery_app._pool, celery_app.amqp._producer_pool = saved_pools


@pytest.fixture
def broker_unreachable() -> Callable[[], AbstractContextManager[None]]:
    """`with broker_unreachable():` — the broker cannot be reached from this process."""
    return _unreachable_broker


@pytest.fixture
def clock(time_machine):
    """Stop the clock at a given moment; call again to move it."""

    def move_to(moment: datetime) -> datetime:
        time_machine.move_to(moment, tick=False)
        return moment

    return move_to


@pytest.fixture
def smtp_failures(monkeypatch) -> list[Exception]:
    """Errors the email backend raises, one per send, before it delivers again."""
    failures: list[Exception] = []
    deliver = locmem.EmailBackend.send_messages

    def send_messages(self, messages):
        if failures:
            raise failures.pop(0)
        return deliver(self, messages)

    monkeypatch.setattr(locmem.EmailBackend, "send_messages", send_messages)
    return failures


@pytest.fixture
def fresh_cache(settings):
    """The configured cache (Redis, or the file cache) under a key prefix of this test's own:
    counters kept there (rate limits) start from zero, and tests running in parallel, which
    share the cache, neither see nor clear each other's keys."""
    settings.CACHES = {
        **settings.CACHES,
        "default": {**settings.CACHES["default"], "KEY_PREFIX": f"test-{uuid.uuid4().hex}"},
    }


@pytest.fixture
def saas_icp(salesperson):
    """The salesperson's ICP "EU SaaS" (industry Software) and three Software leads: two in GB,
    one in DE; the ICP editor's journeys start from it."""
    icp = ICP.objects.create(owner=salesperson, name="EU SaaS")
    Criterion.objects.create(
        icp=icp, field="industry", operator="equals", value="Software", weight=50
    )
    for country in ("GB", "GB", "DE"):
        LeadFactory(
            owner=salesperson,
            company=CompanyFactory(owner=salesperson, industry="Software", country=country),
        )
    return icp
