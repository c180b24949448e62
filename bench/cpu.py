"""CPU time of the bench process, the API server process and PostgreSQL, read from Linux /proc.

Where a figure cannot be read (another OS, or a PostgreSQL on another machine), it is None.
PostgreSQL's time is the postmaster's, its reaped children's and its live backends'.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class Cpu:
    """CPU seconds (user + system) of each party, or None where unknown."""

    bench: float
    server: float | None
    postgres: float | None
    machine: float | None = None  # every process on the machine, ours included

    def __sub__(self, other: Cpu) -> Cpu:
        return Cpu(
            self.bench - other.bench,
            _minus(self.server, other.server),
            _minus(self.postgres, other.postgres),
            _minus(self.machine, other.machine),
        )

    @property
    def ours(self) -> float:
        """CPU seconds of the bench, the server and PostgreSQL together (those known)."""
        return sum(p for p in (self.bench, self.server, self.postgres) if p is not None)


class CpuMeter:
    """Reads the CPU time spent so far by this process, the server and PostgreSQL."""

    def __init__(self, dsn: str, server_pid: int | None = None) -> None:
        self.server_pid = server_pid
        self._postmaster = _postmaster_pid(dsn)

    def read(self) -> Cpu:
        server = _seconds(self.server_pid) if self.server_pid else None
        postgres = _postgres_seconds(self._postmaster) if self._postmaster else None
        return Cpu(time.process_time(), server, postgres, _machine_seconds())


def _minus(a: float | None, b: float | None) -> float | None:
    return a - b if a is not None and b is not None else None


def _machine_seconds() -> float | None:
    """CPU seconds all cores spent busy since boot (user, nice, system, irq, softirq, steal)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / TICKS


def _stat(pid: int | str) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (state, ppid, ...)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def _ticks(fields: list[str], children: bool = False) -> int:
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime of reaped children
    return ticks


def _seconds(pid: int) -> float | None:
    fields = _stat(pid)
    return _ticks(fields, children=True) / TICKS if fields else None


def process_tree_seconds(pid: int) -> float:
    """CPU seconds of process ``pid`` and of every live descendant (a server's workers)."""
    parents: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        fields = _stat(entry.name) if entry.name.isdigit() else None
        if fields is not None:
            parents[int(entry.name)] = int(fields[1])
    tree, ticks, grown = {pid}, 0, True
    while grown:
        born = {child for child, parent in parents.items() if parent in tree} - tree
        tree, grown = tree | born, bool(born)
    for member in tree:
        fields = _stat(member)
        ticks += _ticks(fields, children=True) if fields else 0
    return ticks / TICKS


def _postmaster_pid(dsn: str) -> int | None:
    with psycopg.connect(dsn) as conn:  # read while the backend lives
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
        backend = row[0] if row else 0
        fields = _stat(backend)
        try:
            command = Path(f"/proc/{backend}/cmdline").read_bytes()
        except OSError:
            return None
    if fields is None or b"postgres" not in command:
        return None  # not on this machine
    return int(fields[1])


def _postgres_seconds(postmaster: int) -> float | None:
    fields = _stat(postmaster)
    if fields is None:
        return None
    ticks = _ticks(fields, children=True)
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            child = _stat(entry.name)
            if child is not None and int(child[1]) == postmaster:
                ticks += _ticks(child)
    return ticks / TICKS
