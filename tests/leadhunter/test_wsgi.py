"""The WSGI entry point gunicorn loads."""

from __future__ import annotations

import os
import subprocess
import sys

from django.conf import settings


def test_the_objects_loaded_at_start_are_kept_out_of_the_collectors_walks():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "leadhunter.settings"}
    script = (
        "import gc, leadhunter.wsgi as wsgi; "
        "print(callable(wsgi.application), gc.get_freeze_count() > 10_000)"
    )
    result = subprocess.run(  # noqa: S603 - our own module, in this interpreter
        [sys.executable, "-c", script],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )

    assert result.stdout.split() == ["True", "True"]
