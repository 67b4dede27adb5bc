"""stall: does jobext's work stall the Jupyter server it runs in? (issue 8)

A prober process sends Jupyter's own ``GET /api/status`` every 20 ms (on a keep-alive connection
of its own) and records each answer's latency while jobext is doing one of:

* ``idle``: nothing;
* ``flood``: one job printing 100,000 lines while 3 SSE clients follow its ``/runs/{id}/events``;
* ``burst``: 300 runs of a no-op job enqueued at once by 8 client threads, until all have ended
  (runs/s = 300 / first POST → a poller sees none in progress);
* ``delete``: two 150,000-line runs, then ``DELETE /jobs/{name}``.

On SQLite, on PostgreSQL (a fresh database on ``JOBEXT_BENCH_POSTGRES``, default
``postgresql+psycopg://postgres@127.0.0.1:5432``, dropped afterwards), and on PostgreSQL reached
through :class:`DelayProxy`, a TCP proxy in this process that holds every chunk the server sends
to PostgreSQL for 20 ms: each round trip to the database takes 20 ms longer, as with a database
one network hop away. Target: p99 ≤ 50 ms during every load on every database.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from . import sse
from .common import CpuMeter, Result, summary
from .jobs import BENCHJOBS
from .server import API, JupyterServer

TARGET_P99_MS = 50.0
PROBE_EVERY_S = 0.02
PROXY_DELAY_S = 0.020
CLIENT_THREADS = 8
SSE_CLIENTS = 3
POSTGRES = os.environ.get("JOBEXT_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")


# ---------------------------------------------------------------------------- the probe


class StatusProbe:
    """``GET /api/status`` every ``every`` s from a process of its own (``bench.probe``);
    latencies in seconds.

    Probes are sent on a fixed cadence; one that answers late delays the next (they never pile
    up), so a stall shows as one slow answer, as a user's request during it would see it. The
    prober is a separate process: a thread would share this process's interpreter lock with the
    SSE clients reading 100,000 events each, and its answers would wait for them, not for the
    server.
    """

    def __init__(self, server: JupyterServer, every: float = PROBE_EVERY_S):
        self.server = server
        self.every = every
        self.samples: list[tuple[float, float]] = []  # (sent at, wall clock; latency)
        self.errors = 0
        self._process: subprocess.Popen[str] | None = None

    def __enter__(self) -> StatusProbe:
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.probe",
                f"{self.server.base}/api/status",
                self.server.token,
                str(self.every),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=str(Path(__file__).resolve().parent.parent),
        )
        assert self._process.stdout is not None
        if self._process.stdout.readline().strip() != "ready":
            raise RuntimeError("the status prober did not start")
        return self

    def __exit__(self, *exc: Any) -> None:
        assert self._process is not None
        out, _ = self._process.communicate(timeout=60)
        report = json.loads(out.strip().splitlines()[-1])
        self.samples = [(sent, lat) for sent, lat in report["samples"]]
        self.errors = report["errors"]

    def latencies(self, since: float = 0.0, until: float = float("inf")) -> list[float]:
        """The probes that were waiting at some time between ``since`` and ``until``."""
        return [lat for sent, lat in self.samples if sent <= until and sent + lat >= since]


# ---------------------------------------------------------------------------- the proxy


class DelayProxy:
    """A TCP proxy on 127.0.0.1 to ``host:port`` that forwards each chunk from the client
    ``delay`` s after it arrived (in order) and the answers at once: every round trip through it
    takes ``delay`` longer. It runs an asyncio loop in a thread of its own."""

    def __init__(self, host: str, port: int, delay: float = PROXY_DELAY_S):
        self.target = (host, port)
        self.delay = delay
        self.port = 0
        self.connections = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="delay-proxy", daemon=True)
        self._server: asyncio.Server | None = None

    def __enter__(self) -> DelayProxy:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", 0)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        self._server.close()

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            up_r, up_w = await asyncio.open_connection(*self.target)
        except OSError:
            client_w.close()
            return
        await asyncio.gather(
            self._pipe(client_r, up_w, self.delay),
            self._pipe(up_r, client_w, 0.0),
            return_exceptions=True,
        )
        for writer in (client_w, up_w):
            writer.close()

    async def _pipe(
        self, src: asyncio.StreamReader, dst: asyncio.StreamWriter, delay: float
    ) -> None:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def forward() -> None:
            while True:
                due, chunk = await queue.get()
                if not chunk:
                    break
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                dst.write(chunk)
                await dst.drain()
            with contextlib.suppress(OSError):
                dst.write_eof()

        sender = loop.create_task(forward())
        try:
            while chunk := await src.read(1 << 16):
                queue.put_nowait((loop.time() + delay, chunk))
        finally:
            queue.put_nowait((0.0, b""))
            await sender


# ---------------------------------------------------------------------------- databases


@contextlib.contextmanager
def postgres_database() -> Iterator[tuple[str, str, int]]:
    """A fresh database on the benchmark's PostgreSQL server; yields (name, host, port) and
    drops it (closing its connections) afterwards."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(POSTGRES)
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    name = f"jobext_bench_stall_{secrets.token_hex(4)}"
    with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name, url.host or "127.0.0.1", url.port or 5432
    finally:
        with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_url(database: str, port: int | None = None) -> str:
    from sqlalchemy.engine import make_url

    url = make_url(POSTGRES).set(database=database)
    if port is not None:
        url = url.set(host="127.0.0.1", port=port)
    return url.render_as_string(hide_password=False)


