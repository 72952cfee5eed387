from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.template import TemplateSyntaxError
from django.template.loader import get_template


class Command(BaseCommand):
    help = "Compile every project template so a syntax error fails `make lint`."

    def handle(self, *args, **options) -> None:
        roots = [Path(folder) for folder in settings.TEMPLATES[0]["DIRS"]]
        roots += [
            Path(settings.BASE_DIR) / app / "templates"
            for app in ("leads", "referrals", "icp", "accounts")
        ]
        failures = []
        count = 0
        for root in roots:
            for template in sorted(root.rglob("*.html")) + sorted(root.rglob("*.txt")):
                count += 1
                try:
                    get_template(str(template.relative_to(root)))
                except TemplateSyntaxError as error:
                    failures.append(f"{template}: {error}")
        if failures:
            raise CommandError("\n".join(failures))
        self.stdout.write(f"{count} templates compile.")
