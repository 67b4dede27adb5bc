"""notebooks: the same one-cell notebook (``x = 1 + 1; print(x)``) run as a job in
jupyter-scheduler 2.12.1 (the newest) and in jobext, side by side in one run.

* one job at a time (after a warm-up): client time from the create request until a poller sees
  the job completed, p50 / p95, and the ratio jupyter-scheduler / jobext;
* a burst of jobs submitted at once: jobs/s from the first submit until the last is seen
  completed, and the ratio jobext / jupyter-scheduler;
* peak memory during the burst: the sum of the RSS of the server process and all its
  descendants (kernels, job processes), sampled every 50 ms;
* the same jobext burst once more with ``fork_kernels=False`` (every kernel started, none
  forked by the kernel fork server), to show what the fork server gives.

jupyter-scheduler is installed from the package index into a virtual environment of its own
(``bench/.cache/jupyter-scheduler-2.12.1-venv``, created on the first run and reused), with the
same ipykernel version as jobext's environment so that both start the same kernel. Its server is
that environment's ``jupyter server`` in a temporary directory of its own, like jobext's. When it
cannot be installed, jobext is measured alone and the figures that need both say so.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path
from typing import Any

import requests

from .common import Result, mib, parse_time, summary
from .server import ApiError, JupyterServer

HERE = Path(__file__).resolve().parent
SCHEDULER_VERSION = "2.12.1"
VENV = HERE / ".cache" / f"jupyter-scheduler-{SCHEDULER_VERSION}-venv"
NOTEBOOK_NAME = "bench.ipynb"
CELL = "x = 1 + 1\nprint(x)"

SEQUENTIAL = 10
BURST = 20
POLL_S = 0.01  # one job at a time: both servers are polled for the job every 10 ms
BURST_POLL_S = 0.05  # burst: one list request every 50 ms
SAMPLE_S = 0.05  # RSS of the server's process tree
JOB_TIMEOUT_S = 120.0
BURST_TIMEOUT_S = 300.0
TARGET_LATENCY_RATIO = 10.0
TARGET_BURST_RATIO = 8.0


def notebook() -> str:
    """The notebook both run: one code cell, a python3 kernelspec (jupyter-scheduler takes the
    kernel from the notebook's metadata and refuses a notebook without one)."""
    return json.dumps(
        {
            "cells": [
                {
                    "cell_type": "code",
                    "execution_count": None,
                    "id": "b0e1c2d3",
                    "metadata": {},
                    "outputs": [],
                    "source": CELL,
                }
            ],
            "metadata": {
                "kernelspec": {
                    "display_name": "Python 3 (ipykernel)",
                    "language": "python",
                    "name": "python3",
                },
                "language_info": {"name": "python"},
            },
            "nbformat": 4,
            "nbformat_minor": 5,
        },
        indent=1,
    )


# ---------------------------------------------------------------------------- the venv


class Unavailable(RuntimeError):
    """jupyter-scheduler could not be installed or started here."""


def scheduler_venv() -> Path:
    """The jupyter-scheduler environment, created and filled on first use; its ``bin`` dir."""
    bindir = VENV / "bin"
    packages = [f"jupyter-scheduler=={SCHEDULER_VERSION}"]
    try:
        # The same kernel as jobext's environment: the kernel is half of a notebook job's cost.
        packages.append(f"ipykernel=={metadata.version('ipykernel')}")
    except metadata.PackageNotFoundError:
        packages.append("ipykernel")
    marker = VENV / ".bench-installed"
    if (
        marker.exists()
        and marker.read_text() == " ".join(packages)
        and (bindir / "jupyter").exists()
    ):
        return bindir
    print(f"   installing {' '.join(packages)} into {VENV} (once) ...", flush=True)
    base = getattr(sys, "_base_executable", None) or shutil.which("python3") or sys.executable
    began = time.perf_counter()
    if not (bindir / "python").exists():
        made = subprocess.run(
            [base, "-m", "venv", str(VENV)], capture_output=True, text=True, timeout=300
        )
        if made.returncode != 0:
            raise Unavailable(f"python -m venv failed: {(made.stderr or made.stdout)[-2000:]}")
    pip = subprocess.run(
        [str(bindir / "python"), "-m", "pip", "install", "--quiet", *packages],
        capture_output=True,
        text=True,
        timeout=900,
    )
    if pip.returncode != 0:
        text = "\n".join(
            line
            for line in (pip.stderr + pip.stdout).splitlines()
            if "is ignored: it is neither" not in line
        )
        raise Unavailable(f"pip install {' '.join(packages)} failed:\n{text[-2000:]}")
    check = subprocess.run(
        [
            str(bindir / "python"),
            "-c",
            "import jupyter_scheduler; print(jupyter_scheduler.__version__)",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check.returncode != 0 or check.stdout.strip() != SCHEDULER_VERSION:
        raise Unavailable(f"jupyter_scheduler is not importable: {check.stderr[-1000:]}")
    marker.write_text(" ".join(packages))
    print(f"   installed in {time.perf_counter() - began:.0f} s", flush=True)
    return bindir


def scheduler_versions(bindir: Path) -> dict[str, str]:
    code = (
        "import json, importlib.metadata as m\n"
        "print(json.dumps({p: m.version(p) for p in ('jupyter_scheduler', 'jupyter_server', "
        "'ipykernel', 'ipython', 'nbconvert', 'nbclient', 'jupyter_client')}))"
    )
    try:
        out = subprocess.run(
            [str(bindir / "python"), "-c", code], capture_output=True, text=True, timeout=60
        )
        return dict(json.loads(out.stdout))
    except Exception:
        return {}


# ---------------------------------------------------------------------------- the servers


class SchedulerServer(JupyterServer):
    """jupyter-scheduler's ``jupyter server`` from its own venv; its API is ``/scheduler/...``."""

    start_error = Unavailable

    def __init__(self, bindir: Path):
        super().__init__(name="jupyter-scheduler")
        self.bindir = bindir
        self.runtime_environment = "python3"
        self._first_404: float | None = None

    def url(self, path: str) -> str:
        return f"{self.base}/{path.lstrip('/')}"

    def env(self) -> dict[str, str]:
        env = super().env()
        env["VIRTUAL_ENV"] = str(self.bindir.parent)
        env["PATH"] = f"{self.bindir}{os.pathsep}{env.get('PATH', '')}"
        env.pop("PYTHONHOME", None)
        return env

    def command(self) -> list[str]:
        return [str(self.bindir / "jupyter"), "server", *self.server_args()]

    def ready(self) -> bool:
        """Answers ``/scheduler/runtime_environments`` (and records the first environment);
        a 404 for 45 s means the jupyter_scheduler extension is not loaded."""
        reply = self.session.get(self.url("scheduler/runtime_environments"), timeout=5)
        if reply.status_code == 404:
            self._first_404 = self._first_404 or time.monotonic()
            if time.monotonic() - self._first_404 > 45:
                raise Unavailable(
                    "the jupyter_scheduler server extension is not loaded:\n" + self.log_tail()
                )
        if reply.status_code != 200:
            return False
        envs = reply.json()
        envs = envs.get("environments", envs) if isinstance(envs, dict) else envs
        if envs:
            self.runtime_environment = str(envs[0].get("name") or "python3")
        return True


class Side:
    """What the measurements need of a job manager: submit a job, read one, list a batch."""

    label = ""

    def __init__(self, server: JupyterServer):
        self.server = server

    def prepare(self) -> None:
        """Register what the jobs need (jobext: the jobs)."""

    def ping(self, session: requests.Session) -> None:
        """A cheap request (opens the session's connection)."""
        raise NotImplementedError

    def submit(self, name: str, batch: str, session: requests.Session) -> str:
        raise NotImplementedError

    def get(self, job_id: str, session: requests.Session) -> dict[str, Any]:
        raise NotImplementedError

    def batch(self, batch: str, session: requests.Session) -> list[dict[str, Any]]:
        raise NotImplementedError

    def status(self, record: dict[str, Any]) -> str:
        """``done``, ``failed`` or ``busy``."""
        raise NotImplementedError

    def times(self, record: dict[str, Any]) -> tuple[float | None, float | None, float | None]:
        """created, started, ended (POSIX seconds) from the record's own timestamps."""
        raise NotImplementedError

    def failure(self, record: dict[str, Any]) -> str:
        raise NotImplementedError

    def output_ok(self, record: dict[str, Any]) -> bool | None:
        """Whether the executed notebook of a completed job shows the cell's output."""
        return None


class JobextSide(Side):
    label = "jobext"

    def prepare(self) -> None:
        for job in ("nb-sequential", "nb-burst"):
            self.server.post(
                "jobs",
                {
                    "name": job,
                    "kind": "notebook",
                    "target": NOTEBOOK_NAME,
                    "max_concurrent": 1000,
                    "queue_when_busy": True,
                },
            )

    def ping(self, session: requests.Session) -> None:
        self.server.get("stats", session=session)

    def submit(self, name: str, batch: str, session: requests.Session) -> str:
        return str(self.server.post(f"jobs/nb-{batch}/runs", {}, session=session)["id"])

    def get(self, job_id: str, session: requests.Session) -> dict[str, Any]:
        return dict(self.server.get(f"runs/{job_id}", session=session))

    def batch(self, batch: str, session: requests.Session) -> list[dict[str, Any]]:
        return list(self.server.get(f"runs?job=nb-{batch}&per_page=1000", session=session)["items"])

    def status(self, record: dict[str, Any]) -> str:
        s = record["status"]
        return "done" if s == "succeeded" else "failed" if s in ("failed", "stopped") else "busy"

    def times(self, record: dict[str, Any]) -> tuple[float | None, float | None, float | None]:
        return (
            parse_time(record.get("created_at")),
            parse_time(record.get("started_at")),
            parse_time(record.get("ended_at")),
        )

    def failure(self, record: dict[str, Any]) -> str:
        logs = ""
        with contextlib.suppress(Exception):
            items = self.server.get(f"runs/{record['id']}/logs?limit=200")["items"]
            logs = "\n".join(i["text"] for i in items)[-3000:]
        return (
            f"jobext run {record['id']} ended {record['status']}: {record.get('error')}\n"
            f"{logs}\n--- server log ---\n{self.server.log_tail()}"
        )

    def output_ok(self, record: dict[str, Any]) -> bool | None:
        items = self.server.get(f"runs/{record['id']}/logs?limit=100")["items"]
        return any(i["text"].strip() == "2" for i in items)


class SchedulerSide(Side):
    label = "jupyter-scheduler"
    server: SchedulerServer

    def ping(self, session: requests.Session) -> None:
        self.server.get("api/status", session=session)

    def submit(self, name: str, batch: str, session: requests.Session) -> str:
        body = {
            "input_uri": NOTEBOOK_NAME,
            "runtime_environment_name": self.server.runtime_environment,
            "name": f"{batch}-{name}",
            "output_formats": ["ipynb"],
        }
        return str(self.server.post("scheduler/jobs", body, session=session)["job_id"])

    def get(self, job_id: str, session: requests.Session) -> dict[str, Any]:
        return dict(self.server.get(f"scheduler/jobs/{job_id}", session=session))

    def batch(self, batch: str, session: requests.Session) -> list[dict[str, Any]]:
        reply = self.server.get(f"scheduler/jobs?name={batch}-&max_items=1000", session=session)
        return list(reply.get("jobs", []))

    def status(self, record: dict[str, Any]) -> str:
        # A job is created with status STOPPED (the column's default in jupyter_scheduler/orm.py)
        # and shows it until its process sets IN_PROGRESS and a start_time: STOPPED only means
        # stopped once the job has started.
        s = record["status"]
        if s == "COMPLETED":
            return "done"
        if s == "FAILED" or (s == "STOPPED" and record.get("start_time")):
            return "failed"
        return "busy"

    def times(self, record: dict[str, Any]) -> tuple[float | None, float | None, float | None]:
        def sec(key: str) -> float | None:
            value = record.get(key)
            return None if value is None else value / 1000.0  # ms since the epoch

        return sec("create_time"), sec("start_time"), sec("end_time")

    def failure(self, record: dict[str, Any]) -> str:
        return (
            f"jupyter-scheduler job {record.get('job_id')} ended {record.get('status')}: "
            f"{record.get('status_message')}\n--- server log ---\n{self.server.log_tail(80)}"
        )

    def output_ok(self, record: dict[str, Any]) -> bool | None:
        staging = self.server.tmp / "data" / "scheduler_staging_area" / str(record["job_id"])
        inputs = {record.get("input_filename")}
        outputs = [p for p in staging.glob("*.ipynb") if p.name not in inputs]
        for path in outputs:
            nb = json.loads(path.read_text())
            texts = ["".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", [])]
            if any(t.strip() == "2" for t in texts):
                return True
        return False


# ---------------------------------------------------------------------------- measurements


class JobFailed(RuntimeError):
    pass


def one_job(side: Side, name: str, session: requests.Session) -> dict[str, Any]:
    """Create one job and poll it every ``POLL_S`` until it is completed."""
    t0 = time.time()
    job_id = side.submit(name, "sequential", session)
    t_post = time.time()
    deadline = time.monotonic() + JOB_TIMEOUT_S
    polls = 0
    while True:
        record = side.get(job_id, session)
        polls += 1
        state = side.status(record)
        if state == "done":
            break
        if state == "failed":
            raise JobFailed(side.failure(record))
        if time.monotonic() > deadline:
            raise JobFailed(
                f"{side.label}: job {job_id} not completed after {JOB_TIMEOUT_S:.0f} s "
                f"(status {record.get('status')})\n{side.server.log_tail()}"
            )
        time.sleep(POLL_S)
    t1 = time.time()
    c, s, e = side.times(record)
    return {
        "id": job_id,
        "total": t1 - t0,
        "post": t_post - t0,
        "created_to_started": (s - c) if s and c else None,
        "started_to_ended": (e - s) if e and s else None,
        "ended_to_seen": (t1 - e) if e else None,
        "polls": polls,
        "record": record,
    }


def sequential(side: Side, n: int) -> dict[str, Any]:
    session = side.server.new_session()
    warm = one_job(side, "warmup", session)  # imports, first kernel, SQLite page cache
    settle(side.server.pid)
    with TreeCpu(side.server.pid) as cpu:
        samples = [one_job(side, f"job-{i}", session) for i in range(n)]
    output_ok = side.output_ok(samples[-1]["record"])

    def phase(key: str) -> dict[str, Any]:
        return summary([s[key] for s in samples if s[key] is not None], scale=1000, digits=1)

    return {
        "jobs": n,
        "poll_interval_ms": POLL_S * 1000,
        "latency_ms": phase("total"),
        "warmup_ms": round(warm["total"] * 1000, 1),
        "phases_ms": {
            "create_reply": phase("post"),
            "created_to_started": phase("created_to_started"),
            "started_to_ended": phase("started_to_ended"),
            "ended_to_seen": phase("ended_to_seen"),
        },
        "each_ms": [round(s["total"] * 1000, 1) for s in samples],
        "polls_per_job": summary([s["polls"] for s in samples], digits=0),
        "cpu_s_per_job": round(cpu.seconds / n, 3) if cpu.seconds else None,
        "output_has_2": output_ok,
    }


def burst(side: Side, n: int) -> dict[str, Any]:
    """``n`` jobs submitted at once (``n`` client threads); jobs/s from the first submit until a
    poller sees the last completed; the server's process tree's RSS meanwhile."""
    settle(side.server.pid)
    local = threading.local()
    everyone = threading.Barrier(n)

    def connect(_: int) -> None:
        local.session = side.server.new_session()
        side.ping(local.session)
        everyone.wait(30)  # so that each of the n threads opens one connection

    def submit(i: int) -> tuple[float, str]:
        began = time.time()
        job_id = side.submit(f"{i:03d}", "burst", local.session)
        return time.time() - began, job_id

    poller = side.server.new_session()
    with ThreadPoolExecutor(n) as pool:
        # Open the clients' connections first so the burst is not also a burst of TCP handshakes.
        list(pool.map(connect, range(n)))
        machine_before = machine_cpu()
        with TreeRss(side.server.pid, SAMPLE_S) as rss, TreeCpu(side.server.pid) as cpu:
            t0 = time.time()
            futures = [pool.submit(submit, i) for i in range(n)]
            posted = [f.result() for f in futures]
            t_posted = time.time()
            deadline = time.monotonic() + BURST_TIMEOUT_S
            while True:
                records = side.batch("burst", poller)
                states = [side.status(r) for r in records]
                failed = [r for r, s in zip(records, states, strict=True) if s == "failed"]
                if failed:
                    raise JobFailed(side.failure(failed[0]))
                if len(records) >= n and all(s == "done" for s in states):
                    t_done = time.time()
                    break
                if time.monotonic() > deadline:
                    raise JobFailed(
                        f"{side.label}: {states.count('done')} of {n} burst jobs completed after "
                        f"{BURST_TIMEOUT_S:.0f} s\n{side.server.log_tail()}"
                    )
                time.sleep(BURST_POLL_S)
    elapsed = t_done - t0
    other = max(0.0, machine_cpu() - machine_before - (cpu.seconds or 0))
    if other / elapsed > 0.3:
        print(
            f"   [{side.label}: other work used {other / elapsed:.1f} CPUs during the burst: "
            "its figures are skewed]",
            flush=True,
        )
    times = [side.times(r) for r in records]
    created = [c for c, _, _ in times if c]
    started = [s for _, s, _ in times if s]
    ended = [e for _, _, e in times if e]
    return {
        "jobs": n,
        "jobs_per_s": round(n / elapsed, 2),
        "elapsed_s": round(elapsed, 3),
        "submit_all_s": round(t_posted - t0, 3),
        "submit_latency_ms": summary([p[0] for p in posted], scale=1000, digits=1),
        "jobs_per_s_server_side": round(n / (max(ended) - min(created)), 2)
        if created and ended
        else None,
        "queue_wait_ms": summary([s - c for c, s, _ in times if c and s], scale=1000, digits=1),
        "run_ms": summary([e - s for _, s, e in times if s and e], scale=1000, digits=1),
        "started_span_s": round(max(started) - min(started), 3) if started else None,
        "poll_interval_ms": BURST_POLL_S * 1000,
        "memory": rss.as_json(),
        "cpu_s": cpu.seconds,
        "cpu_s_per_job": round(cpu.seconds / n, 3) if cpu.seconds else None,
        # CPU the rest of the machine used meanwhile (this benchmark's clients included): when it
        # is large, other work competed with the job manager for the CPUs.
        "other_cpu_s": round(other, 2),
    }


class TreeRss:
    """Every ``interval`` s: the RSS of a process and all its descendants (summed); the peak."""

    def __init__(self, pid: int, interval: float):
        import psutil

        self.proc = psutil.Process(pid)
        self.interval = interval
        self.before = self.sample()
        self.peak = self.before
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def sample(self) -> dict[str, int]:
        server = self.proc.memory_info().rss
        children = 0
        count = 0
        for child in self.proc.children(recursive=True):
            with contextlib.suppress(Exception):  # it may end between listing and reading
                children += child.memory_info().rss
                count += 1
        return {"total": server + children, "server": server, "descendants": children, "n": count}

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            with contextlib.suppress(Exception):
                now = self.sample()
                self.samples += 1
                if now["total"] > self.peak["total"]:
                    self.peak = now

    def __enter__(self) -> TreeRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()

    def as_json(self) -> dict[str, Any]:
        return {
            "peak_total_mib": mib(self.peak["total"]),
            "at_peak_server_mib": mib(self.peak["server"]),
            "at_peak_descendants_mib": mib(self.peak["descendants"]),
            "at_peak_processes": self.peak["n"] + 1,
            "before_total_mib": mib(self.before["total"]),
            "before_server_mib": mib(self.before["server"]),
            "before_processes": self.before["n"] + 1,
            "samples": self.samples,
            "sample_interval_ms": self.interval * 1000,
        }


class TreeCpu:
    """CPU seconds (user + system) a server's process tree used while the block ran: the server,
    its descendants, and those that ended meanwhile (their time is in their parent's
    ``children_*`` times once reaped; a not yet reaped one still shows its own), so kernels and
    job processes count whoever started them. Other work on the machine does not."""

    def __init__(self, pid: int):
        import psutil

        self.proc = psutil.Process(pid)
        self.seconds: float | None = None

    def total(self) -> float:
        total = 0.0
        for p in [self.proc, *self.proc.children(recursive=True)]:
            with contextlib.suppress(Exception):
                t = p.cpu_times()
                total += t.user + t.system + t.children_user + t.children_system
        return total

    def __enter__(self) -> TreeCpu:
        self._start = self.total()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.seconds = round(self.total() - self._start, 2)


def machine_cpu() -> float:
    """CPU seconds (user + system) the whole machine has used."""
    import psutil

    t = psutil.cpu_times()
    return float(t.user + t.system)


def wait_quiet(limit_s: float = 10.0, threshold_pct: float = 15.0) -> float:
    """Wait up to ``limit_s`` for the machine's CPU use to drop below ``threshold_pct``; return
    the last reading (% of all CPUs)."""
    import psutil

    deadline = time.monotonic() + limit_s
    busy = float(psutil.cpu_percent(interval=0.5))
    while busy > threshold_pct and time.monotonic() < deadline:
        busy = float(psutil.cpu_percent(interval=1.0))
    return busy


def settle(pid: int, *, quiet_pct: float = 10.0, limit_s: float = 8.0) -> None:
    """Wait (up to ``limit_s``) until the server's process tree is idle: a kernel pool refilling
    or a kernel shutting down after the last job would otherwise be measured with the next one."""
    import psutil

    proc = psutil.Process(pid)
    deadline = time.monotonic() + limit_s

    def tree_cpu() -> float:
        total = 0.0
        for p in [proc, *proc.children(recursive=True)]:
            with contextlib.suppress(Exception):
                t = p.cpu_times()
                total += t.user + t.system
        return total

    time.sleep(0.2)
    while time.monotonic() < deadline:
        before = tree_cpu()
        time.sleep(0.25)
        if (tree_cpu() - before) / 0.25 * 100 < quiet_pct:
            return


# ---------------------------------------------------------------------------- the benchmark


def measure(
    make: Callable[[], contextlib.AbstractContextManager[JupyterServer]],
    side_class: type[Side],
    n_seq: int,
    n_burst: int,
) -> dict[str, Any]:
    busy = wait_quiet()
    with make() as server:
        side = side_class(server)
        side.prepare()
        with server.profiling(f"notebooks-{side.label}-sequential"):
            seq = sequential(side, n_seq)
        with server.profiling(f"notebooks-{side.label}-burst"):
            bur = burst(side, n_burst)
        startup = server.startup_s
    return {
        "sequential": seq,
        "burst": bur,
        "machine_busy_before_pct": round(busy, 1),
        "server_startup_s": round(startup or 0, 2),
        "server_peak_rss_mib": mib(server.peak_rss_bytes),
        "server_exit_code": server.exit_code,
    }


def burst_only(
    make: Callable[[], contextlib.AbstractContextManager[JupyterServer]],
    side_class: type[Side],
    n_burst: int,
) -> dict[str, Any]:
    """The burst alone, after one job to warm the server up."""
    wait_quiet()
    with make() as server:
        side = side_class(server)
        side.prepare()
        one_job(side, "warmup", server.new_session())
        return burst(side, n_burst)


@contextlib.contextmanager
def jobext_server(fork_kernels: bool = True) -> Iterator[JupyterServer]:
    server = JupyterServer(name="notebooks", config={"fork_kernels": fork_kernels})
    server.root.mkdir(parents=True, exist_ok=True)
    (server.root / NOTEBOOK_NAME).write_text(notebook())
    with server:
        yield server


@contextlib.contextmanager
def scheduler_server(bindir: Path) -> Iterator[JupyterServer]:
    server = SchedulerServer(bindir)
    server.root.mkdir(parents=True, exist_ok=True)
    (server.root / NOTEBOOK_NAME).write_text(notebook())
    with server:
        yield server


def run(quick: bool = False) -> Result:
    n_seq = 3 if quick else SEQUENTIAL
    n_burst = 8 if quick else BURST
    result = Result(
        "notebooks",
        f"a one-cell notebook as a job: jupyter-scheduler {SCHEDULER_VERSION} vs jobext "
        f"({n_seq} one at a time, {n_burst} at once)",
    )
    info: dict[str, Any] = {
        "notebook_cell": CELL,
        "jobs_one_at_a_time": n_seq,
        "jobs_at_once": n_burst,
    }
    sched: dict[str, Any] | None = None
    try:
        bindir = scheduler_venv()
        info["jupyter_scheduler_venv"] = str(VENV)
        info["jupyter_scheduler_versions"] = scheduler_versions(bindir)
        print("   jupyter-scheduler ...", flush=True)
        sched = measure(lambda: scheduler_server(bindir), SchedulerSide, n_seq, n_burst)
    except Unavailable as exc:
        print(f"   jupyter-scheduler is not available: {exc}", file=sys.stderr, flush=True)
        info["jupyter_scheduler_unavailable"] = str(exc)
    except (JobFailed, ApiError, requests.RequestException, TimeoutError) as exc:
        # Its figures are missing, but jobext is still measured; the failure is reported.
        print(f"   jupyter-scheduler side failed: {exc}", file=sys.stderr, flush=True)
        info["jupyter_scheduler_error"] = f"{type(exc).__name__}: {exc}"
    print("   jobext ...", flush=True)
    ours = measure(jobext_server, JobextSide, n_seq, n_burst)
    info["jobext"] = ours
    # The same burst with every kernel started rather than forked: what the fork server gives.
    print("   jobext, kernels started (fork_kernels=False) ...", flush=True)
    started = burst_only(lambda: jobext_server(fork_kernels=False), JobextSide, n_burst)
    info["jobext_kernels_started_burst"] = started
    info["jupyter_scheduler"] = sched

    def lat(d: dict[str, Any] | None, q: str) -> float | None:
        return None if d is None else d["sequential"]["latency_ms"].get(q)

    def rate(d: dict[str, Any] | None) -> float | None:
        return None if d is None else d["burst"]["jobs_per_s"]

    def peak(d: dict[str, Any] | None) -> float | None:
        return None if d is None else d["burst"]["memory"]["peak_total_mib"]

    s50, j50 = lat(sched, "p50"), lat(ours, "p50")
    result.add("jupyter-scheduler p50 create → completed", s50, "ms")
    result.add("jupyter-scheduler p95 create → completed", lat(sched, "p95"), "ms")
    result.add("jobext p50 create → completed", j50, "ms")
    result.add("jobext p95 create → completed", lat(ours, "p95"), "ms")
    ratio = round(s50 / j50, 2) if s50 and j50 else None
    result.add(
        "p50 ratio jupyter-scheduler / jobext",
        ratio,
        "x",
        target=f"≥ {TARGET_LATENCY_RATIO:g}x",
        ok=None if ratio is None else ratio >= TARGET_LATENCY_RATIO,
    )
    sr, jr = rate(sched), rate(ours)
    result.add(f"jupyter-scheduler {n_burst} at once", sr, "jobs/s")
    result.add(f"jobext {n_burst} at once", jr, "jobs/s")
    ratio = round(jr / sr, 2) if sr and jr else None
    result.add(
        "jobs/s ratio jobext / jupyter-scheduler",
        ratio,
        "x",
        target=f"≥ {TARGET_BURST_RATIO:g}x",
        ok=None if ratio is None else ratio >= TARGET_BURST_RATIO,
    )

    def cpu(d: dict[str, Any] | None) -> float | None:
        return None if d is None else d["burst"]["cpu_s_per_job"]

    result.add(
        f"jobext {n_burst} at once, kernels started not forked (fork_kernels=False)",
        started["jobs_per_s"],
        "jobs/s",
    )
    sc, jc = cpu(sched), cpu(ours)
    result.add("jupyter-scheduler CPU per job (burst)", sc, "s")
    result.add("jobext CPU per job (burst)", jc, "s")
    result.add("jobext CPU per job (burst), kernels started", started["cpu_s_per_job"], "s")
    sm, jm = peak(sched), peak(ours)
    result.add("jupyter-scheduler peak RSS, server + descendants (burst)", sm, "MiB")
    result.add(
        "jobext peak RSS, server + descendants (burst)",
        jm,
        "MiB",
        target="< jupyter-scheduler",
        ok=None if sm is None or jm is None else jm < sm,
    )
    if "jupyter_scheduler_unavailable" in info:
        first = info["jupyter_scheduler_unavailable"].splitlines()[-1][:200]
        result.add("jupyter-scheduler not available: jobext alone", None, "", target=first)
    if "jupyter_scheduler_error" in info:
        first = info["jupyter_scheduler_error"].splitlines()[0][:200]
        result.add("jupyter-scheduler side", None, "", target=f"ran ({first})", ok=False)
    failures = [
        label
        for label, d in (("jobext", ours), ("jupyter-scheduler", sched))
        if d is not None and d["sequential"]["output_has_2"] is False
    ]
    result.add(
        "executed notebooks without the cell's output",
        len(failures),
        "",
        at_most=0,
        target="0",
    )
    if failures:
        info["missing_output"] = failures
    result.info = info
    return result
