"""Beat's sweep of hand-raise emails: every minute, send what the broker lost or what is due
for a retry. Like the other schedules (reminders/migrations/0002_beat_schedules.py) it lives in
the database; applying this again updates the row by name, reversing removes it."""

from django.db import migrations
from django.utils import timezone

NAME = "Hand-raise emails"
TASK = "handraise.tasks.send_due_hand_raise_emails"
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
            "description": "Sends the email about a hand-raise that its own task did not send "
            "(the broker lost it, or the mail server asked to retry).",
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
        ("handraise", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
