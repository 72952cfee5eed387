from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from leadhunter.celery import app as celery_app
from ops.models import WorkerHeartbeat
from ops.selectors import stale_after, worker_status


def beat(*, hostname: str = "celery@web-1", ago: timedelta = timedelta(0), consuming: bool = True):
    now = timezone.now()
    return WorkerHeartbeat.objects.create(
        hostname=hostname,
        pid=4242,
        started_at=now - timedelta(hours=1),
        seen_at=now - ago,
        consuming=consuming,
    )


@pytest.mark.django_db
def test_healthz_reports_ok_without_login(client):
    beat()

    response = client.get(reverse("healthz"))

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok", "worker": "ok"}


@pytest.mark.django_db
def test_healthz_answers_503_when_the_broker_is_down(client, monkeypatch):
    beat()
    monkeypatch.setitem(celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")

    response = client.get(reverse("healthz"))

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "database": "ok",
        "broker": "unavailable",
        "worker": "ok",
    }


def test_healthz_answers_503_when_the_database_is_unreachable(client):
    # No `db` fixture: pytest-django refuses database access, as a dead database would.
    response = client.get(reverse("healthz"))

    assert response.status_code == 503
    assert response.json()["database"] == "unavailable"
    assert response.json()["worker"] == "unknown"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("heartbeats", "expected"),
    [
        ([], "down"),  # no worker ever ran
        ([{"ago": timedelta(minutes=5)}], "down"),  # killed: its row went stale
        ([{"consuming": False}], "disconnected"),  # alive, reconnecting to the broker
        ([{"consuming": False}, {"hostname": "celery@web-2"}], "ok"),  # another one consumes
        ([{"ago": timedelta(minutes=5)}, {"hostname": "celery@web-2"}], "ok"),
    ],
)
def test_healthz_says_degraded_while_no_worker_takes_tasks(client, heartbeats, expected):
    for heartbeat in heartbeats:
        beat(**heartbeat)

    response = client.get(reverse("healthz"))
    strict = client.get(reverse("healthz"), {"worker": "required"})

    assert response.status_code == 200  # the web server itself can serve
    assert response.json()["worker"] == expected
    assert response.json()["status"] == ("ok" if expected == "ok" else "degraded")
    assert strict.status_code == (200 if expected == "ok" else 503)


@pytest.mark.django_db
def test_a_worker_is_down_after_three_missed_heartbeats(settings):
    settings.WORKER_HEARTBEAT_INTERVAL = 10
    heartbeat = beat(ago=timedelta(seconds=29))
    now = heartbeat.seen_at + timedelta(seconds=29)

    assert stale_after() == timedelta(seconds=30)
    assert worker_status(now=now).state == "ok"
    assert worker_status(now=now + timedelta(seconds=2)).state == "down"
    assert worker_status(now=now + timedelta(seconds=2)).last_seen == heartbeat.seen_at
