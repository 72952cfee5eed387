"""`make run`'s bin/serve: the web server and beat outlive a dead worker, which comes back."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from ops.models import WorkerHeartbeat
from tests.trust.conftest import database_url_for_workers
from tests.waiting import wait_for

pytestmark = pytest.mark.worker


def children(pid: int) -> dict[int, str]:
    """The processes whose parent is `pid`, with their command lines."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid:
            found[int(entry.name)] = command
    return found


def descendants(pid: int) -> dict[int, str]:
    found = children(pid)
    for child in list(found):
        found.update(descendants(child))
    return found


def celery_main(root: int, kind: str) -> int | None:
    """The main process of `celery worker` or `celery beat`: the one not forked by another."""
    tree = descendants(root)
    celery = {
        pid
        for pid, command in tree.items()
        if re.search(rf"/celery (--quiet )?-A leadhunter {kind} ", command)
    }
    for pid in celery:
        if not any(pid in children(other) for other in celery):
            return pid
    return None


def running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def healthz(port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


@pytest.fixture
def serve(transactional_db, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "DEBUG": "true",
        "PORT": str(port),
        "DATA_DIR": str(tmp_path),  # its own filesystem broker: the test is about processes
        "DATABASE_URL": database_url_for_workers(),
        "WORKER_HEARTBEAT_INTERVAL": "1",
        "WEB_CONCURRENCY": "1",
        "CELERY_WORKER_CONCURRENCY": "1",
    }
    env.pop("REDIS_URL", None)
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - our own script
            [str(Path(settings.BASE_DIR) / "bin" / "serve")],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    process.port = port
    process.log = log
    yield process
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def test_a_killed_worker_is_restarted_and_the_web_server_and_beat_keep_running(serve):
    def output() -> str:
        return serve.log.read_text(errors="replace")

    def consuming_pids() -> set[int]:
        return set(WorkerHeartbeat.objects.filter(consuming=True).values_list("pid", flat=True))

    assert wait_for(lambda: healthz(serve.port) == 200, timeout=90), output()
    worker = celery_main(serve.pid, "worker")
    beat = celery_main(serve.pid, "beat")
    assert worker, descendants(serve.pid)
    assert beat, descendants(serve.pid)
    assert wait_for(lambda: worker in consuming_pids(), timeout=90), output()

    os.kill(worker, signal.SIGKILL)

    def restarted() -> int | None:
        pid = celery_main(serve.pid, "worker")
        return pid if pid not in (None, worker) else None

    assert wait_for(restarted, timeout=30), output()
    assert wait_for(lambda: restarted() in consuming_pids(), timeout=90), output()
    assert healthz(serve.port) == 200
    assert celery_main(serve.pid, "beat") == beat
    assert serve.poll() is None
    assert "restarting it (after 1 s)" in output()

    # TERM (what Ctrl-C in a terminal amounts to) still stops everything.
    everything = descendants(serve.pid)
    os.kill(serve.pid, signal.SIGTERM)
    serve.wait(timeout=30)
    assert wait_for(lambda: not [pid for pid in everything if running(pid)], timeout=30)
    assert healthz(serve.port) == 0
