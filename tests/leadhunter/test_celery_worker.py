from __future__ import annotations

import time

import pytest
from django.contrib.auth.models import Group

from leadhunter.celery import app as celery_app


@celery_app.task(name="tests.create_group")
def create_group(name: str) -> None:
    Group.objects.get_or_create(name=name)


def wait_for(condition, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


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
