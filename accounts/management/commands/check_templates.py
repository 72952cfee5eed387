from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.template import TemplateSyntaxError
from django.template.loader import get_template


class Command(BaseCommand):
    help = (
        "Compile every project template so a syntax error fails `make lint`; a {# comment #} "
        "that spans lines (Django prints it as text) fails it too."
    )

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
                failures += [
                    f"{template}:{number}: a {{# comment #}} must close on the line it opens; "
                    "use {% comment %} for one that spans lines"
                    for number, line in enumerate(template.read_text().splitlines(), start=1)
                    if "{#" in line and "#}" not in line.split("{#", 1)[1]
                ]
        if failures:
            raise CommandError("\n".join(failures))
        self.stdout.write(f"{count} templates compile.")
