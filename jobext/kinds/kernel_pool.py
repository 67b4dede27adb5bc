"""A small pool of pre-started kernels per kernelspec, so a notebook run does not wait for one.

Each kernel serves exactly one run: :meth:`KernelPool.take` hands a ready kernel to a run (or,
when none is ready, one forked for it on the spot) and starts its replacement;
:meth:`KernelPool.release` shuts it down when the run has ended. A kernel is never reused, so
no state leaks from one run to the next.

Kernels are forked by a kernel fork server (``jobext.kinds.kernel_fork``) where the kernelspec
allows, which makes each about a tenth of the CPU of a started one: the pool refills that much
faster under a burst of notebook runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import Any

from jupyter_client.manager import AsyncKernelManager

from jobext.kinds.kernel_fork import ForkingProvisioner, kernel_fork_server

log = logging.getLogger(__name__)

_START_TIMEOUT_S = 60.0
#: How long a fill waits for the kernel fork server to be ready before starting kernels itself.
_FORK_SERVER_WAIT_S = 10.0


class KernelPool:
    """Keeps ``size`` ready kernels of each kernelspec that notebook jobs use."""

    def __init__(self, size: int, *, cwd: str, fork: bool = True):
        self.size = size
        self.cwd = cwd
        self.forks = kernel_fork_server() if fork and size > 0 else None
        self._ready: dict[str, list[AsyncKernelManager]] = {}
        self._owned: dict[str, AsyncKernelManager] = {}
        self._filling: dict[str, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closing = False

    def warm(self, name: str) -> None:
        """Keep kernels of kernelspec ``name`` ready from now on."""
        if self.size <= 0 or self._closing:
            return
        self._ready.setdefault(name, [])
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop yet: the first take() or the server's start fills it
        task = self._filling.get(name)
        if task is None or task.done():
            self._filling[name] = loop.create_task(self._fill(name))

    async def take(self, name: str, owner: str) -> dict[str, Any] | None:
        """A kernel of ``name`` for run ``owner``: its connection info and pid. A ready one if
        there is one; else one forked now (the run's handshake waits for it to answer); None
        when neither can be had (the run then starts its own)."""
        ready = self._ready.get(name, [])
        km = None
        while ready and km is None:
            candidate = ready.pop(0)
            process = getattr(candidate.provisioner, "process", None)
            if process is not None and process.poll() is not None:
                # Died while waiting (killed, out of memory): never hand it to a run.
                self._spawn(self._shutdown(candidate))
                continue
            km = candidate
        self.warm(name)
        if km is None and self.forks is not None and self.forks.ready:
            km = await self._start(name, wait=False)
        if km is None:
            return None
        if self._closing:
            self._spawn(self._shutdown(km))
            return None
        self._owned[owner] = km
        info = dict(km.get_connection_info(session=False))
        key = info.get("key", b"")
        info["key"] = key.decode() if isinstance(key, bytes) else key
        pid = getattr(km.provisioner, "pid", None)
        return {"connection": info, "pid": pid}

    def release(self, owner: str) -> None:
        """Shut down the kernel run ``owner`` used (never given to another run)."""
        km = self._owned.pop(owner, None)
        if km is not None:
            self._spawn(self._shutdown(km))

    def _spawn(self, work: Any) -> None:
        # Held until done: asyncio keeps only weak references to tasks.
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _fill(self, name: str) -> None:
        ready = self._ready.setdefault(name, [])
        if self.forks is not None:
            await self.forks.started(_FORK_SERVER_WAIT_S)
        while not self._closing and len(ready) < self.size:
            # Start the missing ones side by side: a burst of runs empties the pool at once.
            missing = self.size - len(ready)
            started = await asyncio.gather(*(self._start(name) for _ in range(missing)))
            for km in started:
                if km is None:
                    return
                if self._closing:
                    await self._shutdown(km)
                else:
                    ready.append(km)

    async def _start(self, name: str, *, wait: bool = True) -> AsyncKernelManager | None:
        km = AsyncKernelManager(kernel_name=name)
        try:
            if self.forks is not None:
                km.kernel_id = str(uuid.uuid4())
                provisioner = ForkingProvisioner(
                    kernel_id=km.kernel_id, kernel_spec=km.kernel_spec, parent=km
                )
                provisioner.forks = self.forks
                km.provisioner = provisioner
            await km.start_kernel(cwd=self.cwd)
            if not wait:
                return km
            client = km.client()
            client.start_channels()
            try:
                await client.wait_for_ready(timeout=_START_TIMEOUT_S)
            finally:
                client.stop_channels()
        except Exception:
            log.exception("jobext: could not pre-start a %r kernel", name)
            with contextlib.suppress(Exception):
                await km.shutdown_kernel(now=True)
            return None
        return km

    @staticmethod
    async def _shutdown(km: AsyncKernelManager) -> None:
        # shutdown_kernel also removes the connection file and closes the sockets.
        with contextlib.suppress(Exception):
            await km.shutdown_kernel(now=True)

    def ready_count(self, name: str) -> int:
        return len(self._ready.get(name, ()))

    async def stop(self) -> None:
        """Shut every kernel down, ready or still in use."""
        self._closing = True
        for task in self._filling.values():
            task.cancel()
        for task in self._filling.values():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        kernels = [km for ready in self._ready.values() for km in ready]
        kernels += list(self._owned.values())
        self._ready.clear()
        self._owned.clear()
        await asyncio.gather(*(self._shutdown(km) for km in kernels))
        if self.forks is not None:
            await self.forks.close()
