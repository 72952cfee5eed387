"""The one polling helper for tests that wait on another process (a Celery worker, a server
started from a checkout): `wait_for(condition)` instead of a hand-written sleep loop."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(condition: Callable[[], object], timeout: float = 30.0, step: float = 0.1) -> bool:
    """True as soon as `condition()` is truthy; after `timeout` seconds, whether it is now."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return bool(condition())