@contextlib.contextmanager
def sqlite_server() -> Iterator[tuple[JupyterServer, dict[str, Any]]]:
    with JupyterServer(name="stall-sqlite", jobs_module=BENCHJOBS) as server:
        yield server, {}


@contextlib.contextmanager
def postgres_server(delay: float = 0.0) -> Iterator[tuple[JupyterServer, dict[str, Any]]]:
    with postgres_database() as (name, host, port):
        if not delay:
            with JupyterServer(
                name="stall-postgres", jobs_module=BENCHJOBS, db_url=postgres_url(name)
            ) as server:
                yield server, {}
            return
        with (
            DelayProxy(host, port, delay) as proxy,
            JupyterServer(
                name="stall-postgres-delayed",
                jobs_module=BENCHJOBS,
                db_url=postgres_url(name, proxy.port),
            ) as server,
        ):
            info: dict[str, Any] = {"proxy_delay_ms": delay * 1000}
            yield server, info
            info["proxy_connections"] = proxy.connections


# ---------------------------------------------------------------------------- the loads


def idle(server: JupyterServer, sizes: dict[str, int]) -> dict[str, Any]:
    time.sleep(sizes["idle_s"])
    return {"seconds": sizes["idle_s"]}


def flood(server: JupyterServer, sizes: dict[str, int]) -> dict[str, Any]:
    n = sizes["flood_lines"]
    server.register("flood", "benchjobs:spew", max_concurrent=1, queue_when_busy=True)
    created = server.post("jobs/flood/runs", {"args": {"n": n}})
    path = f"{API}/runs/{created['id']}/events"
    with ThreadPoolExecutor(SSE_CLIENTS) as pool:
        captures = list(
            pool.map(
                lambda _: sse.capture("127.0.0.1", server.port, path, server.token),
                range(SSE_CLIENTS),
            )
        )
    received = []
    for capture in captures:
        # Count the log events without parsing them (keeps this process's CPU use low).
        body = b"".join(chunk for _, chunk in capture.chunks)
        received.append(body.count(b"\nevent: log\n"))
    run = server.get(f"runs/{created['id']}")
    return {
        "lines": n,
        "sse_clients": SSE_CLIENTS,
        "log_events_received_each": received,
        "run_status": run["status"],
        "run_duration_s": run["duration_s"],
    }


def burst(server: JupyterServer, sizes: dict[str, int]) -> dict[str, Any]:
    n = sizes["burst_runs"]
    server.register("noop", "benchjobs:noop", max_concurrent=1000, queue_when_busy=True)
    local = threading.local()

    def post(_: int) -> float:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = server.new_session()
        began = time.perf_counter()
        server.post("jobs/noop/runs", {"args": {}}, session=session)
        return time.perf_counter() - began

    t0 = time.time()
    with ThreadPoolExecutor(CLIENT_THREADS) as pool:
        posts = list(pool.map(post, range(n)))
    t_posted = time.time()
    t_done = wait_idle(server, "noop", n)
    succeeded = server.get("runs?job=noop&status=succeeded&per_page=1")["total"]
    return {
        "runs": n,
        "client_threads": CLIENT_THREADS,
        "runs_per_s": round(n / (t_done - t0), 1),
        "enqueue_all_s": round(t_posted - t0, 2),
        "post_latency_ms": summary(posts, scale=1000, digits=1),
        "succeeded": succeeded,
    }


def delete(server: JupyterServer, sizes: dict[str, int]) -> dict[str, Any]:
    n = sizes["delete_lines"]
    server.register("big", "benchjobs:spew", max_concurrent=2)
    runs = [server.post("jobs/big/runs", {"args": {"n": n}}) for _ in range(2)]
    wait_idle(server, "big", 2)
    began = time.time()
    server.call("DELETE", "jobs/big", expect=(204,), timeout=600)
    ended = time.time()
    server.call("GET", "jobs/big", expect=(404,))  # gone
    return {
        "lines_per_run": n,
        "runs": [r["id"] for r in runs],
        "delete_s": round(ended - began, 3),
        "_delete_window": (began, ended),
    }


def wait_idle(server: JupyterServer, job: str, expected: int, timeout: float = 900.0) -> float:
    """Poll until ``job`` has ``expected`` runs and none in progress; when that was seen."""
    session = server.new_session()
    deadline = time.monotonic() + timeout
    while True:
        busy = server.get(f"runs?job={job}&status=IN_PROGRESS&per_page=1", session=session)["total"]
        if busy == 0 and server.get(f"runs?job={job}&per_page=1", session=session)["total"] >= (
            expected
        ):
            session.close()
            return time.time()
        if time.monotonic() > deadline:
            raise TimeoutError(f"{busy} run(s) of {job} still in progress after {timeout} s")
        time.sleep(0.1 if busy > 10 else 0.01)


