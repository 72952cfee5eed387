from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ops.checks import State, overall, system_checks

# For cron, monitoring agents and container health checks.
EXIT_CODES = {State.OK: 0, State.WARNING: 1, State.PROBLEM: 2}


class Command(BaseCommand):
    help = (
        "Check what a self-hosted LeadHunter needs: database, broker, worker, beat, the nightly "
        "rescore, pending and failed emails, migrations and the newest backup; one line each, "
        "with what to do. Exit status: 0 all ok, 1 a warning (works, look soon), 2 a problem "
        "(something is not working)."
    )

    def handle(self, *args, **options) -> None:
        checks = system_checks()
        width = max(len(check.name) for check in checks)
        for check in checks:
            label = check.state.value if check.state == State.OK else check.state.value.upper()
            self.stdout.write(f"{label:<8} {check.name:<{width}}  {check.found}")
            if check.todo:
                self.stdout.write(f"{'':<8} {'':<{width}}  → {check.todo}")
        worst = overall(checks)
        stamp = timezone.now().strftime("%Y-%m-%d %H:%M UTC")
        if worst == State.OK:
            self.stdout.write(f"All ok ({stamp}).")
            return
        counts = {state: sum(check.state == state for check in checks) for state in State}
        summary = ", ".join(
            f"{counts[state]} {state.value}{'' if counts[state] == 1 else 's'}"
            for state in (State.PROBLEM, State.WARNING)
            if counts[state]
        )
        raise CommandError(f"Needs attention: {summary} ({stamp}).", returncode=EXIT_CODES[worst])
