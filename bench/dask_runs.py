"""dask: the Dask executor against the local one. A real cluster (a scheduler and two worker
processes with ``jobext-slots=2`` each, on 127.0.0.1) and one server per executor, both with
``max_workers=4``: N trivial runs enqueued at once (runs/s), trivial runs one at a time (p50
latency), a 100,000-line log through the cluster (lines/s, every line delivered once, in order),
and the peak memory of the server and of the workers."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from .common import Result, mib, percentile
from .dask_cluster import Cluster
from .jobs import BENCHJOBS
from .server import JupyterServer
from .throughput import _burst

LINES = 100_000


def run(quick: bool = False) -> Result:
    n = 200 if quick else 1000
    result = Result("dask", f"{n} trivial runs, latency and a {LINES:,}-line log: dask vs local")
    info: dict[str, Any] = {"runs": n}
    with tempfile.TemporaryDirectory(prefix="jobext-bench-dask-") as tmp:
        cluster = Cluster(Path(tmp), workers=2, slots=2)
        try:
            cluster.wait_for_workers()
            for executor in ("local", "dask"):
                config: dict[str, Any] = {"max_workers": 4, "executor": executor}
                if executor == "dask":
                    config["dask_address"] = cluster.address
                with JupyterServer(
                    name=f"dask-{executor}", jobs_module=BENCHJOBS, config=config
                ) as server:
                    info[executor] = _measure(server, n, with_log=executor == "dask")
                info[executor]["server_peak_rss_mib"] = mib(server.peak_rss_bytes)
                info[executor]["workers_rss_mib"] = _workers_rss(cluster)
        finally:
            cluster.close()
    for executor in ("local", "dask"):
        got = info[executor]
        result.add(f"{executor}: runs/s ({n} at once)", got["runs_per_s"], "runs/s")
        result.add(f"{executor}: p50 latency (one at a time)", got["latency_p50_ms"], "ms")
        result.add(f"{executor}: server peak RSS", got["server_peak_rss_mib"], "MiB")
    log = info["dask"]["log"]
    result.add("dask: 100,000-line log", log["lines_per_s"], "lines/s")
    result.add("dask: log lines missing or out of order", log["wrong"], "", at_most=0, target="0")
    result.add("dask: workers' RSS after the runs", info["dask"]["workers_rss_mib"], "MiB")
    result.info = info
    return result


def _measure(server: JupyterServer, n: int, *, with_log: bool) -> dict[str, Any]:
    server.register("warmup", "benchjobs:noop", max_concurrent=1000, queue_when_busy=True)
    for _ in range(8):
        server.post("jobs/warmup/runs", {"args": {}})
    server.register("burst", "benchjobs:noop", max_concurrent=1000, queue_when_busy=True)
    time.sleep(2.0)
    burst = _burst(server, "burst", n)
    server.register("single", "benchjobs:noop")
    latencies = []
    for _ in range(30):
        began = time.perf_counter()
        run = server.post("jobs/single/runs", {"args": {}})
        while server.get(f"runs/{run['id']}")["status"] not in ("succeeded", "failed", "stopped"):
            time.sleep(0.002)
        latencies.append(time.perf_counter() - began)
    p50 = percentile(latencies, 50)
    measured: dict[str, Any] = {
        "runs_per_s": burst["runs_per_s"],
        "burst_statuses": burst["statuses"],
        "latency_p50_ms": round(p50 * 1000, 1) if p50 else None,
        "latency_p95_ms": round((percentile(latencies, 95) or 0) * 1000, 1),
    }
    if with_log:
        measured["log"] = _log(server)
    return measured


def _log(server: JupyterServer) -> dict[str, Any]:
    server.register("spew", "benchjobs:spew")
    began = time.perf_counter()
    run = server.post("jobs/spew/runs", {"args": {"n": LINES}})
    while server.get(f"runs/{run['id']}")["status"] not in ("succeeded", "failed", "stopped"):
        time.sleep(0.01)
    elapsed = time.perf_counter() - began
    numbers: list[int] = []
    after = 0
    while True:
        page = server.get(f"runs/{run['id']}/logs", params={"after": after, "limit": 10_000})
        numbers += [int(i["text"].split()[0]) for i in page["items"] if i["stream"] == "stdout"]
        if not page["more"]:
            break
        after = page["next_after"]
    wrong = sum(1 for i, got in enumerate(numbers) if got != i) + abs(LINES - len(numbers))
    return {"lines": len(numbers), "wrong": wrong, "lines_per_s": round(LINES / elapsed)}


def _workers_rss(cluster: Cluster) -> float | None:
    total = 0
    for process in cluster.processes[1:]:
        try:
            parent = psutil.Process(process.pid)
            total += sum(p.memory_info().rss for p in [parent, *parent.children(recursive=True)])
        except psutil.Error:
            continue
    return mib(total)
