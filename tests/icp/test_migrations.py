from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django_celery_beat.models import PeriodicTask

pytestmark = pytest.mark.django_db

sweep_schedule = importlib.import_module("icp.migrations.0004_rescore_sweep_schedule")


def test_a_fresh_install_sweeps_waiting_rescores_every_minute():
    from leadhunter.celery import app

    sweep = PeriodicTask.objects.get(task="icp.tasks.sweep_rescore_requests")
    assert (sweep.interval.every, sweep.interval.period) == (1, "minutes")
    assert (sweep.enabled, sweep.expire_seconds) == (True, 60)
    app.loader.import_default_modules()
    assert sweep.task in app.tasks


def test_applying_the_sweep_schedule_again_changes_nothing_and_reversing_removes_it():
    before = set(PeriodicTask.objects.values_list("name", "task", "interval_id", "enabled"))

    sweep_schedule.create_schedule(apps, None)
    assert set(PeriodicTask.objects.values_list("name", "task", "interval_id", "enabled")) == (
        before
    )

    sweep_schedule.remove_schedule(apps, None)
    assert not PeriodicTask.objects.filter(task="icp.tasks.sweep_rescore_requests").exists()
    assert PeriodicTask.objects.filter(task="icp.tasks.rescore_all_leads").exists()
