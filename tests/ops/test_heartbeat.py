"""The worker's heartbeat thread (ops/heartbeat.py) and the pool processes its worker forks."""

from __future__ import annotations

import os
import threading
import time
from types import SimpleNamespace

from django.contrib.auth.models import Group
from django.db import connection, transaction

from ops import heartbeat as heartbeat_module
from ops import services
from ops.heartbeat import Heartbeat, fork_guard
from ops.models import WorkerHeartbeat


def write_from_a_forked_process(name: str) -> int:
    """Fork as the worker does for a new pool process; the child writes a row. Its exit code."""
    pid = os.fork()
    if pid == 0:
        exit_code = 1
        try:
            # The child's own connection (never the parent's), as Celery's Django fixup does; it
            # gives up after 3 s instead of 30 when the database says it is locked.
            connection.connection = None
            connection.settings_dict["OPTIONS"] = {
                **connection.settings_dict["OPTIONS"],
                **({"timeout": 3} if connection.vendor == "sqlite" else {}),
            }
            Group.objects.create(name=name)
            exit_code = 0
        finally:
            os._exit(exit_code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def test_a_pool_process_forked_during_a_beat_can_write(transactional_db, monkeypatch):
    inside_the_write = threading.Event()
    record = services.worker_heartbeat_record

    def slow_record(**beat):
        with transaction.atomic():
            heartbeat = record(**beat)
            inside_the_write.set()
            time.sleep(0.5)  # the fork below lands here, unless it waits for the beat
        return heartbeat

    monkeypatch.setattr(services, "worker_heartbeat_record", slow_record)
    worker = SimpleNamespace(hostname="fork-test@host")
    step = Heartbeat(worker)
    step.start(worker)
    try:
        assert inside_the_write.wait(timeout=10)
        exit_code = write_from_a_forked_process("written-by-a-forked-process")
    finally:
        step.stop(worker)

    assert exit_code == 0
    assert Group.objects.filter(name="written-by-a-forked-process").exists()
    assert not WorkerHeartbeat.objects.exists()  # a clean stop forgets the worker


def test_a_fork_waits_for_a_stuck_beat_no_longer_than_its_bound(transactional_db, monkeypatch):
    inside_the_beat = threading.Event()
    record = services.worker_heartbeat_record

    def stuck_record(**beat):
        heartbeat = record(**beat)
        inside_the_beat.set()
        time.sleep(5)  # a database that does not answer, say
        return heartbeat

    monkeypatch.setattr(services, "worker_heartbeat_record", stuck_record)
    monkeypatch.setattr(heartbeat_module, "FORK_WAITS_FOR_A_BEAT_SECONDS", 0.5)
    worker = SimpleNamespace(hostname="stuck-beat@host")
    step = Heartbeat(worker)
    step.start(worker)
    try:
        assert inside_the_beat.wait(timeout=10)
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        waited = time.monotonic() - started
        _, status = os.waitpid(pid, 0)
    finally:
        step.stop(worker)

    assert os.waitstatus_to_exitcode(status) == 0
    assert 0.4 < waited < 3
    assert fork_guard.lock.acquire(timeout=1)  # the beat let go of it after all
    fork_guard.lock.release()
