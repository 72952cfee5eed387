"""The worker's heartbeat: two Celery bootsteps, added to the app in leadhunter/celery.py.

`Heartbeat` (a worker step) runs a thread that writes this worker's row (ops.WorkerHeartbeat)
every WORKER_HEARTBEAT_INTERVAL seconds, also while the broker is away, and deletes it on a
clean shutdown. `Consuming` (a consumer step) tells it whether the worker is taking tasks: the
consumer starts its steps once connected to the broker and stops them when the connection is
lost, so the row says `consuming=False` for as long as the worker is reconnecting.

The worker's main process forks pool processes whenever one is replaced (after a task was
terminated, e.g. on a broker connection loss). A process forked while this thread is inside a
SQLite write transaction inherits the lock in SQLite's in-memory state and can never write
("database is locked" after the busy timeout; sqlite.org/howtocorrupt.html, 2.6). So each beat
opens its own connection and closes it, and a fork waits until the beat is done, for a while:
a beat stuck on a database that does not answer must not stop the worker replacing its pool
processes (nor can a fork made while another is being prepared wait on itself).
"""

from __future__ import annotations

import logging
import os
import threading

from celery import bootsteps
from django.conf import settings
from django.db import connection
from django.utils import timezone

logger = logging.getLogger(__name__)


class _State:
    """One worker per process: what the two steps share."""

    def __init__(self) -> None:
        self.consuming = False
        self.changed = threading.Event()


state = _State()

# A beat takes milliseconds; SQLite's busy timeout is 30 s.
FORK_WAITS_FOR_A_BEAT_SECONDS = 10.0


class _ForkGuard:
    """Keeps forks out of a beat: a beat holds the lock, a fork waits for it, boundedly."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._forking = threading.local()  # per forking thread: did each pending fork get it?

    def before_fork(self) -> None:
        held = self.lock.acquire(timeout=FORK_WAITS_FOR_A_BEAT_SECONDS)
        self._forking.held = [*getattr(self._forking, "held", []), held]

    def after_fork(self) -> None:
        # In the parent and in the child alike (the child's copy of the lock is held too).
        if self._forking.held.pop():
            self.lock.release()


fork_guard = _ForkGuard()
os.register_at_fork(
    before=fork_guard.before_fork,
    after_in_parent=fork_guard.after_fork,
    after_in_child=fork_guard.after_fork,
)


class Heartbeat(bootsteps.StartStopStep):
    label = "Heartbeat (database)"
    # After the pool has forked its processes: they need no copy of this thread's connection.
    requires = ("celery.worker.components:Pool",)

    def __init__(self, worker, **kwargs) -> None:
        super().__init__(worker, **kwargs)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._hostname = ""
        self._started_at = timezone.now()

    def start(self, worker) -> None:
        self._hostname = worker.hostname
        self._started_at = timezone.now()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="db-heartbeat", daemon=True)
        self._thread.start()

    def stop(self, worker) -> None:
        if self._thread is None:
            return
        self._stop.set()
        state.changed.set()
        self._thread.join(timeout=10)
        self._thread = None
        try:
            from ops.services import worker_heartbeat_forget

            worker_heartbeat_forget(hostname=self._hostname, pid=os.getpid())
        except Exception:
            logger.warning("Could not remove the heartbeat of %s", self._hostname, exc_info=True)
        finally:
            connection.close()  # the worker is stopping: leave no session open on the server

    terminate = stop  # the worker blueprint's cold shutdown (consumer steps get `shutdown`)

    def _run(self) -> None:
        while not self._stop.is_set():
            state.changed.clear()
            try:
                self._beat()
            except Exception as error:  # the database is away: try again next beat
                logger.warning("Could not write the worker heartbeat: %r", error)
            state.changed.wait(settings.WORKER_HEARTBEAT_INTERVAL)

    def _beat(self) -> None:
        from ops.services import worker_heartbeat_record

        with fork_guard.lock:
            try:
                worker_heartbeat_record(
                    hostname=self._hostname,
                    pid=os.getpid(),
                    started_at=self._started_at,
                    consuming=state.consuming,
                )
            finally:
                connection.close()


class Consuming(bootsteps.StartStopStep):
    label = "Heartbeat (consuming)"
    requires = ("celery.worker.consumer.tasks:Tasks",)

    def start(self, consumer) -> None:
        self._set(True)

    def stop(self, consumer) -> None:
        self._set(False)

    shutdown = stop

    @staticmethod
    def _set(consuming: bool) -> None:
        if state.consuming != consuming:
            state.consuming = consuming
            state.changed.set()  # written at once, not at the next beat
