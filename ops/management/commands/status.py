from __future__ import annotations

from ops.management.commands.doctor import Command as Doctor


class Command(Doctor):
    help = "The same as `manage.py doctor` (this older name is kept for existing scripts)."
