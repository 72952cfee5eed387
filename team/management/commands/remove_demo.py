from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from team import selectors, services


class Command(BaseCommand):
    help = (
        "Delete the demo accounts (sam, jordan, morgan) and every record that is theirs; "
        "everyone else's data stays. Asks first unless --yes."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--yes", action="store_true", help="Do not ask; delete the demo data straight away."
        )

    def handle(self, *args, yes: bool = False, **options) -> None:
        demo = selectors.demo_data()
        if not demo:
            self.stdout.write("No demo data: nothing to remove.")
            return
        self.stdout.write(f"This deletes the demo accounts {', '.join(demo.users)} and:")
        for line in demo.lines()[1:]:
            self.stdout.write(f"  {line}")
        self.stdout.write("Everyone else's accounts and records stay as they are.")
        if not yes:
            if not self.stdin_is_interactive():
                raise CommandError("Add --yes to remove the demo data without a question.")
            answer = input("Remove the demo data? Type 'yes' to go on: ")
            if answer.strip().lower() != "yes":
                raise CommandError("Nothing removed.")
        removal = services.demo_remove()
        leads = removal.deleted.get("leads.Lead", 0)
        self.stdout.write(
            self.style.SUCCESS(
                f"Removed the demo data: {', '.join(removal.users)} and their {leads} "
                f"lead{'s' if leads != 1 else ''}."
            )
        )

    def stdin_is_interactive(self) -> bool:
        return sys.stdin.isatty()
