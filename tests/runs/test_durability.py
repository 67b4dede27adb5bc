"""Durability: real ``jupyter server`` processes on one SQLite file, killed and restarted.

Each test starts Jupyter servers as subprocesses (not pytest-jupyter) that share a database,
a results dir and a root dir under ``tmp_path``, and talks to them over HTTP. The contract under
test is DESIGN.md's "Durability": the database is the truth; a server that restarts settles the
runs its previous life left in progress; log lines are never lost when a server stops cleanly;
no job process outlives its run, and no process is left a zombie.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import psutil
import pytest
import requests

HERE = Path(__file__).parent.parent
API = "jobext/api/v1"
FINAL = ("succeeded", "failed", "stopped")
#: Generous: a loaded 2-core machine may take many seconds to start a Jupyter server.
START_TIMEOUT = 120.0
WAIT_TIMEOUT = 60.0

T = TypeVar("T")


# ---------------------------------------------------------------------------- helpers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(
    what: str, check: Callable[[], T], timeout: float = WAIT_TIMEOUT, every: float = 0.1
) -> T:
    """Call ``check`` until it returns something truthy; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {timeout:g} s waiting for {what} (last: {value!r})"
            )
        time.sleep(every)


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
        wait_for(what, gone, timeout=timeout)
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


class Server:
    """One ``jupyter server`` subprocess with jobext, and a tiny HTTP client for its API."""

    def __init__(self, cluster: Cluster, process: subprocess.Popen[bytes], port: int, log: Path):
        self.cluster = cluster
        self.process = process
        self.port = port
        self.log = log
        self.base = f"http://127.0.0.1:{port}/{API}"
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"token {cluster.token}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    # -- HTTP

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 30)
        return self.http.request(method, f"{self.base}/{path.lstrip('/')}", **kwargs)

    def get(self, path: str, **kwargs: Any) -> Any:
        reply = self.request("GET", path, **kwargs)
        assert reply.status_code == 200, (path, reply.status_code, reply.text)
        return reply.json()

    def post(self, path: str, body: Any = None, expect: int = 200) -> Any:
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
            return wait_for(f"run {run_id} to be {sorted(wanted)}", check, timeout)
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

        return wait_for(f"{text!r} in the log of run {run_id}", check, timeout, every=0.2)

    # -- process

    def kill(self) -> None:
        """SIGKILL: the server dies without a chance to clean up (a crash, an OOM kill)."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def terminate(self, timeout: float = 90.0) -> int:
        """SIGTERM: a clean shutdown; wait for the server to exit and return its exit code."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"the server did not exit within {timeout:g} s of SIGTERM\n{self.log_tail()}"
            ) from None


