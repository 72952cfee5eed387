"""Beat's schedule for the rescore sweep: every minute, send again the rescores whose task never
reached the broker (icp.rescoring.rescore_requests_sweep).

Made like the schedules of reminders/migrations/0002_beat_schedules.py (editable in the admin);
applying it again updates the row by name, reversing removes it.
"""

from django.db import migrations
from django.utils import timezone

NAME = "Rescore catch-up"
TASK = "icp.tasks.sweep_rescore_requests"
EVERY_MINUTES = 1
DESCRIPTION = (
    "Sends again the rescores asked for by edits saved while the broker was down (they wait "
    "in the database), so no score stays stale until the nightly run."
)


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
            "description": DESCRIPTION,
            # A sweep that waited longer than its interval is superseded by the next one.
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
        ("icp", "0003_rescorerequest"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
