from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from reminders.selectors import KIND_BY_SLUG, reminder_preview
from reminders.services import reminder_send_to_self


class Command(BaseCommand):
    help = (
        "Send one user's weekly referral email and/or daily digest now, as the scheduled send "
        "would compose them today (the same as Settings → Send it to me now). --dry-run prints "
        "the recipient and the plain-text part instead of sending."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--user", required=True, help="The username to send to.")
        parser.add_argument(
            "--kind",
            choices=sorted(KIND_BY_SLUG),
            help="weekly (the referral email) or digest (the daily digest); both if left out.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Print what would be sent; send nothing."
        )

    def handle(self, *args, user: str, kind: str | None, dry_run: bool, **options) -> None:
        account = User.objects.filter(username=user).first()
        if account is None:
            raise CommandError(f"No user called {user!r}.")
        slugs = [kind] if kind else list(KIND_BY_SLUG)
        failed = False
        for slug in slugs:
            if dry_run:
                self._print(account, slug)
                continue
            result = reminder_send_to_self(user=account, kind=KIND_BY_SLUG[slug], rate_limit=False)
            self.stdout.write(f"{slug}: {result.message}")
            failed = failed or result.outcome in ("failed", "no-address")
        if failed:
            raise CommandError(f"Not everything could be sent to {account.get_username()}.")

    def _print(self, account: User, slug: str) -> None:
        preview = reminder_preview(user=account, kind=KIND_BY_SLUG[slug])
        self.stdout.write(f"=== {preview.title} ({slug}) — dry run, nothing sent")
        self.stdout.write(f"To: {preview.recipient or '(no email address: it would not be sent)'}")
        if preview.nothing_to_send:
            self.stdout.write(preview.nothing_to_send)
            return
        self.stdout.write(f"Subject: {preview.subject}\n")
        self.stdout.write(preview.text)
