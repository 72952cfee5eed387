"""`make test` runs the suite in parallel processes (pytest-xdist): each worker has its own data
folder, Redis database and test database (tests/conftest.py worker_environment), so no test
sees or purges another worker's broker queue, cache or rows."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from leadhunter.celery import app as celery_app
from tests.conftest import worker_environment


def test_each_worker_gets_a_data_folder_and_a_redis_database_of_its_own():
    run = {"DATA_DIR": "/ci/var/test", "REDIS_URL": "redis://127.0.0.1:6379/8"}

    first, third = worker_environment("gw0", run), worker_environment("gw2", run)

    assert first == {"DATA_DIR": "/ci/var/test/gw0", "REDIS_URL": "redis://127.0.0.1:6379/8"}
    assert third == {"DATA_DIR": "/ci/var/test/gw2", "REDIS_URL": "redis://127.0.0.1:6379/10"}


def test_without_redis_a_worker_gets_only_its_data_folder():
    assert worker_environment("gw1", {"DATA_DIR": "/ci/var/test"}) == {
        "DATA_DIR": "/ci/var/test/gw1"
    }


def test_a_redis_url_without_a_database_number_counts_from_database_0():
    environment = worker_environment("gw3", {"REDIS_URL": "redis://:secret@redis:6379"})

    assert environment["REDIS_URL"] == "redis://:secret@redis:6379/3"


def test_more_workers_than_redis_databases_stop_the_run():
    with pytest.raises(pytest.UsageError, match="no Redis database for worker gw2"):
        worker_environment("gw2", {"REDIS_URL": "redis://127.0.0.1:6379/14"})


@pytest.mark.django_db
def test_this_process_runs_on_its_own_folder_broker_and_database():
    """Under xdist the settings this process loaded are its worker's own; run serially
    (`pytest -n 0`), the run's own."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    data_dir = Path(settings.DATA_DIR)
    if worker is None:
        assert not data_dir.name.startswith("gw")
        return
    assert data_dir.name == worker
    assert connection.settings_dict["NAME"].endswith(f"_{worker}")
    if settings.REDIS_URL:
        assert celery_app.conf.broker_url == settings.REDIS_URL
        assert settings.CACHES["default"]["LOCATION"] == settings.REDIS_URL
    else:
        queue = Path(celery_app.conf.broker_transport_options["data_folder_in"])
        assert queue.is_relative_to(data_dir)
        assert Path(settings.CACHES["default"]["LOCATION"]).is_relative_to(data_dir)
