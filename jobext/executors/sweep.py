"""The ``JOBEXT_RUN_UUID`` sweep: ending the processes a run left outside its process group.

A job may start children that leave its process group (a new session, a daemon); they still
carry the run's ``JOBEXT_RUN_UUID`` in the environment they were started with, which
``/proc/<pid>/environ`` shows. Reading every process's environment costs a few milliseconds on
a busy host, so runs that end close together share one scan (:class:`Sweeper`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Collection
from pathlib import Path

log = logging.getLogger(__name__)

_NEEDLE = b"JOBEXT_RUN_UUID="


def kill_run_processes(uuid: str) -> int:
    """SIGKILL every process on this host whose environment names run ``uuid``; return how many.

    Used for runs whose process group cannot be trusted: after a server crash, or when a job's
    children left its group.
    """
    return kill_runs_processes({uuid})


def kill_runs_processes(uuids: Collection[str]) -> int:
    """SIGKILL every process on this host whose ``JOBEXT_RUN_UUID`` is one of ``uuids``, in one
    pass over ``/proc``; return how many."""
    wanted = {u.encode() for u in uuids}
    killed = 0
    proc = Path("/proc")
    if not wanted or not proc.is_dir():
        return 0
    me = os.getpid()
    for name in os.listdir(proc):
        if not name.isdigit() or int(name) == me:
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as handle:
                environ = handle.read()
        except OSError:
            continue
        at = environ.find(_NEEDLE)
        # The variable at the start of the block, or right after a NUL (not a suffix of another).
        while at > 0 and environ[at - 1] != 0:
            at = environ.find(_NEEDLE, at + 1)
        if at < 0:
            continue
        end = environ.find(b"\0", at)
        value = environ[at + len(_NEEDLE) : end if end >= 0 else None]
        if value in wanted:
            with contextlib.suppress(OSError):
                os.kill(int(name), signal.SIGKILL)
                killed += 1
    return killed


class Sweeper:
    """Sweeps for the leftovers of ended runs, one ``/proc`` scan (on a thread) for all the runs
    that asked within ``gather_s`` of each other or while the previous scan ran."""

    def __init__(self, gather_s: float = 0.05):
        self.gather_s = gather_s
        self._waiting: dict[str, asyncio.Future[int]] = {}
        self._task: asyncio.Task[None] | None = None

    def sweep(self, uuid: str) -> asyncio.Future[int]:
        """Schedule a sweep for ``uuid``; the future gives how many processes were killed by
        the scan that covered it (of all the runs it covered)."""
        future = self._waiting.get(uuid)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._waiting[uuid] = future
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._scan())
        return future

    async def _scan(self) -> None:
        try:
            while self._waiting:
                await asyncio.sleep(self.gather_s)
                batch, self._waiting = self._waiting, {}
                try:
                    killed = await asyncio.to_thread(kill_runs_processes, list(batch))
                except Exception:
                    log.warning("jobext: the sweep for leftover processes failed", exc_info=True)
                    killed = 0
                for future in batch.values():
                    if not future.done():
                        future.set_result(killed)
        finally:
            self._task = None

    async def wait(self, timeout: float) -> None:
        """Until the scans asked for so far are done, or ``timeout`` s."""
        if self._task is not None:
            await asyncio.wait([self._task], timeout=timeout)
