#!/usr/bin/env python
"""Django's command-line utility for LeadHunter."""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadhunter.settings")
    # The settings `make run` serves with, so a command typed in another terminal uses the same
    # database, DEBUG and SITE_URL (never in production: see leadhunter/run_env.py).
    from leadhunter import run_env

    run_env.load()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
