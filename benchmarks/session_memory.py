"""Peak resident memory of every process a command starts, by role (daemon, code server, run
worker, CLI), for the benchmarks.

A command started with ``start_new_session=True`` leads its own session; everything it starts
(the daemon's code server, the run workers the code server spawns) stays in that session unless it
leaves on purpose. A thread reads ``/proc`` every ``interval`` seconds and keeps, per process, the
kernel's own high-water mark (``VmHWM``: the largest resident set the process ever had). The mark
only grows, so a process's peak is missed only if it grows in its last ``interval`` before exiting.
Linux only.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

PROC = Path("/proc")


def role_of(command_line: str, parent_role: str = "") -> str:
    """What a process of a ``sparkify`` session is, from its command line and its parent's role
    ("" once it exited). The code server starts each run worker as a ``multiprocessing`` child
    (``spawn_main``), its resource tracker likewise."""
    if not command_line:
        return ""
    if "resource_tracker" in command_line:
        return "helper"
    if "dagster-daemon" in command_line:
        return "daemon"
    if "api grpc" in command_line or "code-server" in command_line:
        return "code server"
    if "execute_run" in command_line or "execute_step" in command_line:
        return "run worker"
    if "spawn_main" in command_line and parent_role == "code server":
        return "run worker"
    if "postgres" in command_line.split(" ", 1)[0]:
        return "postgres"
    return "command"


def _parent_and_session(pid: str) -> tuple[int, int] | None:
    try:
        stat = (PROC / pid / "stat").read_text()
    except OSError:
        return None
    # pid (comm) state ppid pgrp session ...: comm may hold spaces and parentheses.
    fields = stat.rsplit(")", 1)[1].split()
    return int(fields[1]), int(fields[3])


def _peak_kib(pid: str) -> int | None:
    try:
        for line in (PROC / pid / "status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _command_line(pid: str) -> str:
    try:
        return (PROC / pid / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


@dataclass
class SessionMemory:
    """Samples the session led by ``session`` (a pid) until ``stop()``."""

    session: int
    interval: float = 0.2
    peaks_kib: dict[int, int] = field(default_factory=dict)
    roles: dict[int, str] = field(default_factory=dict)
    _stopped: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> SessionMemory:
        self._thread = threading.Thread(target=self._sample_until_stopped, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join()
        self.sample()

    def _sample_until_stopped(self) -> None:
        while not self._stopped.wait(self.interval):
            self.sample()

    def sample(self) -> None:
        members: dict[int, int] = {}  # pid -> parent pid
        for entry in PROC.iterdir():
            if entry.name.isdigit():
                found = _parent_and_session(entry.name)
                if found is not None and found[1] == self.session:
                    members[int(entry.name)] = found[0]
        for pid in sorted(members):  # parents (lower pids, mostly) before their children
            peak = _peak_kib(str(pid))
            if peak is None:
                continue
            # Read each time: `sparkify daemon` becomes `dagster-daemon` (exec) in the same process.
            parent_role = self.roles.get(members[pid], "")
            role = role_of(_command_line(str(pid)), parent_role)
            self.roles[pid] = role or self.roles.get(pid, "")
            self.peaks_kib[pid] = max(peak, self.peaks_kib.get(pid, 0))

    def peak_mb_by_role(self) -> dict[str, float]:
        """The largest peak of any process of each role, in MB (PostgreSQL servers left out)."""
        peaks: dict[str, float] = {}
        for pid, kib in self.peaks_kib.items():
            role = self.roles[pid] or "command"
            if role not in ("postgres", "helper"):
                peaks[role] = max(peaks.get(role, 0.0), kib / 1024)
        return peaks

    def processes_of(self, role: str) -> int:
        return sum(1 for r in self.roles.values() if r == role)
