"""Kernels forked by the kernel fork server (``jobext.job.kernel_zygote``) instead of started.

:class:`ForkingProvisioner` is jupyter_client's local provisioner with one change: when the
kernelspec is this server's own ipykernel (``<this python> -m ipykernel_launcher ...``, no
``env`` of its own, no provisioner of its own) and the fork server serves, the kernel process is
forked there rather than started with ``Popen``. Everything else (ports, connection file,
signals to the process group, shutdown, cleanup) is the local provisioner's, which sees the
forked kernel through :class:`ForkedKernel`, a ``Popen`` look-alike. When the fork server cannot
serve, the kernel is started as usual.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from typing import Any

from jupyter_client.connect import KernelConnectionInfo
from jupyter_client.kernelspec import KernelSpec
from jupyter_client.provisioning.local_provisioner import LocalProvisioner

from jobext.executors.zygote import ForkServer

#: The fork server's module.
MODULE = "jobext.job.kernel_zygote"
#: Exit code reported for a forked kernel whose end was seen but whose status is unknown (its
#: fork server ended before it).
UNKNOWN_EXIT = 1


def forkable(argv: list[str], spec: KernelSpec, python: str = sys.executable) -> bool:
    """Whether a kernel started with ``argv`` from ``spec`` can be forked by a fork server
    running ``python``."""
    metadata = spec.metadata or {}
    return (
        len(argv) >= 3
        and argv[1:3] == ["-m", "ipykernel_launcher"]
        and os.path.abspath(argv[0]) == os.path.abspath(python)
        and not spec.env
        and not metadata.get("kernel_provisioner")
    )


class ForkedKernel:
    """A forked kernel process, as much of ``subprocess.Popen`` as the local provisioner
    uses."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int, exited: asyncio.Future[int | None]):
        self.pid = pid
        self.returncode: int | None = None
        self._exited = exited

    def poll(self) -> int | None:
        if self.returncode is None and self._exited.done():
            code = self._exited.result()
            self.returncode = UNKNOWN_EXIT if code is None else code
        return self.returncode

    def wait(self, timeout: float | None = None) -> int | None:
        # Called by the provisioner once poll() has seen the end: nothing left to wait for.
        return self.poll()

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class ForkingProvisioner(LocalProvisioner):  # type: ignore[misc]
    """The local provisioner, forking the kernel through ``forks`` when it can."""

    #: The kernel fork server (set by whoever makes the provisioner).
    forks: ForkServer | None = None

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        forks = self.forks
        if forks is not None and forkable(cmd, self.kernel_spec, forks.python):
            cwd = str(kwargs.get("cwd") or os.getcwd())
            request = {"env": dict(kwargs.get("env") or os.environ), "cwd": cwd, "argv": cmd[3:]}
            # The kernel writes where a started one would: the server's stdout and stderr.
            started = await forks.fork(request, [1, 2])
            if started is not None:
                pid, exited = started
                self.process = ForkedKernel(pid, exited)  # type: ignore[assignment]
                self.pid = self.pgid = pid  # the child leads its own session
                self.cwd = cwd
                connection: KernelConnectionInfo = self.connection_info
                return connection
        connection = await super().launch_kernel(cmd, **kwargs)
        return connection


def kernel_fork_server() -> ForkServer:
    """A kernel fork server for this server's Python and environment (started on demand)."""
    return ForkServer(sys.executable, dict(os.environ), module=MODULE)
