"""CPU time of processes and of the whole machine, read from Linux's /proc.

The machine the bench runs on is often shared, so wall times swing with everyone else's work;
CPU seconds spent by the job itself are the steadier measure. The throughput bench runs the
client, gunicorn and PostgreSQL on the same cores, so requests per second alone do not say who
used the CPU: these readings split it into the server's workers, the database backends that
serve them, the client (this process) and everything else. The rescore bench reads its own
CPU and its database's backends' (`CpuMeter`). Off Linux (no /proc) every reading is None and
the bench prints no split.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

PROC = Path("/proc")
# How often CpuMeter looks for the database's backends while its block runs.
POLL_SECONDS = 0.2
# utime and stime are fields 14 and 15 of /proc/<pid>/stat, counted in clock ticks.
TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def parse_stat(line: str) -> tuple[int, float]:
    """(parent pid, utime + stime in seconds) from one /proc/<pid>/stat line.

    The command name (field 2) is in parentheses and may hold spaces or parentheses itself,
    so the fields are counted from the last ")".
    """
    fields = line[line.rindex(")") + 2 :].split()
    # fields[0] is field 3 (state): the parent pid is field 4, utime and stime 14 and 15.
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS_PER_SECOND


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds a live process has used; None when it is gone."""
    try:
        return parse_stat((PROC / str(pid) / "stat").read_text())[1]
    except (OSError, ValueError, IndexError):
        return None


def children_of(pid: int) -> list[int]:
    """The live processes whose parent is `pid` (gunicorn's workers are its master's)."""
    children = []
    for entry in PROC.iterdir() if PROC.is_dir() else ():
        if not entry.name.isdigit():
            continue
        try:
            parent, _ = parse_stat((entry / "stat").read_text())
        except (OSError, ValueError, IndexError):
            continue
        if parent == pid:
            children.append(int(entry.name))
    return sorted(children)


def machine_busy_seconds() -> float | None:
    """CPU seconds all cores have spent not idle since boot (the "cpu" line of /proc/stat):
    user, nice, system, irq, softirq and steal; idle and iowait are not busy."""
    try:
        first = (PROC / "stat").read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in first[1:9])
    return (user + nice + system + irq + softirq + steal) / TICKS_PER_SECOND


@dataclass
class ProcessGroupCpu:
    """CPU used by a changing set of processes between a start and a stop.

    `observe` may be called between them as often as processes come and go (a database
    backend is replaced when its connection reaches its maximum age): a process first seen
    after the start counts from zero (it started in between), and one that is gone by the stop
    keeps its last reading, so only its work since the last observation is missed.
    """

    baseline: dict[int, float] = field(default_factory=dict)
    last: dict[int, float] = field(default_factory=dict)
    gone: int = 0

    @classmethod
    def start(cls, pids: list[int]) -> ProcessGroupCpu:
        group = cls()
        for pid in pids:
            cpu = process_cpu_seconds(pid)
            if cpu is not None:
                group.baseline[pid] = group.last[pid] = cpu
        return group

    def observe(self, pids: list[int]) -> None:
        for pid in set(pids) | set(self.last):
            cpu = process_cpu_seconds(pid)
            if cpu is not None:
                self.baseline.setdefault(pid, 0.0)
                self.last[pid] = cpu

    def stop(self, pids: list[int]) -> ProcessGroupCpu:
        self.observe(pids)
        self.gone = sum(1 for pid in self.last if process_cpu_seconds(pid) is None)
        return self

    @property
    def seconds(self) -> float:
        return sum(cpu - self.baseline[pid] for pid, cpu in self.last.items())


def backend_pids(database: str) -> list[int]:
    """This host's PostgreSQL backends connected to `database`: their process titles name it
    (`postgres: <user> <database> …`), so no query is needed to find them."""
    marker = f" {database} ".encode()
    pids = []
    for entry in PROC.iterdir() if PROC.is_dir() else ():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes()
        except OSError:  # the process ended meanwhile
            continue
        if title.startswith(b"postgres: ") and marker in title:
            pids.append(int(entry.name))
    return pids


class CpuMeter:
    """`with CpuMeter(database) as meter:` … then `meter.python` (this process) and
    `meter.database` (the backends of `database` on this host; None when none was seen).

    Backends opened and closed inside the block (a bulk rescore's writer connections) are
    looked for every POLL_SECONDS while they live (`ProcessGroupCpu.observe`)."""

    def __init__(self, database: str) -> None:
        self.database_name = database
        self.python = 0.0
        self.database: float | None = None
        self._backends = ProcessGroupCpu()
        self._python_start = 0.0
        self._poller_cpu = 0.0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="bench-cpu-meter", daemon=True)

    def __enter__(self) -> CpuMeter:
        self._backends = ProcessGroupCpu.start(backend_pids(self.database_name))
        self._python_start = time.process_time()
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._done.set()
        self._thread.join()
        self._backends.stop(backend_pids(self.database_name))
        # The poller's own CPU (a /proc scan per interval) is not the job's.
        self.python = time.process_time() - self._python_start - self._poller_cpu
        if self._backends.last:
            self.database = self._backends.seconds

    def _poll(self) -> None:
        while not self._done.wait(POLL_SECONDS):
            self._backends.observe(backend_pids(self.database_name))
        self._poller_cpu = time.thread_time()
