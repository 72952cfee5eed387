"""CPU time of processes and of the whole machine, read from Linux's /proc.

The throughput bench runs the client, gunicorn and PostgreSQL on the same cores, so requests
per second alone do not say who used the CPU: these readings split it into the server's
workers, the database backends that serve them, the client (this process) and everything else.
Off Linux (no /proc) every reading is None and the bench prints no split.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PROC = Path("/proc")
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
