"""The one banner `make run` ends its start-up with (bin/serve): where LeadHunter answers, whom
to log in as, and where its emails go. Printed once the web server, the worker and the broker
all answer, so it is the last thing on the screen rather than lost among start-up lines."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.models import User
from team.demo import demo_logins

RULE = "─" * 72


def emails_go() -> str:
    """Where the emails of these settings go, in a salesperson's words."""
    backend = settings.EMAIL_BACKEND.rsplit(".", 2)[-2]
    if backend == "console":
        return (
            "Emails (to leads, reminders, digests, password resets) are printed here, not sent;\n"
            "  set EMAIL_URL=smtp://user:password@host:587 to send them (README, Configuration)."
        )
    if backend == "filebased":
        return f"Emails are written as files to {settings.EMAIL_FILE_PATH}, not sent."
    if backend == "smtp":
        return (
            f"Emails are sent through {settings.EMAIL_HOST}:{settings.EMAIL_PORT} "
            f"from {settings.DEFAULT_FROM_EMAIL}."
        )
    if backend == "locmem":
        return "Emails are kept in memory and never sent (a test setting)."
    return f"Emails go to {settings.EMAIL_BACKEND}."


class Command(BaseCommand):
    help = "Print where LeadHunter answers, the demo logins and where emails go (make run)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--port", type=int, default=8000, help="The port bin/serve serves.")
        parser.add_argument(
            "--wait",
            type=float,
            default=0,
            metavar="SECONDS",
            help="First wait up to this long for the web server and a worker to be up.",
        )

    def handle(self, *args, port: int, wait: float, **options) -> None:
        address = f"http://127.0.0.1:{port}"
        problem = self.wait_until_up(address, wait) if wait else ""
        lines = [RULE, f"  LeadHunter is running: open {address}", ""]
        if problem:
            lines += [f"  Not everything is up yet: {problem}", ""]
        logins = demo_logins()
        if logins:
            lines.append(f"  Log in with a demo account, password {logins[0].password}:")
            lines += [f"    {login.username:<10} {login.role}" for login in logins]
        elif User.objects.filter(is_active=True).exists():
            lines.append("  Log in with your account.")
        else:
            lines.append(f"  No account yet: open {address} to create the first one.")
        lines += ["", f"  {emails_go()}"]
        if address != settings.SITE_URL:
            lines.append(f"  Links in emails point to {settings.SITE_URL}.")
        lines += ["  Ctrl-C stops LeadHunter.", RULE]
        self.stdout.write("\n".join(lines))

    @staticmethod
    def wait_until_up(address: str, seconds: float) -> str:
        """'' once /healthz says all is ok, else what it said last when time ran out."""
        deadline = time.monotonic() + seconds
        said = "the web server does not answer"
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{address}/healthz", timeout=5) as response:  # noqa: S310 - our own server
                    health = json.load(response)
            except urllib.error.HTTPError as error:
                health = json.load(error) if error.code == 503 else {"status": str(error.code)}
            except (OSError, ValueError):
                health = None
            if health is not None:
                if health.get("status") == "ok":
                    return ""
                down = [
                    name for name, state in health.items() if name != "status" and state != "ok"
                ]
                said = ", ".join(f"{name} {health[name]}" for name in down) or health["status"]
            time.sleep(0.5)
        return f"{said} (see /healthz)"
