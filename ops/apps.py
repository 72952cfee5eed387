from __future__ import annotations

from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from celery.signals import task_success

        from ops.signals import record_scheduled_run

        task_success.connect(record_scheduled_run, weak=False, dispatch_uid="ops.scheduled_run")
