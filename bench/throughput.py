"""throughput: N runs of a no-op job enqueued at once (a thread pool of 8 HTTP clients), the
server's default ``max_workers`` (= CPU count); runs/s from the first POST to the moment a poller
sees the last run final. Repeated on the same server; the median burst is reported."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .common import CpuMeter, Result, mib, parse_time, percentile, summary
from .jobs import BENCHJOBS
from .server import JupyterServer, RssSampler

TARGET_RUNS_PER_S = 150.0
CLIENT_THREADS = 8
POLL_S = 0.005
POLL_SLOW_S = 0.1


def run(quick: bool = False) -> Result:
    n = 100 if quick else 300
    reps = 1 if quick else 3
    result = Result(
        "throughput",
        f"{n} trivial runs enqueued at once ({CLIENT_THREADS} client threads), default "
        f"max_workers (median of {reps} bursts)",
    )
    bursts: list[dict[str, Any]] = []
    with JupyterServer(name="throughput", jobs_module=BENCHJOBS) as server:
        server.register("warmup", "benchjobs:noop", max_concurrent=1000, queue_when_busy=True)
        # Warm-up: a few runs through the whole path, then wait for them to end.
        for _ in range(4):
            server.post("jobs/warmup/runs", {"args": {}})
        _wait_idle(server, "warmup", 4, timeout=60)
        workers = server.get("stats").get("workers")
        for k in range(reps):
            job = f"burst-{k + 1}"
            server.register(job, "benchjobs:noop", max_concurrent=1000, queue_when_busy=True)
            bursts.append(_burst(server, job, n))
        startup_s = server.startup_s
    rates = [b["runs_per_s"] for b in bursts]
    rate = percentile(rates, 50)
    failed = sum(n - b["statuses"].get("succeeded", 0) for b in bursts)
    result.add(
        "runs/s (first POST → last final)",
        round(rate, 1) if rate else None,
        "runs/s",
        at_least=TARGET_RUNS_PER_S,
    )
    result.add("runs not succeeded", failed, "", at_most=0, target="0")
    result.add("server peak RSS", mib(server.peak_rss_bytes), "MiB")
    result.info = {
        "runs_per_burst": n,
        "bursts": reps,
        "enqueue": f"thread pool of {CLIENT_THREADS} keep-alive HTTP clients (requests)",
        "completion_poll": "GET /runs?job=J&status=IN_PROGRESS&per_page=1 every 100 ms, "
        "every 5 ms once at most 10 are left",
        "runs_per_s_each": rates,
        "servers_registered": workers,
        "each": bursts,
        "server_startup_s": round(startup_s or 0, 2),
        "server_peak_rss_mib": mib(server.peak_rss_bytes),
        "server_exit_code": server.exit_code,
    }
    return result


def _burst(server: JupyterServer, job: str, n: int) -> dict[str, Any]:
    local = threading.local()

    def post(_: int) -> tuple[float, int]:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = server.new_session()
        began = time.time()
        created = server.post(f"jobs/{job}/runs", {"args": {}}, session=session)
        return time.time() - began, created["id"]

    with (
        server.profiling(f"throughput-{job}"),
        RssSampler(server.pid) as rss,
        ThreadPoolExecutor(CLIENT_THREADS) as pool,
    ):
        cpu = CpuMeter(server.pid)
        t0 = time.time()
        futures = [pool.submit(post, i) for i in range(n)]
        posted = [f.result() for f in futures]
        t_posted = time.time()
        t_done = _wait_idle(server, job, n, timeout=600)
        cpu.stop()
    runs = _all_runs(server, job)
    elapsed = t_done - t0
    statuses: dict[str, int] = {}
    for r in runs:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    created = [parse_time(r["created_at"]) or 0.0 for r in runs]
    started = [parse_time(r["started_at"]) or 0.0 for r in runs if r["started_at"]]
    ended = [parse_time(r["ended_at"]) or 0.0 for r in runs if r["ended_at"]]
    return {
        "job": job,
        "runs_per_s": round(n / elapsed, 1),
        "elapsed_s": round(elapsed, 3),
        "statuses": statuses,
        "enqueue_all_s": round(t_posted - t0, 3),
        "enqueue_rate_per_s": round(n / (t_posted - t0), 1),
        "post_latency_ms": summary([p[0] for p in posted], scale=1000, digits=1),
        # From the runs' own timestamps (ms precision): first created to last ended.
        "runs_per_s_server_side": round(n / (max(ended) - min(created)), 1)
        if created and ended
        else None,
        "queue_wait_ms": summary(
            [
                (parse_time(r["started_at"]) or 0.0) - (parse_time(r["created_at"]) or 0.0)
                for r in runs
                if r["started_at"]
            ],
            scale=1000,
            digits=1,
        ),
        "run_duration_ms": summary(
            [r["duration_s"] for r in runs if r["duration_s"] is not None], scale=1000, digits=1
        ),
        "started_span_s": round(max(started) - min(started), 3) if started else None,
        **cpu.as_json(),
        "server_cpu_ms_per_run": round(cpu.server_s * 1000 / n, 2) if cpu.server_s else None,
        "job_cpu_ms_per_run": round(cpu.children_s * 1000 / n, 2) if cpu.children_s else None,
        "job_processes_peak_rss_total_mib": mib(rss.peak_children_total),
    }


def _wait_idle(server: JupyterServer, job: str, expected: int, *, timeout: float) -> float:
    """Poll until ``job`` has ``expected`` runs and none in progress; return when that was seen."""
    session = server.new_session()
    deadline = time.monotonic() + timeout
    while True:
        busy = server.get(f"runs?job={job}&status=IN_PROGRESS&per_page=1", session=session)["total"]
        if busy == 0:
            total = server.get(f"runs?job={job}&per_page=1", session=session)["total"]
            if total >= expected:
                return time.time()
        if time.monotonic() > deadline:
            raise TimeoutError(f"{busy} run(s) of {job} still in progress after {timeout} s")
        # Poll gently while many runs are left (each poll costs the server a request too),
        # closely near the end, where the poll interval bounds the error of the measurement.
        time.sleep(POLL_SLOW_S if busy > 10 else POLL_S)


def _all_runs(server: JupyterServer, job: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    page = 0
    while True:
        reply = server.get(f"runs?job={job}&per_page=1000&page={page}")
        items.extend(reply["items"])
        if len(items) >= reply["total"] or not reply["items"]:
            return items
        page += 1
