from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from team import demo


class Command(BaseCommand):
    help = "Load a demo salesperson and a demo manager with sample data, if the database is empty."

    def handle(self, *args, **options) -> None:
        result = demo.load_demo_if_empty()
        if options["verbosity"] == 0:  # make run: its banner shows the logins
            return
        if result is None:
            self.stdout.write("The database already has users; demo data not loaded.")
            return
        self.stdout.write(
            self.style.SUCCESS(f"Demo data loaded. Log in at {settings.SITE_URL} as:")
        )
        for login in result.logins:
            self.stdout.write(
                f"  {login.role:<12} username: {login.username:<10} password: {login.password}"
            )
