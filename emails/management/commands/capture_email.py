"""`python manage.py capture_email --once`: read every mailbox now and say what was logged."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from emails.capture_models import MailboxKind
from emails.mailboxes import mailboxes_poll


class Command(BaseCommand):
    help = (
        "Read the capture mailbox and every connected mailbox once, log new emails on leads "
        "and print what was logged. Beat does the same every minute."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--once", action="store_true", help="One poll of every mailbox, then exit."
        )

    def handle(self, *args: object, **options: object) -> None:
        if not options["once"]:
            raise CommandError("Pass --once (the worker's beat polls every minute).")
        results = mailboxes_poll(due_only=False)
        if not results:
            self.stdout.write(
                "No mailbox to read: set CAPTURE_IMAP_URL and CAPTURE_ADDRESS, or connect a "
                "mailbox on Settings."
            )
            return
        failed = 0
        for result in results:
            mailbox = result.mailbox
            name = (
                "Capture mailbox"
                if mailbox.kind == MailboxKind.CAPTURE
                else f"Mailbox of {mailbox.owner} ({mailbox.username})"
            )
            if result.locked:
                self.stdout.write(f"{name}: skipped, another poll is reading it right now.")
                continue
            if result.error:
                failed += 1
                self.stderr.write(f"{name}: could not be read: {result.error}")
                continue
            self.stdout.write(
                f"{name}: {result.messages} new message(s), {result.logged} logged on leads, "
                f"{result.unmatched} waiting in Unmatched emails, {result.bounced} bounce(s)."
            )
            for line in result.report:
                self.stdout.write(line)
        if failed:
            raise CommandError(f"{failed} mailbox(es) could not be read.")
