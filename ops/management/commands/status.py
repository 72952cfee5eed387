from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from leadhunter import health
from ops.selectors import worker_status


class Command(BaseCommand):
    help = (
        "Say whether the database, the broker and a Celery worker are up, one line each, as "
        "/healthz does; exit 1 when any is not (for cron, monitoring and shell scripts)."
    )

    def handle(self, *args, **options) -> None:
        database = health.database_ok()
        broker = health.broker_ok()
        self.stdout.write(f"database: {'ok' if database else 'unavailable'}")
        self.stdout.write(f"broker: {'ok' if broker else 'unavailable'}")
        worker = worker_status() if database else None
        if worker is None:
            self.stdout.write("worker: unknown (no database to read its heartbeat from)")
        elif worker.last_seen is None:
            self.stdout.write(f"worker: {worker.state} (no worker has ever written a heartbeat)")
        else:
            ago = round((timezone.now() - worker.last_seen).total_seconds())
            self.stdout.write(f"worker: {worker.state} (last heartbeat {ago} s ago)")
        if not (database and broker and worker is not None and worker.ok):
            raise CommandError("LeadHunter is not fully up.", returncode=1)
