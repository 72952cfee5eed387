"""Test-only hooks for a real Celery worker process, loaded with `celery worker -I` by the tests.

Nothing here is imported by the app. Environment variables switch on what a test needs:
- LH_TEST_SENDS_FILE: emails are "sent" by appending their Message-ID to this file (fsynced),
  instead of going to the configured backend;
- LH_TEST_CRASH_AFTER_SENDS=N: the worker kills itself (SIGKILL) right after the Nth send, i.e.
  after the SMTP server accepted the email and before the row was marked sent;
- LH_TEST_RESCORE_BATCH / LH_TEST_RESCORE_PAUSE: bulk rescoring in small, slow batches, so that
  a test can kill the worker between two of them;
- LH_TEST_RUNS_FILE: the poison task below records each start in it.

`slow_idempotent` is a task shaped like the app's (re-check, no-op when done) that takes a while,
for the broker-outage and lease tests.
"""

from __future__ import annotations

import functools
import os
import signal
import time

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend

from leadhunter.celery import app


class RecordingEmailBackend(BaseEmailBackend):
    """Records each accepted email as one line; optionally dies right after the Nth."""

    def send_messages(self, email_messages):
        path = os.environ["LH_TEST_SENDS_FILE"]
        crash_after = int(os.environ.get("LH_TEST_CRASH_AFTER_SENDS", "0"))
        for message in email_messages:
            with open(path, "a") as sends:
                sends.write(f"{message.extra_headers['Message-ID']}\n")
                sends.flush()
                os.fsync(sends.fileno())
            with open(path) as sends:
                sent_so_far = sum(1 for _ in sends)
            if crash_after and sent_so_far == crash_after:
                os.kill(os.getpid(), signal.SIGKILL)
        return len(email_messages)


@app.task(name="tests.trust.kill_own_process")
def kill_own_process() -> None:
    """A poison task: it takes its worker process down every time it runs."""
    with open(os.environ["LH_TEST_RUNS_FILE"], "a") as runs:
        runs.write("started\n")
        runs.flush()
        os.fsync(runs.fileno())
    os.kill(os.getpid(), signal.SIGKILL)


@app.task(name="tests.trust.touch")
def touch(path: str) -> None:
    """A harmless task that shows the worker is alive and consuming."""
    with open(path, "a") as marks:
        marks.write("ran\n")


@app.task(name="tests.trust.slow_idempotent")
def slow_idempotent(key: str, seconds: float, log: str) -> None:
    """Takes `seconds`, then does its one piece of work (a group named after `key`) unless a
    run before it did; records "started KEY", then "applied KEY" or "already done KEY"."""
    from django.contrib.auth.models import Group

    _record(log, f"started {key}")
    time.sleep(seconds)
    _, created = Group.objects.get_or_create(name=f"slow-{key}")
    _record(log, f"{'applied' if created else 'already done'} {key}")


def _record(path: str, line: str) -> None:
    with open(path, "a") as log:
        log.write(f"{line}\n")
        log.flush()
        os.fsync(log.fileno())


def _install() -> None:
    if os.environ.get("LH_TEST_SENDS_FILE"):
        settings.EMAIL_BACKEND = f"{__name__}.RecordingEmailBackend"
    if os.environ.get("LH_TEST_RESCORE_BATCH"):
        from icp import rescoring, tasks

        batch_size = int(os.environ["LH_TEST_RESCORE_BATCH"])
        pause = float(os.environ.get("LH_TEST_RESCORE_PAUSE", "0"))
        tasks.leads_rescore = functools.partial(rescoring.leads_rescore, batch_size=batch_size)
        write_batch = rescoring._rescore_batch

        def slow_batch(*args, **kwargs):
            outcome = write_batch(*args, **kwargs)
            time.sleep(pause)  # handed to the writer (on PostgreSQL a thread commits it): kill now
            return outcome

        rescoring._rescore_batch = slow_batch


_install()
