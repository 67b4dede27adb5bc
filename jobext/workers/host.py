"""The machine a worker runs on: who it is (host name, machine key, platform) and how busy it is
(memory and CPU, sampled with psutil).

Sampling reads ``/proc`` (the server's process tree among it): call :meth:`HostSampler.sample`
off the event loop (``await db.off_loop(sampler.sample)``).
"""

from __future__ import annotations

import dataclasses
import functools
import os
import platform
import socket
import time
from pathlib import Path
from typing import Any

import psutil


@functools.cache
def machine_key() -> str:
    """What tells this machine and PID namespace from any other: the kernel's boot id and the
    PID namespace's inode (empty parts where the system does not show them)."""
    parts = []
    try:
        parts.append(Path("/proc/sys/kernel/random/boot_id").read_text().strip()[:8])
    except OSError:
        parts.append("")
    try:
        parts.append(os.readlink("/proc/self/ns/pid").strip("pid:[]"))
    except OSError:
        parts.append("")
    return "-".join(p for p in parts if p)


@dataclasses.dataclass(frozen=True)
class Host:
    """A worker's machine as the database records it."""

    #: The host name shown (the machine's, or the one configured).
    name: str
    #: The name qualified by :func:`machine_key` when the name is the machine's own: workers
    #: with equal ``machine`` run on this very machine, in one PID namespace (containers that
    #: share a host name and pids are told apart). A configured name is taken as it is.
    machine: str
    os_name: str
    os_version: str
    cpu_arch: str
    cpu_cores: int | None

    @classmethod
    def this(cls, configured_name: str | None = None) -> Host:
        """This machine; ``configured_name`` overrides its host name."""
        name = configured_name or socket.gethostname()
        key = machine_key()
        return cls(
            name=name,
            machine=f"{name}@{key}" if key and not configured_name else name,
            os_name=platform.system(),
            os_version=platform.release(),
            cpu_arch=platform.machine(),
            cpu_cores=os.cpu_count(),
        )


def _tree_cpu_s(root: psutil.Process) -> float:
    """CPU seconds used by ``root`` and every process under it, living or reaped: each living
    process's own time plus what it collected from its reaped children."""
    total = 0.0
    try:
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        processes = [root]
    for proc in processes:
        try:
            t = proc.cpu_times()
        except psutil.Error:
            continue  # ended meanwhile: its time went to its parent
        total += t.user + t.system + t.children_user + t.children_system
    return total


class HostSampler:
    """Memory and CPU of this machine and of one process tree (a Jupyter server with its job
    processes), as JobStreamer's agents report them::

        {"memory": {"physical": {"free", "total"}, "swap": {"free", "total"}},
         "cpu": {"process": {"load", "time_s"}, "system": {"load", "load_average"}}}

    Memory in bytes (``free`` is what is available without swapping); ``load`` is the share of
    all the machine's cores busy since the previous sample (0…1), for the process tree and for
    the whole system; ``time_s`` the tree's CPU seconds so far; ``load_average`` the system's
    one-minute load average (None where the system has none).
    """

    def __init__(self, pid: int | None = None):
        self.process = psutil.Process(pid)
        self.cores = psutil.cpu_count() or 1
        self._last = self._read_cpu()

    def _read_cpu(self) -> tuple[float, float, float, float]:
        """(wall clock, tree CPU seconds, system busy seconds, system total seconds)."""
        times = psutil.cpu_times()
        total = sum(times)
        idle = times.idle + getattr(times, "iowait", 0.0)
        return time.monotonic(), _tree_cpu_s(self.process), total - idle, total

    def sample(self) -> dict[str, Any]:
        """One sample (blocking: reads /proc)."""
        now = self._read_cpu()
        wall, tree, busy, total = now
        last_wall, last_tree, last_busy, last_total = self._last
        self._last = now
        elapsed = wall - last_wall
        process_load = (tree - last_tree) / elapsed / self.cores if elapsed > 0 else 0.0
        system_load = (busy - last_busy) / (total - last_total) if total > last_total else 0.0
        memory = psutil.virtual_memory()
        swap = psutil.swap_memory()
        try:
            load_average: float | None = round(os.getloadavg()[0], 2)
        except (AttributeError, OSError):
            load_average = None
        return {
            "memory": {
                "physical": {"free": int(memory.available), "total": int(memory.total)},
                "swap": {"free": int(swap.free), "total": int(swap.total)},
            },
            "cpu": {
                "process": {"load": _share(process_load), "time_s": round(tree, 3)},
                "system": {"load": _share(system_load), "load_average": load_average},
            },
        }


def _share(value: float) -> float:
    """A load as a share of all cores, kept within 0…1 (clocks and reaping make it jitter)."""
    return round(min(1.0, max(0.0, value)), 4)
