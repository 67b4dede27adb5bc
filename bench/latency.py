"""latency: a no-op python job, from ``POST /jobs/{name}/runs`` to ``succeeded`` as seen by a
client polling ``GET /runs/{id}`` every ~2 ms. Runs go one at a time."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from typing import Any

from .common import CpuMeter, Result, mib, parse_time, summary
from .jobs import BENCHJOBS
from .server import JupyterServer

FINAL = {"succeeded", "failed", "stopped"}
POLL_S = 0.002
TARGET_P50_MS = 15.0


def _interpreter_floor(reps: int) -> dict[str, Any]:
    """How long a bare ``python`` and ``python -c 'import jobext.job.runner'`` take to start and
    exit on this machine: the floor under any run of the local executor."""
    out: dict[str, Any] = {}
    for label, code in (
        ("python_startup_ms", "pass"),
        ("import_jobext_runner_ms", "import jobext.job.runner"),
    ):
        times = []
        for _ in range(reps):
            began = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True)
            times.append(time.perf_counter() - began)
        out[label] = round(statistics.median(times) * 1000, 1)
    return out


def run(quick: bool = False) -> Result:
    runs = 20 if quick else 50
    result = Result(
        "latency",
        f"trivial job, POST → succeeded seen by a 2 ms poller ({runs} runs, one at a time)",
    )
    with JupyterServer(name="latency", jobs_module=BENCHJOBS) as server:
        server.register("noop", "benchjobs:noop", max_concurrent=1, queue_when_busy=True)
        session = server.session
        for _ in range(3):  # warm-up: imports, first subprocess, SQLite page cache
            _one(server, session)
        with server.profiling("latency"):
            cpu = CpuMeter(server.pid)
            samples = [_one(server, session) for _ in range(runs)]
            cpu.stop()
        startup_s = server.startup_s
    failed = [s for s in samples if s["status"] != "succeeded"]
    latencies = [s["total"] for s in samples]
    stats = summary(latencies, scale=1000, digits=1)
    result.add("p50 POST → succeeded", stats["p50"], "ms", at_most=TARGET_P50_MS)
    result.add("p95 POST → succeeded", stats["p95"], "ms")
    result.add("runs not succeeded", len(failed), "", at_most=0, target="0")
    result.add("server peak RSS", mib(server.peak_rss_bytes), "MiB")
    result.info = {
        "runs": runs,
        "poll_interval_ms": POLL_S * 1000,
        "latency_ms": stats,
        # Where the time goes, from the run's own timestamps (ms precision):
        "phases_ms": {
            "post_reply": summary([s["post"] for s in samples], scale=1000, digits=1),
            "created_to_started": summary(
                [s["queued"] for s in samples if s["queued"] is not None], scale=1000, digits=1
            ),
            "started_to_ended": summary(
                [s["running"] for s in samples if s["running"] is not None], scale=1000, digits=1
            ),
            "ended_to_seen": summary(
                [s["notice"] for s in samples if s["notice"] is not None], scale=1000, digits=1
            ),
        },
        "polls_per_run": summary([s["polls"] for s in samples], digits=0),
        **_interpreter_floor(5 if quick else 10),
        **cpu.as_json(),
        "server_cpu_ms_per_run": round(cpu.server_s * 1000 / runs, 1) if cpu.server_s else None,
        "job_cpu_ms_per_run": round(cpu.children_s * 1000 / runs, 1) if cpu.children_s else None,
        "server_startup_s": round(startup_s or 0, 2),
        "server_peak_rss_mib": mib(server.peak_rss_bytes),
        "server_exit_code": server.exit_code,
    }
    if failed:
        result.info["failed_example"] = failed[0]
    return result


def _one(server: JupyterServer, session: Any) -> dict[str, Any]:
    t0 = time.time()
    created = server.post("jobs/noop/runs", {"args": {}}, session=session)
    t_post = time.time()
    url = f"runs/{created['id']}"
    polls = 0
    while True:
        run = server.get(url, session=session)
        polls += 1
        if run["status"] in FINAL:
            break
        time.sleep(POLL_S)
    t1 = time.time()
    c, s, e = (parse_time(run.get(k)) for k in ("created_at", "started_at", "ended_at"))
    return {
        "id": run["id"],
        "status": run["status"],
        "error": run.get("error"),
        "total": t1 - t0,
        "post": t_post - t0,
        "queued": (s - c) if s and c else None,
        "running": (e - s) if e and s else None,
        "notice": (t1 - e) if e else None,
        "polls": polls,
    }
