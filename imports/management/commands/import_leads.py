"""Import leads from a file on the command line: LinkedIn, Google Contacts, vCard or CSV."""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from accounts.models import User
from imports import engine
from imports.decoding import ImportFileError
from imports.models import DuplicatePolicy, ImportFormat
from imports.parsing import read_file
from leads.models import Source


class DryRun(Exception):
    """Raised inside the import's transaction to roll back everything it wrote."""


class Command(BaseCommand):
    help = (
        "Import leads for a user from a LinkedIn Connections.csv, a Google Contacts CSV, a vCard "
        "file or another CRM's CSV export. Duplicates fill in empty fields only; importing the "
        "same file twice changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--owner", required=True, help="Username of the leads' owner.")
        parser.add_argument("--format", choices=ImportFormat.values, default=ImportFormat.AUTO)
        parser.add_argument(
            "--source", choices=Source.values, default="", help="Default: by format."
        )
        parser.add_argument(
            "--duplicates", choices=DuplicatePolicy.values, default=DuplicatePolicy.FILL_EMPTY
        )
        parser.add_argument(
            "--network",
            action="store_true",
            help="Put the new leads in the network pool (reconnects a few a day, best fit "
            "first) instead of a first touch each on the next business day.",
        )
        parser.add_argument(
            "--tag", action="append", default=[], help="A tag for each new lead (repeatable)."
        )
        parser.add_argument("--dry-run", action="store_true", help="Report, write nothing.")
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args, **options) -> None:
        owner = User.objects.filter(username=options["owner"]).first()
        if owner is None:
            raise CommandError(f"No user {options['owner']!r}.")
        try:
            data = options["file"].read_bytes()
        except OSError as error:
            raise CommandError(f"Can't read {options['file']}: {error.strerror}.") from None
        try:
            parsed = read_file(data, max_bytes=settings.IMPORT_MAX_BYTES, format=options["format"])
        except ImportFileError as error:
            raise CommandError(str(error)) from None
        del data  # the decoded text is what is read from now on
        import_options = engine.ImportOptions(
            source=options["source"],
            duplicates=options["duplicates"],
            tags=tuple(tag.strip().lower() for tag in options["tag"] if tag.strip()),
            network=options["network"],
        )
        result = self._import(parsed, owner, import_options, dry_run=options["dry_run"])
        if options["json"]:
            self.stdout.write(json.dumps(result.as_dict()))
        else:
            self._report(result, dry_run=options["dry_run"], unmapped=parsed.unmapped)

    def _import(self, parsed, owner, options, *, dry_run: bool) -> engine.ImportResult:
        if not dry_run:
            return engine.import_file(parsed, owner=owner, options=options)
        # One outer transaction makes each row's transaction a savepoint; rolling it back
        # undoes every row, and the enqueue-on-commit rescoring never fires.
        result = engine.ImportResult()
        try:
            with transaction.atomic():
                engine.import_file(parsed, owner=owner, options=options, result=result)
                raise DryRun
        except DryRun:
            pass
        return result

    def _report(self, result: engine.ImportResult, *, dry_run: bool, unmapped: list[str]) -> None:
        would = "Would import" if dry_run else "Imported"
        self.stdout.write(
            f"{would}: {result.created} created, {result.updated} updated, "
            f"{result.skipped_duplicates} duplicates skipped, {result.errors} rows with errors."
        )
        if unmapped:
            self.stdout.write(f"Columns ignored: {', '.join(unmapped)}.")
        for error in result.error_rows:
            field = f" {error['field']}:" if error["field"] else ""
            self.stdout.write(f"  row {error['row']}:{field} {error['reason']}")