class Cluster:
    """The shared state of a test's servers: database, results, root and Jupyter dirs."""

    def __init__(self, base: Path):
        self.base = base
        self.token = secrets.token_hex(16)
        self.root = base / "root"
        self.data = base / "data"
        self.runtime = base / "runtime"
        self.config = base / "config"
        self.results = base / "results"
        for path in (self.root, self.data, self.runtime, self.config, self.results):
            path.mkdir(parents=True, exist_ok=True)
        shutil.copy(HERE / "jobs_lib.py", self.root / "jobs_lib.py")
        shutil.copy(HERE / "durability_jobs.py", self.root / "durability_jobs.py")
        self.db_url = f"sqlite:///{base / 'jobext.db'}"
        self.servers: list[Server] = []
        self.env = dict(os.environ)
        for key in list(self.env):
            if key.startswith(("JOBEXT_", "JUPYTER_", "JPY_")):
                del self.env[key]
        self.env.update(
            JUPYTER_DATA_DIR=str(self.data),
            JUPYTER_RUNTIME_DIR=str(self.runtime),
            JUPYTER_CONFIG_DIR=str(self.config),
            JUPYTER_PLATFORM_DIRS="1",
            PYTHONUNBUFFERED="1",
        )

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
        config = {
            "db_url": self.db_url,
            "results_dir": str(self.results),
            "max_workers": 4,
            "heartbeat_s": 0.5,
            "stop_grace_s": 10.0,
            **jobext,
        }
        for attempt in range(3):
            port = free_port()
            log = self.base / f"server-{len(self.servers) + 1}-{attempt}.log"
            command = [
                sys.executable,
                "-m",
                "jupyter_server",
                "--allow-root",
                "--no-browser",
                f"--port={port}",
                "--ServerApp.port_retries=0",
                "--ServerApp.ip=127.0.0.1",
                f"--IdentityProvider.token={self.token}",
                "--ServerApp.open_browser=False",
                f"--ServerApp.root_dir={self.root}",
                "--ServerApp.jpserver_extensions={'jobext': True}",
                *(f"--JobExtApp.{key}={value}" for key, value in config.items()),
            ]
            with log.open("wb") as out:
                process = subprocess.Popen(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env=self.env,
                    cwd=self.root,
                )
            server = Server(self, process, port, log)
            self.servers.append(server)
            if self._wait_ready(server):
                return server
            if "already in use" not in server.log_tail(20_000):
                break
        raise AssertionError(f"the Jupyter server did not start\n{server.log_tail()}")

    def _wait_ready(self, server: Server) -> bool:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                return False
            with contextlib.suppress(requests.RequestException):
                if server.request("GET", "stats", timeout=5).status_code == 200:
                    return True
            time.sleep(0.2)
        server.process.kill()
        server.process.wait()
        raise AssertionError(
            f"the Jupyter server did not answer within {START_TIMEOUT:g} s\n{server.log_tail()}"
        )

    def cleanup(self) -> None:
        for server in self.servers:
            if server.process.poll() is None:
                server.process.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    server.process.wait(timeout=30)
            server.http.close()
        # Whatever a failed test left behind: every process started with our Jupyter data dir.
        for proc in processes_with_env("JUPYTER_DATA_DIR", str(self.data)):
            with contextlib.suppress(psutil.Error):
                proc.kill()
        for server in self.servers:
            print(f"==== {server.log.name} (pid {server.pid})\n{server.log_tail(3000)}")


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    servers = Cluster(tmp_path)
    try:
        yield servers
    finally:
        servers.cleanup()


# ---------------------------------------------------------------------------- tests


def test_crash_settles_in_progress_runs_keeps_history_and_queue(cluster: Cluster) -> None:
    """A server SIGKILLed with two runs in progress: on restart both are failed with a reason,
    no process of theirs is left (not even one that escaped the job's process group), the
    history and its logs are intact, and a run that was still queued runs."""
    server = cluster.start()

    # History: a run that finished before the crash.
    server.job("hello", "jobs_lib:hello")
    done = server.run("hello", {"name": "history", "n": 3})
    server.wait(done["id"], "succeeded")
    history_logs = server.wait_log(done["id"], "hello history 2")

    # Two runs in progress, and one queued behind the first (its job allows one at a time).
    server.job("looper", "jobs_lib:loop", max_concurrent=1, queue_when_busy=True)
    server.job("detacher", "durability_jobs:loop_with_detached_child")
    first = server.run("looper", {"seconds": 60, "tick": 0.05})
    second = server.run("detacher", {"seconds": 60})
    queued = server.run("looper", {"seconds": 0.2, "tick": 0.05})
    server.wait(first["id"], "running")
    server.wait(second["id"], "running")
    server.wait_log(first["id"], "tick 3")
    lines = server.wait_log(second["id"], "tick 3")
    detached_pid = next(
        int(line["text"].split()[1]) for line in lines if line["text"].startswith("detached ")
    )
    assert server.run_state(queued["id"])["status"] == "queued"

    # Their processes exist (and the scan by JOBEXT_RUN_UUID finds them).
    first_procs = wait_for("the first run's process", lambda: run_processes(first["uuid"]))
    second_procs = wait_for("the second run's processes", lambda: run_processes(second["uuid"]))
    detached = psutil.Process(detached_pid)
    assert detached in second_procs, describe(second_procs)
    assert detached.environ().get("JOBEXT_RUN_UUID") == second["uuid"]
    old_worker = server.run_state(first["id"])["worker"]
    assert old_worker
    # Lines reach the database in batches; make sure some did before the crash.
    for run in (first, second):
        wait_for("a tick in the database", lambda r=run: cluster.stored_log(r["id"], "tick 1"))

    server.kill()

    restarted = cluster.start()
    for run in (first, second):
        settled = restarted.wait(run["id"])
        assert settled["status"] == "failed", settled
        assert says_server_stopped(settled["error"]), settled["error"]
        assert settled["ended_at"] is not None
        logs = restarted.logs(run["id"])
        reason = settled["error"].splitlines()[0]
        assert any(reason in line["text"] for line in logs), (reason, logs[-5:])
        assert any(line["text"].startswith("tick ") for line in logs)

    # No orphans: the run processes, and the grandchild that left the job's process group.
    wait_gone(
        "the crashed runs' processes to be gone",
        [*first_procs, *second_procs, detached],
        [first["uuid"], second["uuid"]],
        timeout=30,
    )

    # The queued run survived as queued and runs on the restarted server.
    after = restarted.wait(queued["id"])
    assert after["status"] == "succeeded" and after["error"] is None, after
    assert after["worker"] and after["worker"] != old_worker
    assert after["restarted_from"] is None and after["attempt"] == 1

    # History is intact, logs included.
    old = restarted.run_state(done["id"])
    assert old["status"] == "succeeded" and old["error"] is None
    assert [line["text"] for line in restarted.logs(done["id"])] == [
        line["text"] for line in history_logs
    ]
    succeeded = restarted.get("runs", params={"status": "SUCCEEDED", "job": "hello"})
    assert [r["id"] for r in succeeded["items"]] == [done["id"]]
    failed = restarted.get("runs", params={"status": "FAILED"})
    assert sorted(r["id"] for r in failed["items"]) == sorted([first["id"], second["id"]])
    assert restarted.get("runs", params={"status": "IN_PROGRESS"})["total"] == 0


