"""list query: ``GET /runs?job=<j>&status=succeeded`` (default page size 50) against a database
holding 1,000,000 finished runs of 100 jobs; a few other common list queries for information."""

from __future__ import annotations

import random
import time
from typing import Any

from . import fill
from .common import CpuMeter, Result, mib, summary
from .server import JupyterServer

TARGET_P50_MS = 20.0


def run(quick: bool = False) -> Result:
    rows = 200_000 if quick else 1_000_000
    reps = 30 if quick else 100
    result = Result("list", f"GET /runs?job=J&status=succeeded with {rows:,} runs in the database")
    began = time.perf_counter()
    source = fill.cached_db(rows)
    prepared_s = time.perf_counter() - began
    server = JupyterServer(name="list")
    server.tmp.mkdir(parents=True, exist_ok=True)
    fill.copy_db(source, server.db_file)
    db_bytes = server.db_file.stat().st_size
    rng = random.Random(7)
    jobs = fill.job_names()
    with server:
        session = server.session
        sample = server.get(f"runs?job={jobs[0]}&status=succeeded")
        expected_total = sample["total"]

        def timed(path: str, n: int) -> tuple[list[float], Any]:
            for _ in range(3):  # warm-up (page cache, statement cache)
                server.get(path, session=session)
            times = []
            reply = None
            for _ in range(n):
                t0 = time.perf_counter()
                reply = server.get(path, session=session)
                times.append(time.perf_counter() - t0)
            return times, reply

        # The target: a different job each request, so no single job's pages are always hot.
        for job in jobs[:5]:
            server.get(f"runs?job={job}&status=succeeded", session=session)
        main_times = []
        with server.profiling("list"):
            cpu = CpuMeter(server.pid)
            for _ in range(reps):
                job = rng.choice(jobs)
                t0 = time.perf_counter()
                reply = server.get(f"runs?job={job}&status=succeeded", session=session)
                main_times.append(time.perf_counter() - t0)
                assert len(reply["items"]) == 50, reply
            cpu.stop()

        others: dict[str, Any] = {}
        n_other = 10 if quick else 20
        queries = {
            "no filter": "runs",
            "job only": f"runs?job={jobs[1]}",
            "status=IN_PROGRESS": "runs?status=IN_PROGRESS",
            "status=failed": "runs?status=failed",
            "job + status=FAILED (group)": f"runs?job={jobs[2]}&status=FAILED",
            "from/to one week": _week_range(server),
            "job + status, page 100": f"runs?job={jobs[3]}&status=succeeded&page=100",
            "job + status, sort=-duration_s": f"runs?job={jobs[4]}&status=succeeded&sort=-duration_s",
            "per_page=1000": f"runs?job={jobs[5]}&status=succeeded&per_page=1000",
            "GET /stats": "stats",
            "GET /jobs/{name}/stats": f"jobs/{jobs[6]}/stats",
        }
        for label, path in queries.items():
            times, reply = timed(path, n_other)
            s = summary(times, scale=1000, digits=1)
            others[label] = {
                "path": path,
                "p50_ms": s["p50"],
                "p95_ms": s["p95"],
                "total": reply.get("total") if isinstance(reply, dict) else None,
            }
        startup_s = server.startup_s
    stats = summary(main_times, scale=1000, digits=2)
    result.add("p50 job+status query", stats["p50"], "ms", at_most=TARGET_P50_MS)
    result.add("p95 job+status query", stats["p95"], "ms")
    result.add("server peak RSS", mib(server.peak_rss_bytes), "MiB")
    for label in ("no filter", "status=IN_PROGRESS", "from/to one week"):
        result.add(f"p50 {label} (info)", others[label]["p50_ms"], "ms")
    result.info = {
        "rows": rows,
        "jobs": len(jobs),
        "requests": reps,
        "matches_per_job_status_query": expected_total,
        "latency_ms": stats,
        "other_queries": others,
        "database_bytes": db_bytes,
        "database_prepare_s": round(prepared_s, 1),
        **cpu.as_json(),
        "server_cpu_ms_per_request": round(cpu.server_s * 1000 / reps, 2) if cpu.server_s else None,
        "server_startup_s": round(startup_s or 0, 2),
        "server_peak_rss_mib": mib(server.peak_rss_bytes),
        "server_exit_code": server.exit_code,
    }
    return result


def _week_range(server: JupyterServer) -> str:
    """``runs?from=...&to=...`` for one week in the middle of the filled year."""
    import datetime as dt

    first = server.get("runs?sort=created_at&per_page=1")["items"][0]["created_at"]
    last = server.get("runs?sort=-created_at&per_page=1")["items"][0]["created_at"]
    lo = dt.datetime.fromisoformat(first.replace("Z", "+00:00"))
    hi = dt.datetime.fromisoformat(last.replace("Z", "+00:00"))
    mid = lo + (hi - lo) / 2
    return f"runs?from={mid:%Y%m%d}&to={mid + dt.timedelta(days=6):%Y%m%d}"
