"""A real ``distributed`` cluster for tests and benchmarks: one scheduler and worker processes
(each under its nanny, so a killed worker comes back), all on 127.0.0.1, all ended on close."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_port(port: int, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the Dask scheduler exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise RuntimeError("the Dask scheduler did not listen in time")


class Cluster:
    """``Cluster(tmp, workers=2, slots=2)``: a scheduler and ``workers`` worker processes with
    the resource ``jobext-slots=slots`` each and their own local directories under ``tmp``."""

    def __init__(self, tmp: Path, *, workers: int = 2, slots: int = 2, threads: int = 4):
        self.tmp = tmp
        self.port = _free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.processes: list[subprocess.Popen[bytes]] = []
        env = {**os.environ, "DASK_DISTRIBUTED__ADMIN__TICK__LIMIT": "30s"}
        self.env = env
        scheduler = self._spawn(
            [
                "distributed.cli.dask_scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--no-dashboard",
            ],
            "scheduler",
        )
        try:
            _wait_port(self.port, scheduler)
            for index in range(workers):
                directory = tmp / f"worker-{index}"
                directory.mkdir(parents=True, exist_ok=True)
                self._spawn(
                    [
                        "distributed.cli.dask_worker",
                        self.address,
                        "--name",
                        f"w{index}",
                        "--host",
                        "127.0.0.1",
                        "--nthreads",
                        str(threads),
                        "--resources",
                        f"jobext-slots={slots}",
                        "--no-dashboard",
                        "--local-directory",
                        str(directory),
                    ],
                    f"worker-{index}",
                )
        except BaseException:
            self.close()
            raise
        self.workers = workers

    def _spawn(self, args: list[str], name: str) -> subprocess.Popen[bytes]:
        log = open(self.tmp / f"{name}.log", "wb")  # noqa: SIM115 (the process holds it)
        process = subprocess.Popen(
            [sys.executable, "-m", *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self.env,
            start_new_session=True,
            cwd=self.tmp,
        )
        log.close()
        self.processes.append(process)
        return process

    def wait_for_workers(self, count: int | None = None, timeout: float = 60.0) -> dict[str, Any]:
        """Block until ``count`` (default: all) workers joined; their identities by address."""
        from distributed import Client

        wanted = self.workers if count is None else count
        with Client(self.address, timeout=timeout, set_as_default=False) as client:
            client.wait_for_workers(wanted, timeout=timeout)
            return dict(client.scheduler_info(n_workers=-1)["workers"])

    def close(self) -> None:
        """End every process of the cluster (workers first), and whatever they left."""
        for process in reversed(self.processes):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15.0
        for process in reversed(self.processes):
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        self.processes.clear()
