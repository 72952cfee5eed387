from __future__ import annotations

import threading

import pytest
from celery.contrib.testing.worker import start_worker
from django.contrib.auth.models import Group

from leadhunter.celery import app as celery_app
from ops.models import WorkerHeartbeat
from ops.selectors import worker_status
from tests.waiting import wait_for


@celery_app.task(name="tests.create_group")
def create_group(name: str) -> None:
    Group.objects.get_or_create(name=name)


@pytest.mark.worker
def test_a_real_worker_runs_a_task_sent_through_the_broker(celery_worker):
    create_group.delay("Made by the worker")

    assert wait_for(lambda: Group.objects.filter(name="Made by the worker").exists())


def test_celery_is_configured_for_safe_retries():
    conf = celery_app.conf

    assert conf.task_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.task_time_limit > conf.task_soft_time_limit > 0
    assert conf.beat_scheduler == "django_celery_beat.schedulers:DatabaseScheduler"


@pytest.mark.worker
def test_a_worker_beats_while_it_runs_and_removes_its_heartbeat_when_it_stops(transactional_db):
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=30) as w:
        assert wait_for(
            lambda: WorkerHeartbeat.objects.filter(hostname=w.hostname, consuming=True).exists()
        )
        assert worker_status().state == "ok"

    assert not WorkerHeartbeat.objects.exists()
    assert worker_status().state == "down"
    assert "db-heartbeat" not in [thread.name for thread in threading.enumerate()]


def test_a_task_still_runs_when_the_cache_cannot_count_its_delivery(monkeypatch):
    # The cache is Redis too; a task starting as Redis goes away must not fail for that (a
    # failed acks_late task is acknowledged, so it would be lost).
    from django.core.cache import cache

    from leadhunter import celery as celery_module

    def unreachable(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(cache, "add", unreachable)

    assert celery_module._count_delivery(celery_module.delivery_key("task-id", 0)) == 1
