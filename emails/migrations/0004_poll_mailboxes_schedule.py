"""Beat reads the mailboxes every minute (emails.tasks.poll_mailboxes). Like the other schedules
(ops/migrations/0003_beat_heartbeat_schedule.py) it lives in the database; applying this again
updates the row by name, reversing removes it."""

from django.db import migrations
from django.utils import timezone

NAME = "Read mailboxes"
TASK = "emails.tasks.poll_mailboxes"
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
            "description": "Reads the capture mailbox and the connected mailboxes and logs new "
            "emails on leads (one run at a time per mailbox).",
            # A poll that waited longer than its interval is replaced by the next one.
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
        ("emails", "0003_capture_mailboxes"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