def test_clean_shutdown_stops_run_and_keeps_every_line(cluster: Cluster) -> None:
    """SIGTERM to a server while a run prints: the run ends ``stopped`` saying the server shut
    down, every line it printed is in its log after a restart, and its process is gone."""
    server = cluster.start()
    marker = cluster.base / "printed.txt"
    server.job("printer", "durability_jobs:numbered")
    run = server.run("printer", {"seconds": 120, "tick": 0.005, "marker": str(marker)})
    server.wait(run["id"], "running")
    server.wait_log(run["id"], "n 20")

    def printed_enough() -> bool:
        with contextlib.suppress(OSError, ValueError):
            return int(marker.read_text() or 0) >= 100
        return False

    wait_for("the job to print 100 lines", printed_enough)
    procs = wait_for("the run's process", lambda: run_processes(run["uuid"]))

    server.terminate()
    # The job wrote each number after printing it: at least this many lines were printed.
    printed = int(marker.read_text())
    assert printed >= 100

    wait_gone("the run's processes to be gone", procs, [run["uuid"]])

    restarted = cluster.start()
    after = restarted.run_state(run["id"])
    assert after["status"] == "stopped", after
    assert after["ended_at"] is not None
    assert says_server_stopped(after["error"]) and re.search(
        r"shut|shutting", after["error"], re.I
    ), after["error"]

    logs = restarted.logs(run["id"])
    numbers = [int(m.group(1)) for line in logs if (m := re.fullmatch(r"n (\d+)", line["text"]))]
    assert numbers, logs[:5]
    assert numbers == list(range(1, len(numbers) + 1)), "lines missing, doubled or out of order"
    assert len(numbers) >= printed, f"printed {printed} lines, the log has {len(numbers)}"
    seqs = [line["seq"] for line in logs]
    assert seqs == sorted(set(seqs))
    assert any(says_server_stopped(line["text"]) for line in logs), logs[-5:]


