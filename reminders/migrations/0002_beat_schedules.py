"""Celery beat's schedules for a fresh install — every periodic job of LeadHunter, in one place.

Schedules live in the database (django-celery-beat's DatabaseScheduler) so a manager can see and
change them in the admin. Applying this again updates the rows by name; reversing removes them.
"""

from django.conf import settings
from django.db import migrations
from django.utils import timezone

INTERVALS = [
    # (name, task, every minutes, description)
    (
        "Reminder emails",
        "reminders.tasks.run_reminders",
        10,
        "Plans each user's weekly referral email and daily digest in their time zone, and sends "
        "what is due (each email once; failed sends are retried).",
    ),
    (
        "Follow-up cadence",
        "leads.tasks.schedule_follow_ups",
        15,
        "Gives every open lead one pending follow-up by the cadence rules (never duplicates).",
    ),
]
CRONTABS = [
    # (name, task, minute, hour, description)
    (
        "Nightly rescoring",
        "icp.tasks.rescore_all_leads",
        "30",
        "2",
        "Rescores every lead at night so intent decays with time.",
    ),
]


def create_schedules(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    for name, task, minutes, description in INTERVALS:
        every, _ = IntervalSchedule.objects.get_or_create(every=minutes, period="minutes")
        PeriodicTask.objects.update_or_create(
            name=name,
            defaults={
                "task": task,
                "interval": every,
                "crontab": None,
                "description": description,
                # A run that waited longer than its interval is superseded by the next one.
                "expire_seconds": minutes * 60,
                "enabled": True,
            },
        )
    for name, task, minute, hour, description in CRONTABS:
        at, _ = CrontabSchedule.objects.get_or_create(
            minute=minute,
            hour=hour,
            day_of_week="*",
            day_of_month="*",
            month_of_year="*",
            timezone=settings.TIME_ZONE,
        )
        PeriodicTask.objects.update_or_create(
            name=name,
            defaults={
                "task": task,
                "interval": None,
                "crontab": at,
                "description": description,
                "enabled": True,
            },
        )
    # Historical models skip the signal that tells a running beat to reload its schedule.
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def remove_schedules(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    names = [entry[0] for entry in INTERVALS + CRONTABS]
    PeriodicTask.objects.filter(name__in=names).delete()
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


class Migration(migrations.Migration):
    dependencies = [
        ("reminders", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedules, remove_schedules)]
