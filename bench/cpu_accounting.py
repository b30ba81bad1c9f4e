"""Where the CPU went during a bench phase, and the throughput and latency tables.

A server's CPU is its process's plus its live descendants' (the workers of `--workers N`); the
PostgreSQL figures are the backends serving the bench's database and all postgres processes.
A snapshot misses the CPU of backends that exit between two snapshots (a pool's overflow
connections, closed when returned): `BackendWatch` samples them while a phase runs instead.
"""

from __future__ import annotations

import contextlib
import math
import os
import statistics
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import psutil


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process and its live descendants (a server's workers)."""
    root = psutil.Process(pid)
    total = 0.0
    for process in [root, *root.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            total += float(times.user + times.system)
    return total


def postgres_cpu(database: str | None) -> tuple[dict[int, float], dict[int, float]]:
    """CPU seconds of the backends serving `database`, and of every postgres process, by pid."""
    backends: dict[int, float] = {}
    everything: dict[int, float] = {}
    for process in psutil.process_iter(["name", "cmdline", "cpu_times"]):
        info = process.info
        if info.get("name") != "postgres" or info.get("cpu_times") is None:
            continue
        seconds = float(info["cpu_times"].user + info["cpu_times"].system)
        everything[process.pid] = seconds
        if database and database in " ".join(info.get("cmdline") or []):
            backends[process.pid] = seconds
    return backends, everything


def _grown(before: Mapping[int, float], after: Mapping[int, float]) -> float:
    """CPU used between two snapshots (processes that exited in between are not counted)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


class BackendWatch:
    """CPU of one database's backends over a phase, sampled so that exited backends count.

    A backend's last sample stands for it once it is gone, so one that exits loses at most
    its last `interval`; one born and gone between two samples is missed. Each sample lists
    /proc and reads only the processes it has not classified yet, plus the backends (a fresh
    backend wears the postmaster's command line until it names its database: it is looked at
    again until it does).
    """

    def __init__(self, database: str, interval: float = 0.05) -> None:
        self.database = database
        self.interval = interval
        self.start: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self._backends: dict[int, psutil.Process] = {}
        self._others: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="backend-watch", daemon=True)

    def _sample(self) -> None:
        for pid in psutil.pids():
            if pid in self._others or pid in self._backends:
                continue
            try:
                process = psutil.Process(pid)
                title = " ".join(process.cmdline()) if process.name() == "postgres" else ""
            except psutil.Error:
                continue
            if self.database in title:
                self._backends[pid] = process
            elif title.startswith("postgres: ") or not title:
                self._others.add(pid)
            # else: a postgres process not yet retitled (a fresh backend): look again next time
        for pid, process in list(self._backends.items()):
            try:
                times = process.cpu_times()
            except psutil.Error:
                del self._backends[pid]  # gone: its last sample stands
                continue
            self.last[pid] = float(times.user + times.system)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> BackendWatch:
        self._sample()
        self.start = dict(self.last)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    @property
    def used(self) -> float:
        """CPU seconds of the database's backends between entering and leaving."""
        return sum(seconds - self.start.get(pid, 0.0) for pid, seconds in self.last.items())

    @property
    def churn(self) -> tuple[int, int]:
        """Backends that started, and that ended, during the phase."""
        return len(set(self.last) - set(self.start)), len(set(self.last) - set(self._backends))


def machine_busy() -> tuple[float, float]:
    """Busy and total CPU seconds of the whole machine so far."""
    times = psutil.cpu_times()
    # Linux counts guest time inside user time too.
    guest = getattr(times, "guest", 0.0) + getattr(times, "guest_nice", 0.0)
    total = float(sum(times) - guest)
    idle = float(times.idle + getattr(times, "iowait", 0.0))
    return total - idle, total


@dataclass
class CpuSnapshot:
    """CPU counters at one moment."""

    server: float
    client: float
    backends: dict[int, float]
    postgres: dict[int, float]
    busy: float
    total: float

    @classmethod
    def take(cls, server_pid: int | None, database: str | None) -> CpuSnapshot:
        """Read every counter now."""
        backends, everything = postgres_cpu(database)
        busy, total = machine_busy()
        return cls(
            server=process_cpu(server_pid) if server_pid else 0.0,
            client=time.process_time(),
            backends=backends,
            postgres=everything,
            busy=busy,
            total=total,
        )


# --- reporting -------------------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    """The `fraction` quantile (nearest rank)."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1))
    return ordered[rank]


def print_throughput(
    latencies: Mapping[str, list[float]], cases: int, seconds: float, completions: int
) -> None:
    """Cases/s, commands/s and the latency table."""
    commands = cases * (1 + completions)
    print(
        f"\nmeasured: {cases} cases ({commands} mutations) in {seconds:.2f} s -> "
        f"{cases / seconds:.1f} cases/s, {commands / seconds:.1f} commands/s"
    )
    header = f"{'mutation':<18} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'mean ms':>8}"
    print(header)
    print("-" * len(header))
    rows = [(kind, values) for kind, values in latencies.items()]
    completes = [
        v for kind, values in latencies.items() if kind.startswith("complete") for v in values
    ]
    if completes:
        rows.append(("complete (all)", completes))
    for kind, values in rows:
        print(
            f"{kind:<18} {len(values):>5} {percentile(values, 0.5) * 1000:>8.1f} "
            f"{percentile(values, 0.95) * 1000:>8.1f} {max(values) * 1000:>8.1f} "
            f"{statistics.fmean(values) * 1000:>8.1f}"
        )


def print_cpu(
    before: CpuSnapshot,
    after: CpuSnapshot,
    cases: int,
    seconds: float,
    completions: int,
    *,
    in_process: bool,
    workers: int = 1,
) -> None:
    """Where the CPU went during the measured phase (a server's: summed over its workers)."""
    commands = cases * (1 + completions)
    cpus = os.cpu_count() or 1
    rows: list[tuple[str, float | None]] = []
    if not in_process:
        label = f"server (uvicorn, {workers} worker{'s' if workers > 1 else ''}, summed)"
        rows.append((label, after.server - before.server))
    rows += [
        ("PostgreSQL backends of this database", _grown(before.backends, after.backends) or None),
        ("PostgreSQL, all processes", _grown(before.postgres, after.postgres) or None),
        (
            "bench process (client + app)" if in_process else "bench client (this process)",
            after.client - before.client,
        ),
    ]
    print(f"\nCPU during the measured phase ({cpus} CPUs on this machine)")
    header = f"{'':<38} {'CPU s':>7} {'ms/case':>8} {'ms/command':>11} {'% of a core':>12}"
    print(header)
    print("-" * len(header))
    for label, used in rows:
        if used is None:
            print(f"{label:<38} {'n/a':>7}")
            continue
        print(
            f"{label:<38} {used:>7.2f} {used / cases * 1000:>8.1f} "
            f"{used / commands * 1000:>11.2f} {used / seconds * 100:>11.0f}%"
        )
    busy = (after.busy - before.busy) / max(after.total - before.total, 1e-9)
    print(f"machine busy: {busy * 100:.0f}% of all {cpus} CPUs")
