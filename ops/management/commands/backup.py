from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ops.backups import BackupError, backup_create


class Command(BaseCommand):
    help = (
        "Back up the whole database while LeadHunter runs: pg_dump (custom format) on "
        "PostgreSQL, SQLite's online backup on SQLite. Prints the file written."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--output",
            type=Path,
            help="The file to write (default: DATA_DIR/backups/leadhunter-<time>.<dump|sqlite3>).",
        )

    def handle(self, *args, output: Path | None = None, **options) -> None:
        try:
            path = backup_create(output=output)
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(str(path))