LOADS: dict[str, tuple[str, Callable[[JupyterServer, dict[str, int]], dict[str, Any]]]] = {
    "idle": ("nothing", idle),
    "flood": ("one job printing {flood_lines:,} lines, 3 SSE clients following it", flood),
    "burst": ("{burst_runs} runs enqueued at once (8 client threads)", burst),
    "delete": ("two {delete_lines:,}-line runs, then DELETE /jobs/{{name}}", delete),
}
DATABASES: dict[str, tuple[str, Callable[[], Any]]] = {
    "sqlite": ("SQLite", sqlite_server),
    "postgres": ("PostgreSQL", lambda: postgres_server()),
    "postgres+20ms": (
        f"PostgreSQL +{PROXY_DELAY_S * 1000:.0f} ms",
        lambda: postgres_server(PROXY_DELAY_S),
    ),
}


# ---------------------------------------------------------------------------- the benchmark


def measure(label: str, make: Callable[[], Any], sizes: dict[str, int]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with make() as (server, info):
        out["server_startup_s"] = round(server.startup_s or 0, 2)
        for load, (_, fn) in LOADS.items():
            time.sleep(1.0)  # let the previous load's tail settle
            print(f"   {label}: {load} ...", flush=True)
            with server.profiling(f"stall-{label}-{load}"):
                cpu = CpuMeter(server.pid)
                with StatusProbe(server) as probe:
                    began = time.time()
                    details = fn(server, sizes)
                    ended = time.time()
                cpu.stop()
            window = details.pop("_delete_window", None)
            lat = summary(probe.latencies(began, ended), scale=1000, digits=1)
            out[load] = {
                "status_ms": lat,
                "probe_errors": probe.errors,
                "seconds": round(ended - began, 2),
                **details,
                **cpu.as_json(),
            }
            if window is not None:
                out[load]["status_ms_during_delete"] = summary(
                    probe.latencies(*window), scale=1000, digits=1
                )
            print(
                f"   {label}: {load}: /api/status p50 {lat.get('p50')} ms, p99 {lat.get('p99')} "
                f"ms, max {lat.get('max')} ms ({lat.get('n')} probes)",
                flush=True,
            )
    out.update(info)
    out["server_peak_rss_mib"] = round((server.peak_rss_bytes or 0) / (1 << 20), 1)
    out["server_exit_code"] = server.exit_code
    return out


def table(measured: dict[str, dict[str, Any]], sizes: dict[str, int]) -> str:
    """The issue's table: one row per load, p50 / p99 / max per database."""
    dbs = [db for db in DATABASES if db in measured]
    head = "| jobext is doing | " + " | ".join(f"{DATABASES[db][0]} p50 / p99 / max" for db in dbs)
    lines = [head + " |", "| --- |" + " --- |" * len(dbs)]
    for load, (title, _) in LOADS.items():
        cells = []
        for db in dbs:
            lat = measured[db].get(load, {}).get("status_ms", {})
            cells.append(
                f"{lat.get('p50')} / {lat.get('p99')} / {lat.get('max')} ms" if lat else "n/a"
            )
        lines.append(f"| {title.format(**sizes)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run(quick: bool = False, databases: list[str] | None = None) -> Result:
    sizes = (
        {"idle_s": 3, "flood_lines": 20_000, "burst_runs": 100, "delete_lines": 30_000}
        if quick
        else {"idle_s": 5, "flood_lines": 100_000, "burst_runs": 300, "delete_lines": 150_000}
    )
    result = Result(
        "stall",
        "Jupyter's GET /api/status, probed every 20 ms, while jobext works "
        "(SQLite, PostgreSQL, PostgreSQL +20 ms per round trip)",
    )
    measured: dict[str, dict[str, Any]] = {}
    errors: dict[str, str] = {}
    for db in databases or list(DATABASES):
        label, make = DATABASES[db]
        try:
            measured[db] = measure(db, make, sizes)
        except Exception as exc:  # one database failing still reports the others
            errors[db] = f"{type(exc).__name__}: {exc}"
            print(f"   {db} failed: {errors[db]}", flush=True)
    for db in databases or list(DATABASES):
        label = DATABASES[db][0]
        for load in LOADS:
            lat = measured.get(db, {}).get(load, {}).get("status_ms", {})
            result.add(
                f"p99 /api/status, {label}, {load}", lat.get("p99"), "ms", at_most=TARGET_P99_MS
            )
    for db in databases or list(DATABASES):
        rate = measured.get(db, {}).get("burst", {}).get("runs_per_s")
        result.add(
            f"runs/s of the {sizes['burst_runs']}-run burst, {DATABASES[db][0]}", rate, "runs/s"
        )
    print()
    print(table(measured, sizes))
    result.info = {
        "sizes": sizes,
        "probe_every_ms": PROBE_EVERY_S * 1000,
        "proxy_delay_ms": PROXY_DELAY_S * 1000,
        "table": table(measured, sizes),
        "databases": measured,
        "errors": errors,
    }
    return result
