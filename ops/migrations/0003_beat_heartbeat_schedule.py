"""Beat's own heartbeat: a tiny task every minute that stamps ops.ScheduledRun, so `manage.py
doctor` and the Status page can tell that beat is sending tasks. Like the other schedules
(reminders/migrations/0002_beat_schedules.py) it lives in the database; applying this again
updates the row by name, reversing removes it."""

from django.db import migrations
from django.utils import timezone

NAME = "Beat heartbeat"
TASK = "ops.tasks.beat_heartbeat"
EVERY_MINUTES = 1


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    every, _ = IntervalSchedule.objects.get_or_create(every=EVERY_MINUTES, period="minutes")
    PeriodicTask.objects.update_or_create(
        name=NAME,
        defaults={
            "task": TASK,
            "interval": every,
            "crontab": None,
            "description": "Stamps a row each minute so the Status page and `manage.py doctor` "
            "can tell that beat is sending tasks and a worker is running them.",
            # A heartbeat that waited longer than its interval says nothing new: drop it.
            "expire_seconds": EVERY_MINUTES * 60,
            "enabled": True,
        },
    )
    # Historical models skip the signal that tells a running beat to reload its schedule.
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def remove_schedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    PeriodicTask.objects.filter(name=NAME).delete()
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


class Migration(migrations.Migration):
    dependencies = [
        ("ops", "0002_scheduled_run"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
