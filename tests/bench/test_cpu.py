"""bench/cpu.py: the CPU readings that split the throughput run between server, database and
client (Linux /proc)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from bench import cpu

pytestmark = pytest.mark.skipif(not cpu.PROC.joinpath("stat").exists(), reason="Linux /proc")


SPIN_THEN_SLEEP = """
import time
started = time.process_time()
while time.process_time() - started < 0.4:
    pass
print("spun", flush=True)
time.sleep(30)
"""


def _spin(seconds: float) -> None:
    started = time.process_time()
    while time.process_time() - started < seconds:
        pass


def test_a_stat_line_is_read_past_a_command_name_with_spaces_and_parentheses():
    ticks = cpu.TICKS_PER_SECOND
    line = f"4242 (gunicorn: (worker) x) S 17 4242 17 0 -1 4194560 1 0 0 0 {3 * ticks} {ticks} 0 0"

    assert cpu.parse_stat(line) == (17, 4.0)


def test_this_process_cpu_grows_by_the_work_it_does():
    before = cpu.process_cpu_seconds(os.getpid())
    _spin(0.3)
    after = cpu.process_cpu_seconds(os.getpid())

    assert before is not None
    assert after is not None
    assert 0.2 <= after - before <= 1.0


def test_a_finished_process_has_no_reading():
    child = subprocess.run([sys.executable, "-c", "pass"], check=True)
    assert child.returncode == 0
    assert cpu.process_cpu_seconds(2**22 + 1) is None


def test_a_group_counts_its_children_work_and_those_started_in_between():
    idle = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert idle.pid in cpu.children_of(os.getpid())
        group = cpu.ProcessGroupCpu.start(cpu.children_of(os.getpid()))
        # It says "spun" once it has used 0.4 s of CPU, however busy the machine is.
        busy = subprocess.Popen(  # noqa: S603
            [sys.executable, "-c", SPIN_THEN_SLEEP], stdout=subprocess.PIPE, text=True
        )
        try:
            assert busy.stdout is not None
            assert busy.stdout.readline().strip() == "spun"
            group.stop(cpu.children_of(os.getpid()))
        finally:
            busy.kill()
            busy.wait()
    finally:
        idle.kill()
        idle.wait()

    assert 0.35 <= group.seconds <= 1.5
    assert group.gone == 0


def test_the_machine_busy_time_counts_this_process_work():
    before = cpu.machine_busy_seconds()
    _spin(0.3)
    after = cpu.machine_busy_seconds()

    assert before is not None
    assert after is not None
    assert after - before >= 0.25


def test_a_process_gone_before_the_stop_keeps_the_work_it_was_seen_doing():
    busy = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", SPIN_THEN_SLEEP], stdout=subprocess.PIPE, text=True
    )
    try:
        group = cpu.ProcessGroupCpu.start([])
        assert busy.stdout is not None
        assert busy.stdout.readline().strip() == "spun"
        group.observe([busy.pid])
    finally:
        busy.kill()
        busy.wait()
    group.stop([])

    assert group.gone == 1
    assert 0.35 <= group.seconds <= 1.5
