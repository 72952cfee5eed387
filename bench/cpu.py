"""CPU seconds of a timed block: this process's, and the PostgreSQL backends' serving a database.

The machine the bench runs on is often shared, so wall times swing with everyone else's work;
CPU seconds spent by the job itself are the steadier measure. A backend's CPU is read from
/proc/<pid>/stat (utime + stime) of the server processes whose title names the database
(`postgres: <user> <database> …`): only when the server runs on this host (Linux), else None.
Backends opened and closed inside the block (a bulk rescore's writer connections) are sampled
every POLL_SECONDS while they live; what one spends after its last sample is missed (at most
one interval of it).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from types import TracebackType

POLL_SECONDS = 0.2
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def backend_cpu(database: str) -> dict[int, float]:
    """CPU seconds so far by pid of this host's PostgreSQL backends connected to `database`."""
    seconds = {}
    marker = f" {database} ".encode()
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else ():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes()
            if not title.startswith(b"postgres: ") or marker not in title:
                continue
            # Fields after the command's closing parenthesis: utime and stime are 14th and 15th.
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        seconds[int(entry.name)] = (int(fields[11]) + int(fields[12])) / _TICKS
    return seconds


class CpuMeter:
    """`with CpuMeter(database) as meter:` … then `meter.python` and `meter.database` seconds
    (`database` None when no backend of it was seen on this host)."""

    def __init__(self, database: str) -> None:
        self.database_name = database
        self.python = 0.0
        self.database: float | None = None
        self._start: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._poller_cpu = 0.0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="bench-cpu-meter", daemon=True)

    def __enter__(self) -> CpuMeter:
        self._start = backend_cpu(self.database_name)
        self._last = dict(self._start)
        self._python_start = time.process_time()
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._done.set()
        self._thread.join()
        self._sample()
        # The poller's own CPU (a /proc scan per interval) is not the job's.
        self.python = time.process_time() - self._python_start - self._poller_cpu
        if self._last:
            self.database = sum(
                seconds - self._start.get(pid, 0.0) for pid, seconds in self._last.items()
            )

    def _poll(self) -> None:
        while not self._done.wait(POLL_SECONDS):
            self._sample()
        self._poller_cpu = time.thread_time()

    def _sample(self) -> None:
        for pid, seconds in backend_cpu(self.database_name).items():
            self._last[pid] = max(seconds, self._last.get(pid, 0.0))
