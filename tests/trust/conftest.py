"""Real worker processes and the real broker, for the background-job guarantees.

A worker process is `celery -A leadhunter worker` in its own session, pointed at the test
database (the test's own, committed data: these tests use `transactional_db`) and at the same
broker as the test (Redis db of REDIS_URL, or the filesystem broker's folders under DATA_DIR).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from leadhunter.celery import app as celery_app
from tests.waiting import wait_for

QUEUE = "celery"
CELERY = str(Path(sys.executable).with_name("celery"))


def database_url_for_workers() -> str:
    """The URL of the database this test runs on, for another process."""
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
        return f"postgres://{auth}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    return f"sqlite://{Path(db['NAME']).resolve()}"


def uses_redis() -> bool:
    return settings.CELERY_BROKER_URL.startswith("redis")


def _redis():
    import redis

    return redis.Redis.from_url(settings.REDIS_URL)


def broker_queue_size() -> int:
    """Messages waiting in the default queue (not those a worker holds unacknowledged)."""
    with celery_app.connection_for_write() as conn:
        return conn.default_channel._size(QUEUE)


def broker_unacked() -> int:
    """Messages a worker took but never acknowledged (Redis keeps them to hand back)."""
    return _redis().hlen("unacked") if uses_redis() else 0


def broker_lose_everything() -> None:
    """What a Redis restart without persistence does: every message is gone.

    Redis: FLUSHDB of this test run's own database number only. Filesystem broker: the queue
    folder's files are deleted.
    """
    if uses_redis():
        _redis().flushdb()
        return
    queue_folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
    for message in queue_folder.iterdir():
        message.unlink()


def broker_hand_back_unacked() -> bool:
    """Let Redis hand back what a dead worker held, as it does once the visibility timeout
    (one hour) has passed: the entries are made an hour older. False on the filesystem broker,
    which has nothing to hand back (a message is deleted when it is received)."""
    if not uses_redis():
        return False
    client = _redis()
    timeout = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    for tag, score in client.zrange("unacked_index", 0, -1, withscores=True):
        client.zadd("unacked_index", {tag: score - timeout - 60})
    return True


def broker_reset() -> None:
    with celery_app.connection_for_write() as conn:
        conn.default_channel.queue_purge(QUEUE)
    if uses_redis():
        _redis().delete("unacked", "unacked_index", "unacked_mutex")


class WorkerProcess:
    """One `celery worker` process (and its pool children) in its own process group."""

    def __init__(self, log_dir: Path, env: dict[str, str], pool: str) -> None:
        self.name = f"trust-{uuid.uuid4().hex[:8]}@%h"
        self.log = log_dir / f"worker-{uuid.uuid4().hex[:6]}.log"
        command = [
            CELERY,
            "-A",
            "leadhunter",
            "worker",
            f"--pool={pool}",
            "--concurrency=1",
            "-I",
            "tests.trust.worker_hooks",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
            "--loglevel=INFO",
            "-n",
            self.name,
        ]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own command line
                command,
                cwd=settings.BASE_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """kill -9, as an OOM killer or a pulled plug would."""
        if self.alive:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self._reap_children()

    def _reap_children(self) -> None:
        # Pool children left behind by a killed parent are in the same process group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def output_with_stacks(self) -> str:
        """The log once the worker has written every thread's stack into it (Celery's SIGUSR1
        handler): for the message of a test that found the worker stuck."""
        if self.alive:
            os.kill(self.process.pid, signal.SIGUSR1)
            time.sleep(2)
        return self.output()


class RedisServer:
    """A throwaway redis-server of the test's own, on a free port, that the test may kill.

    It persists like the compose Redis (append-only file), with every write synced, so a
    kill -9 and a restart on the same folder bring back the queue and the unacked set.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [
            REDIS_SERVER,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "yes",
            "--appendfsync", "always",
            "--dir", str(self.directory),
        ]  # fmt: skip
        with (self.directory / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own command line
                command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        assert wait_for(self.answers, timeout=10), self.log()

    def answers(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_timeout=1).ping())
        except redis.ConnectionError:
            return False

    def kill(self) -> None:
        """kill -9: the server is gone at once, mid-command, as in a crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def log(self) -> str:
        path = self.directory / "redis.log"
        return path.read_text(errors="replace") if path.exists() else ""


REDIS_SERVER = shutil.which("redis-server")


@pytest.fixture
def redis_server(tmp_path) -> Iterator[RedisServer]:
    if REDIS_SERVER is None:
        pytest.fail("redis-server is not installed: apt-get install redis-server")
    directory = tmp_path / "redis"
    directory.mkdir()
    server = RedisServer(directory)
    server.start()
    yield server
    server.kill()


@pytest.fixture
def worker_process(transactional_db, tmp_path) -> Iterator[Callable[..., WorkerProcess]]:
    """Start real worker processes on the test database and broker; all are stopped after."""
    broker_reset()
    started: list[WorkerProcess] = []

    def start(pool: str = "solo", **hooks: str) -> WorkerProcess:
        env = {**os.environ, "DATABASE_URL": database_url_for_workers(), **hooks}
        env.setdefault("DJANGO_SETTINGS_MODULE", "leadhunter.settings")
        worker = WorkerProcess(tmp_path, env, pool)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.kill()  # a warm shutdown takes seconds; nothing is left to finish by now
    broker_reset()
