from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from leadhunter.celery import app as celery_app
from ops.models import WorkerHeartbeat

pytestmark = pytest.mark.django_db


def beat(*, ago: timedelta, consuming: bool = True) -> None:
    now = timezone.now()
    WorkerHeartbeat.objects.create(
        hostname="celery@box", pid=7, started_at=now - ago, seen_at=now - ago, consuming=consuming
    )


def status() -> tuple[list[str], bool]:
    """The lines printed, and whether the command succeeded (it fails with exit status 1)."""
    out = StringIO()
    returncode = 0
    try:
        call_command("status", stdout=out)
    except CommandError as error:
        returncode = error.returncode
    assert returncode in (0, 1)
    return out.getvalue().splitlines(), returncode == 0


def test_the_status_check_passes_with_a_worker_taking_tasks():
    beat(ago=timedelta(seconds=2))

    lines, ok = status()

    assert ok
    assert lines == ["database: ok", "broker: ok", "worker: ok (last heartbeat 2 s ago)"]


def test_the_status_check_fails_for_a_dead_worker():
    beat(ago=timedelta(minutes=10))

    lines, ok = status()

    assert not ok
    assert lines[-1] == "worker: down (last heartbeat 600 s ago)"


def test_the_status_check_fails_for_a_worker_cut_off_from_the_broker():
    beat(ago=timedelta(seconds=1), consuming=False)

    lines, ok = status()

    assert not ok
    assert lines[-1] == "worker: disconnected (last heartbeat 1 s ago)"


def test_the_status_check_fails_when_no_worker_ever_ran_or_the_broker_is_down(monkeypatch):
    monkeypatch.setitem(celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")

    lines, ok = status()

    assert not ok
    assert lines == [
        "database: ok",
        "broker: unavailable",
        "worker: down (no worker has ever written a heartbeat)",
    ]
