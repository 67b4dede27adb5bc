"""The server's end of a fork server: ask it for a run's process (``jobext.job.zygote``, for
the local executor) or a kernel (``jobext.job.kernel_zygote``, for the kernel pool).

The local executor asks :meth:`ForkServer.spawn` first and falls back to starting
``python -m jobext.job.runner`` itself whenever the fork server cannot serve (still starting,
gone, or the request does not fit a packet). A fork server that dies is started again on the
next run, after a pause that grows while it keeps dying. The children are the fork server's: it
reports their exits; if it dies before they end, their ends are watched through pidfds (exit
status unknown).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import socket
import time
from typing import Any

log = logging.getLogger(__name__)

_PLACEHOLDER = "jobext-zygote-0000000000000000000000"
_MAX_PACKET = 1 << 20
_FIRST_RETRY_S = 1.0
_MAX_RETRY_S = 60.0


class ForkServer:
    """One ``python -m <module>`` fork server process (``jobext.job.zygote`` for runs,
    ``jobext.job.kernel_zygote`` for kernels), started on demand."""

    def __init__(
        self,
        python: str,
        env: dict[str, str],
        module: str = "jobext.job.zygote",
        args: tuple[str, ...] = (),
    ):
        self.python = python
        self.env = env
        self.module = module
        #: Its command line's arguments (for runs: the kinds whose libraries it preloads).
        self.args = args
        self._process: asyncio.subprocess.Process | None = None
        self._sock: socket.socket | None = None
        self._reader: asyncio.Task[None] | None = None
        self._ready = False
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[tuple[int, asyncio.Future[int | None]]]] = {}
        self._exits: dict[int, asyncio.Future[int | None]] = {}
        self._retry_at = 0.0
        self._retry_s = _FIRST_RETRY_S
        self._closed = False
        self._launching = False
        self._pidfds: set[int] = set()

    @property
    def ready(self) -> bool:
        return self._ready

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    async def spawn(
        self, env: dict[str, str], cwd: str, uuid: str, fds: tuple[int, int, int, int]
    ) -> tuple[int, asyncio.Future[int | None]] | None:
        """Fork a run's process; its pid and a future of its exit code, or None when the fork
        server cannot serve now (the caller spawns the process itself)."""
        if len(uuid) != len(_PLACEHOLDER):
            return None
        return await self.fork({"env": env, "cwd": cwd, "uuid": uuid}, list(fds))

    async def fork(
        self, request: dict[str, Any], fds: list[int]
    ) -> tuple[int, asyncio.Future[int | None]] | None:
        """Fork a child for ``request`` (with ``fds`` passed along); its pid and a future of its
        exit code, or None when the fork server cannot serve now (the caller starts the
        process itself)."""
        if not self._ready or self._sock is None:
            self.start()
            return None
        request_id = next(self._ids)
        packet = json.dumps({"id": request_id, **request}).encode()
        if len(packet) > _MAX_PACKET:
            return None
        future: asyncio.Future[tuple[int, asyncio.Future[int | None]]]
        future = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        try:
            socket.send_fds(self._sock, [packet], fds)
        except OSError as exc:
            # A full socket buffer or a packet over the kernel's limit: spawn this one directly.
            self._pending.pop(request_id, None)
            log.debug("jobext: fork server request not sent: %s", exc)
            return None
        try:
            # The exit may be reported before this resumes: it comes with the pid.
            return await future
        except ForkError as exc:
            log.warning("jobext: the fork server (%s) could not fork: %s", self.module, exc)
            return None

    async def started(self, timeout: float) -> bool:
        """Start the fork server if it is not running, and wait up to ``timeout`` seconds for
        it to serve; whether it does."""
        deadline = time.monotonic() + timeout
        self.start()
        while not self._ready and time.monotonic() < deadline:
            if self._closed or not (self._launching or self._process is not None):
                return False  # could not be started (and is not retried yet)
            await asyncio.sleep(0.02)
        return self._ready

    def start(self) -> None:
        """Start the fork server in the background unless it runs, or died moments ago."""
        if self._closed or self._launching or self._process is not None:
            return
        if time.monotonic() < self._retry_at:
            return
        self._launching = True
        asyncio.get_running_loop().create_task(self._launch())

    async def _launch(self) -> None:
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = dict(self.env)
        env.update(
            JOBEXT_ZYGOTE_FD=str(child.fileno()),
            JOBEXT_ZYGOTE_SLOT=_PLACEHOLDER,
            PYTHONUNBUFFERED="1",
        )
        env.pop("JOBEXT_RUN_UUID", None)
        env.pop("JOBEXT_RUN_SPEC", None)
        try:
            process = await asyncio.create_subprocess_exec(
                self.python,
                "-m",
                self.module,
                *self.args,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                pass_fds=(child.fileno(),),
                env=env,
                start_new_session=True,
            )
        except OSError as exc:
            log.warning("jobext: cannot start the fork server: %s", exc)
            parent.close()
            self._gone()
            return
        finally:
            child.close()
            self._launching = False
        parent.setblocking(False)
        self._process, self._sock = process, parent
        if self._closed:
            parent.close()
            process.kill()
            await process.wait()
            return
        self._reader = asyncio.get_running_loop().create_task(self._read(process, parent))

    async def _read(self, process: asyncio.subprocess.Process, sock: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        started = time.monotonic()
        try:
            while True:
                try:
                    data = await loop.sock_recv(sock, _MAX_PACKET)
                except OSError:
                    data = b""
                if not data:
                    break
                self._take(json.loads(data))
        finally:
            sock.close()
            self._ready = False
            self._sock = None
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(ForkError("the fork server ended"))
            self._pending.clear()
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            if not self._closed:
                lived = time.monotonic() - started
                log.warning(
                    "jobext: the fork server ended (exit %s after %.1f s); runs start without it"
                    " until it is started again",
                    process.returncode,
                    lived,
                )
                if lived > _MAX_RETRY_S:
                    self._retry_s = _FIRST_RETRY_S
            self._watch_orphans()
            self._gone()

    def _take(self, message: dict[str, Any]) -> None:
        kind = message.get("t")
        if kind == "ready":
            self._ready = True
        elif kind == "started":
            pid = int(message["pid"])
            exited = self._exits[pid] = asyncio.get_running_loop().create_future()
            started = self._pending.pop(message["id"], None)
            if started is not None and not started.done():
                started.set_result((pid, exited))
        elif kind == "error":
            future = self._pending.pop(message.get("id"), None)  # type: ignore[arg-type]
            if future is not None and not future.done():
                future.set_exception(ForkError(str(message.get("error"))))
        elif kind == "exit":
            ended = self._exits.pop(int(message["pid"]), None)
            if ended is not None and not ended.done():
                ended.set_result(int(message["code"]))
        elif kind == "unusable":
            log.warning("jobext: the fork server cannot be used: %s", message.get("error"))
            self._retry_s = float("inf")

    def _watch_orphans(self) -> None:
        """The fork server is gone: learn the ends of its children from pidfds."""
        loop = asyncio.get_running_loop()
        for pid, future in list(self._exits.items()):
            try:
                pidfd = os.pidfd_open(pid)
            except OSError:
                self._exits.pop(pid, None)
                future.set_result(None)
                continue
            self._pidfds.add(pidfd)
            loop.add_reader(pidfd, self._orphan_ended, pid, pidfd)

    def _orphan_ended(self, pid: int, pidfd: int) -> None:
        asyncio.get_running_loop().remove_reader(pidfd)
        os.close(pidfd)
        self._pidfds.discard(pidfd)
        future = self._exits.pop(pid, None)
        if future is not None and not future.done():
            future.set_result(None)

    def _gone(self) -> None:
        self._process = None
        self._retry_at = time.monotonic() + self._retry_s
        self._retry_s = min(self._retry_s * 2, _MAX_RETRY_S)

    async def close(self) -> None:
        """End the fork server (its running children are not touched)."""
        self._closed = True
        process, reader = self._process, self._reader
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)
        if reader is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(reader, 5.0)
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
        loop = asyncio.get_running_loop()
        for pidfd in list(self._pidfds):
            loop.remove_reader(pidfd)
            os.close(pidfd)
        self._pidfds.clear()
        for future in self._exits.values():
            if not future.done():
                future.set_result(None)
        self._exits.clear()


class ForkError(Exception):
    """The fork server could not fork what was asked for."""
