from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.conf import settings
from django_celery_beat.models import PeriodicTask

pytestmark = pytest.mark.django_db

beat_schedules = importlib.import_module("reminders.migrations.0002_beat_schedules")


def test_a_fresh_install_has_every_beat_schedule():
    reminders = PeriodicTask.objects.get(task="reminders.tasks.run_reminders")
    assert (reminders.interval.every, reminders.interval.period) == (10, "minutes")
    assert reminders.enabled

    follow_ups = PeriodicTask.objects.get(task="leads.tasks.schedule_follow_ups")
    assert (follow_ups.interval.every, follow_ups.interval.period) == (15, "minutes")

    rescoring = PeriodicTask.objects.get(task="icp.tasks.rescore_all_leads")
    assert rescoring.interval is None
    assert (rescoring.crontab.hour, rescoring.crontab.minute) == ("2", "30")
    assert str(rescoring.crontab.timezone) == settings.TIME_ZONE


def test_the_scheduled_tasks_exist():
    from leadhunter.celery import app

    app.loader.import_default_modules()
    for task in PeriodicTask.objects.values_list("task", flat=True):
        assert task in app.tasks, task


def test_applying_the_schedules_again_changes_nothing_and_reversing_removes_them():
    before = set(PeriodicTask.objects.values_list("name", "task", "interval_id", "crontab_id"))

    beat_schedules.create_schedules(apps, None)
    assert set(PeriodicTask.objects.values_list("name", "task", "interval_id", "crontab_id")) == (
        before
    )

    beat_schedules.remove_schedules(apps, None)
    assert not PeriodicTask.objects.filter(
        task__in=[
            "reminders.tasks.run_reminders",
            "leads.tasks.schedule_follow_ups",
            "icp.tasks.rescore_all_leads",
        ]
    ).exists()