def server_children_problems(server: Server) -> list[str]:
    """Zombies among the server's descendants, and job processes still running under it."""
    problems = []
    try:
        children = psutil.Process(server.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return ["the server is gone"]
    for proc in children:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            if proc.status() == psutil.STATUS_ZOMBIE:
                problems.append(f"zombie {proc.pid} (parent {proc.ppid()})")
            elif proc.environ().get("JOBEXT_RUN_UUID"):
                problems.append(f"job process {describe([proc])}")
    return problems


def test_no_zombies_after_runs_end_in_every_way(cluster: Cluster) -> None:
    """After runs that succeed, fail, crash, get force-stopped, or are stopped gracefully while
    their job has a child process, the server has no zombie children and no process of those
    runs (the grandchild included) is left."""
    server = cluster.start()
    server.job("hello", "jobs_lib:hello", max_concurrent=10)
    server.job("fail", "jobs_lib:fail")
    server.job("crash", "jobs_lib:crash")
    server.job("loop", "jobs_lib:loop")
    server.job("spawn", "jobs_lib:spawn_child")

    looping = server.run("loop", {"seconds": 600})
    spawning = server.run("spawn", {"seconds": 600})
    hellos = [server.run("hello", {"n": 2}) for _ in range(3)]
    failed = server.run("fail")
    crashed = server.run("crash")

    # A run stopped with force=true while it loops.
    server.wait_log(looping["id"], "tick 2")
    loop_procs = wait_for("the looping run's process", lambda: run_processes(looping["uuid"]))
    stopped = server.post(f"runs/{looping['id']}/stop?force=true")
    assert stopped["status"] == "stopped", stopped

    # A run whose job spawned a grandchild, stopped gracefully.
    spawn_lines = server.wait_log(spawning["id"], "child ")
    child = psutil.Process(
        next(
            int(line["text"].split()[1])
            for line in spawn_lines
            if line["text"].startswith("child ")
        )
    )
    spawn_procs = wait_for(
        "the spawning run's processes",
        lambda: (procs := run_processes(spawning["uuid"])) and child in procs and procs,
    )
    server.post(f"runs/{spawning['id']}/stop")
    assert server.wait(spawning["id"])["status"] == "stopped"

    for run in hellos:
        assert server.wait(run["id"])["status"] == "succeeded"
    assert server.wait(failed["id"])["status"] == "failed"
    assert server.wait(crashed["id"])["status"] == "failed"

    problems: list[str] = []

    def clean() -> bool:
        nonlocal problems
        problems = server_children_problems(server)
        problems += [
            f"still alive: {d}"
            for d in describe([p for p in [child, *loop_procs, *spawn_procs] if alive(p)])
        ]
        return not problems

    try:
        wait_for("no zombie children and no stray job processes", clean, timeout=30)
    except AssertionError as exc:
        raise AssertionError(f"{exc}: {problems}") from None
    assert server.process.poll() is None, "the server died"
    for run in [looping, spawning, *hellos, failed, crashed]:
        assert not run_processes(run["uuid"]), (run["job"], describe(run_processes(run["uuid"])))


def test_grandchild_left_behind_ends_with_its_run(cluster: Cluster) -> None:
    """A job that starts a child process (which inherits its stdout and stderr) and returns:
    the run ends when the job's process ends, not when the grandchild does, and the grandchild
    is killed with it; no zombie is left."""
    server = cluster.start()
    server.job("leave", "durability_jobs:leave_grandchild")
    run = server.run("leave", {"seconds": 600})
    lines = server.wait_log(run["id"], "grandchild ")
    grandchild_pid = next(
        int(line["text"].split()[1]) for line in lines if line["text"].startswith("grandchild ")
    )
    with contextlib.suppress(psutil.NoSuchProcess):
        grandchild = psutil.Process(grandchild_pid)
        assert grandchild.environ().get("JOBEXT_RUN_UUID") == run["uuid"]

    # The job returns right after printing; 30 s is plenty even on a loaded machine (the
    # grandchild would sleep 600 s).
    ended = server.wait(run["id"], timeout=30)
    assert ended["status"] == "succeeded", ended

    problems: list[str] = []

    def clean() -> bool:
        nonlocal problems
        problems = server_children_problems(server)
        problems += [f"run process {d}" for d in describe(run_processes(run["uuid"]))]
        return not problems

    try:
        wait_for("the grandchild to be gone, with no zombie", clean, timeout=15)
    except AssertionError as exc:
        raise AssertionError(f"{exc}: {problems}") from None
