"""Real ``jupyter server`` processes sharing one database, for tests across servers.

A :class:`Cluster` is a test's set of servers: one database (a SQLite file, or a fresh
PostgreSQL database from :func:`postgres_cluster`), one results dir and one root dir (holding
``jobs_lib.py`` and ``durability_jobs.py``) under the test's ``tmp_path``. Each
:class:`Server` is a subprocess started by ``bench.server`` with HTTP helpers that assert. On
the way out every server is killed, whatever they left is killed too, and their logs' tails are
printed (pytest shows them for a failed test).

Used by the durability tests (tests/runs), the scheduling and batch tests across servers and
the worker tests. A test module makes its fixtures from :func:`sqlite_cluster` and
:func:`postgres_cluster`.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import requests
from pg import fresh_database, url_of
from waiting import eventually

from bench.server import JupyterServer

HERE = Path(__file__).parent
API = "jobext/api/v1"
FINAL = ("succeeded", "failed", "stopped")
#: Generous: a loaded 2-core machine may take many seconds to start a Jupyter server.
START_TIMEOUT = 120.0
WAIT_TIMEOUT = 60.0


# ---------------------------------------------------------------------------- helpers


def alive(proc: psutil.Process) -> bool:
    """True while ``proc`` (the very process, not a reuse of its pid) runs and is no zombie."""
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def processes_with_env(name: str, value: str) -> list[psutil.Process]:
    """Live (non-zombie) processes of this host whose environment has ``name=value``."""
    found = []
    for proc in psutil.process_iter():
        if proc.pid == os.getpid():
            continue
        try:
            if proc.environ().get(name) == value and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess, OSError):
            continue
    return found


def run_processes(uuid: str) -> list[psutil.Process]:
    """The live processes of a run: every process carrying its ``JOBEXT_RUN_UUID``."""
    return processes_with_env("JOBEXT_RUN_UUID", uuid)


def wait_gone(
    what: str, procs: list[psutil.Process], uuids: list[str], timeout: float = 15
) -> None:
    """Wait until ``procs`` and every process of the runs ``uuids`` have ended; fail listing
    the survivors."""
    leftovers: list[psutil.Process] = []

    def gone() -> bool:
        nonlocal leftovers
        leftovers = [p for p in procs if alive(p)]
        for uuid in uuids:
            leftovers += run_processes(uuid)
        return not leftovers

    try:
        eventually(gone, timeout=timeout, message=what)
    except AssertionError as exc:
        raise AssertionError(f"{exc}: {describe(leftovers)}") from None


def describe(procs: list[psutil.Process]) -> list[str]:
    out = []
    for proc in procs:
        try:
            out.append(f"{proc.pid} {proc.status()} {' '.join(proc.cmdline())[:120]}")
        except psutil.Error:
            out.append(f"{proc.pid} (gone)")
    return out


def says_server_stopped(text: str | None) -> bool:
    """Does ``text`` say that the Jupyter server stopped (or died) while the run ran?"""
    if not text:
        return False
    lowered = text.lower()
    return "server" in lowered and bool(
        re.search(r"stop|shut|die|dead|crash|lost|gone|vanish|kill", lowered)
    )


# ---------------------------------------------------------------------------- servers


class Server(JupyterServer):
    """One ``jupyter server`` subprocess of a :class:`Cluster`, with HTTP helpers that assert."""

    def __init__(self, cluster: Cluster, **jobext: Any):
        number = len(cluster.servers) + 1
        super().__init__(
            name=f"server-{number}",
            workdir=cluster.base,
            db_url=cluster.db_url,
            token=cluster.token,
            log_name=f"server-{number}.log",
            config={"max_workers": 4, "heartbeat_s": 0.5, "stop_grace_s": 10.0, **jobext},
        )
        self.cluster = cluster

    # -- HTTP

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 30)
        return self.session.request(method, self.url(path), **kwargs)

    def get(self, path: str, **kwargs: Any) -> Any:
        reply = self.request("GET", path, **kwargs)
        assert reply.status_code == 200, (path, reply.status_code, reply.text)
        return reply.json()

    def post(self, path: str, body: Any = None, expect: int = 200) -> Any:  # type: ignore[override]
        reply = self.request("POST", path, json=body if body is not None else {})
        assert reply.status_code == expect, (path, reply.status_code, reply.text)
        return reply.json()

    def job(self, name: str, target: str, kind: str = "python", **fields: Any) -> Any:
        return self.post("jobs", {"name": name, "kind": kind, "target": target, **fields}, 201)

    def run(self, job: str, args: Any = None) -> dict[str, Any]:
        body = {} if args is None else {"args": args}
        return self.post(f"jobs/{job}/runs", body, 201)  # type: ignore[no-any-return]

    def run_state(self, run_id: int) -> dict[str, Any]:
        return self.get(f"runs/{run_id}")  # type: ignore[no-any-return]

    def wait(self, run_id: int, *statuses: str, timeout: float = WAIT_TIMEOUT) -> dict[str, Any]:
        """Poll until the run is in one of ``statuses`` (any final status when none given)."""
        wanted = set(statuses or FINAL)
        last: dict[str, Any] = {}

        def check() -> dict[str, Any] | None:
            nonlocal last
            last = self.run_state(run_id)
            return last if last["status"] in wanted else None

        try:
            return eventually(
                check, timeout=timeout, message=f"run {run_id} to be {sorted(wanted)}"
            )
        except AssertionError as exc:
            raise AssertionError(f"{exc}; run: {last}\nserver log:\n{self.log_tail()}") from None

    def logs(self, run_id: int) -> list[dict[str, Any]]:
        """Every log line of a run, following the ``after`` cursor page by page."""
        lines: list[dict[str, Any]] = []
        after = 0
        while True:
            page = self.get(f"runs/{run_id}/logs", params={"after": after, "limit": 10_000})
            lines.extend(page["items"])
            if not page["items"] or not page.get("more"):
                return lines
            after = page["items"][-1]["seq"]

    def wait_log(
        self, run_id: int, text: str, timeout: float = WAIT_TIMEOUT
    ) -> list[dict[str, Any]]:
        def check() -> list[dict[str, Any]] | None:
            lines = self.logs(run_id)
            return lines if any(text in line["text"] for line in lines) else None

        return eventually(
            check, timeout=timeout, interval=0.2, message=f"{text!r} in the log of run {run_id}"
        )


class Cluster:
    """The shared state of a test's servers: database, results, root and Jupyter dirs."""

    def __init__(self, base: Path):
        self.base = base
        self.token = secrets.token_hex(16)
        self.root = base / "root"
        self.root.mkdir(parents=True, exist_ok=True)
        shutil.copy(HERE / "jobs_lib.py", self.root / "jobs_lib.py")
        shutil.copy(HERE / "durability_jobs.py", self.root / "durability_jobs.py")
        self.db_url = f"sqlite:///{base / 'jobext.db'}"
        self.servers: list[Server] = []

    def stored_log(self, run_id: int, text: str) -> bool:
        """Is a log line of ``run_id`` containing ``text`` written to the database already?"""
        path = self.db_url.removeprefix("sqlite:///")
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            row = db.execute(
                "SELECT 1 FROM jobext_run_event WHERE run_id = ? AND type = 'log' AND text LIKE ?",
                (run_id, f"%{text}%"),
            ).fetchone()
        return row is not None

    def start(self, **jobext: Any) -> Server:
        """Start a server with ``JobExtApp`` overrides ``jobext``; return once its API answers."""
        server = Server(self, **jobext)
        self.servers.append(server)
        server.start(timeout=START_TIMEOUT)
        return server

    def cleanup(self) -> None:
        for server in self.servers:
            if server.running:
                server.kill()
            server.session.close()
        # Whatever a failed test left behind: every process started with our Jupyter data dir.
        for proc in processes_with_env("JUPYTER_DATA_DIR", str(self.base / "data")):
            with contextlib.suppress(psutil.Error):
                proc.kill()
        for server in self.servers:
            if server.process is not None:
                print(f"==== {server.log_path.name} (pid {server.pid})\n{server.log_tail(60)}")


@contextlib.contextmanager
def sqlite_cluster(base: Path) -> Iterator[Cluster]:
    """Servers on one SQLite file under ``base``; killed (and their logs printed) after."""
    servers = Cluster(base)
    try:
        yield servers
    finally:
        servers.cleanup()


@contextlib.contextmanager
def postgres_cluster(base: Path, prefix: str = "jobext_cluster") -> Iterator[Cluster]:
    """Servers on one fresh PostgreSQL database, dropped after the servers are gone."""
    with fresh_database(prefix) as name:
        servers = Cluster(base)
        servers.db_url = url_of(name)
        try:
            yield servers
        finally:
            servers.cleanup()
