"""log streaming: a job prints N lines (``f"{i} {time.time()}"``); an SSE client of
``/runs/{id}/events`` must get every line exactly once and in order, fast, and soon after it was
printed. Afterwards the stored log (``GET /runs/{id}/logs``) is checked to hold every line too."""

from __future__ import annotations

import itertools
import time
from typing import Any

from . import sse
from .common import CpuMeter, Result, mib, percentile, summary
from .jobs import BENCHJOBS
from .server import API, JupyterServer

TARGET_LINES_PER_S = 50_000.0
TARGET_P95_MS = 250.0


def run(quick: bool = False) -> Result:
    n = 20_000 if quick else 100_000
    reps = 1 if quick else 3
    result = Result(
        "logs",
        f"a job printing {n:,} lines, followed over SSE /runs/{{id}}/events (median of {reps} runs)",
    )
    rounds: list[dict[str, Any]] = []
    with JupyterServer(name="logs", jobs_module=BENCHJOBS) as server:
        server.register("spew", "benchjobs:spew", max_concurrent=1, queue_when_busy=True)
        _follow(server, 2_000)  # warm-up
        for k in range(reps):
            with server.profiling(f"logs-{k + 1}"):
                cpu = CpuMeter(server.pid)
                t_post = time.time()
                created = server.post("jobs/spew/runs", {"args": {"n": n}})
                capture = sse.capture(
                    "127.0.0.1", server.port, f"{API}/runs/{created['id']}/events", server.token
                )
                cpu.stop()
            check = analyse(capture, n)
            first_recv = check.pop("_first_recv")
            check.update(
                {
                    "run_id": created["id"],
                    "post_to_first_line_ms": round((first_recv - t_post) * 1000, 1)
                    if first_recv
                    else None,
                    "sse_chunks": len(capture.chunks),
                    "sse_bytes": sum(len(c) for _, c in capture.chunks),
                    "stored_log": _stored_lines(server, created["id"], n),
                    **cpu.as_json(),
                    "server_cpu_us_per_line": round(cpu.server_s * 1e6 / n, 1)
                    if cpu.server_s
                    else None,
                }
            )
            rounds.append(check)
            del capture
        startup_s = server.startup_s

    def med(values: list[Any]) -> Any:
        values = [v for v in values if v is not None]
        return round(percentile(values, 50), 1) if values else None  # type: ignore[arg-type]

    rate = med([r["lines_per_s"] for r in rounds])
    p95 = med([r["latency_ms"].get("p95") for r in rounds])
    p50 = med([r["latency_ms"].get("p50") for r in rounds])
    result.add(
        "lines/s at the SSE client", rate and round(rate), "lines/s", at_least=TARGET_LINES_PER_S
    )
    result.add("p95 print → client", p95, "ms", at_most=TARGET_P95_MS)
    result.add("p50 print → client", p50, "ms")
    complete = all(r["complete"] for r in rounds)
    result.add(
        "lines exactly once, in order",
        sum(r["lines_ok"] for r in rounds),
        "",
        target=f"{n * reps:,}",
        ok=complete,
    )
    stored_ok = all(r["stored_log"]["ok"] for r in rounds)
    result.add(
        "stored lines (GET /logs)",
        sum(r["stored_log"]["lines"] for r in rounds),
        "",
        target=f"{n * reps:,}",
        ok=stored_ok,
    )
    result.add("server peak RSS", mib(server.peak_rss_bytes), "MiB")
    result.info = {
        "lines_per_run": n,
        "runs": reps,
        "figures": "median over the runs; each run's details in 'rounds'",
        "lines_per_s_each": [r["lines_per_s"] for r in rounds],
        "p95_ms_each": [r["latency_ms"].get("p95") for r in rounds],
        "server_cpu_us_per_line_each": [r["server_cpu_us_per_line"] for r in rounds],
        "rounds": rounds,
        "server_startup_s": round(startup_s or 0, 2),
        "server_peak_rss_mib": mib(server.peak_rss_bytes),
        "server_exit_code": server.exit_code,
    }
    return result


def _follow(server: JupyterServer, n: int) -> sse.SseCapture:
    created = server.post("jobs/spew/runs", {"args": {"n": n}})
    return sse.capture("127.0.0.1", server.port, f"{API}/runs/{created['id']}/events", server.token)


def analyse(capture: sse.SseCapture, n: int) -> dict[str, Any]:
    """Check ids, seqs and line numbers; compute rate and print-to-client latency."""
    events = capture.events()
    problems: list[str] = []
    if capture.status != 200:
        problems.append(f"HTTP {capture.status}")
    ids = [e.id for e in events if e.id is not None]
    id_gaps = sum(1 for a, b in itertools.pairwise(ids) if b != a + 1)
    if ids and ids[0] != 1:
        problems.append(f"first event id is {ids[0]}, not 1")
    if id_gaps:
        problems.append(f"{id_gaps} place(s) where event ids are not consecutive")
    expected_i = 0
    latencies: list[float] = []
    printed: list[float] = []
    received: list[float] = []
    out_of_order = duplicates = missing = bad_seq = 0
    other_logs = 0
    final_status = None
    for e in events:
        if e.event == "close":
            final_status = e.json().get("status")
            continue
        if e.event != "log":
            continue
        data = e.json()
        if data.get("seq") != e.id:
            bad_seq += 1
        if data.get("stream") != "stdout":
            other_logs += 1
            continue
        head, _, tail = data["text"].partition(" ")
        try:
            i, t_printed = int(head), float(tail)
        except ValueError:
            other_logs += 1
            continue
        if i == expected_i:
            expected_i += 1
        elif i < expected_i:
            duplicates += 1
            continue
        else:
            missing += i - expected_i
            out_of_order += 1
            expected_i = i + 1
        latencies.append(e.received - t_printed)
        printed.append(t_printed)
        received.append(e.received)
    missing += max(0, n - expected_i)
    if duplicates:
        problems.append(f"{duplicates} duplicate line(s)")
    if missing:
        problems.append(f"{missing} missing line(s)")
    if out_of_order:
        problems.append(f"{out_of_order} jump(s) in line numbers")
    if bad_seq:
        problems.append(f"{bad_seq} log event(s) whose data.seq differs from the SSE id")
    if final_status != "succeeded":
        problems.append(f"close event says {final_status!r}")
    lines_seen = len(latencies)
    span = (received[-1] - received[0]) if len(received) > 1 else None
    print_span = (printed[-1] - printed[0]) if len(printed) > 1 else None
    return {
        "complete": not problems,
        "problems": problems,
        "lines_ok": lines_seen if not problems else lines_seen - duplicates,
        "lines_received": lines_seen,
        "events_received": len(events),
        "other_log_lines": other_logs,
        "final_status": final_status,
        "lines_per_s": round(lines_seen / span) if span else None,
        "receive_span_s": round(span, 3) if span else None,
        "job_print_span_s": round(print_span, 3) if print_span else None,
        "job_print_rate_per_s": round(lines_seen / print_span) if print_span else None,
        "latency_ms": summary(latencies, scale=1000, digits=1),
        # Median print-to-client latency in each tenth of the stream: a rising series means
        # the server falls behind the job (a backlog), a flat one a fixed delay.
        "latency_p50_by_tenth_ms": [
            round(
                (
                    percentile(
                        latencies[k * len(latencies) // 10 : (k + 1) * len(latencies) // 10], 50
                    )
                    or 0
                )
                * 1000,
                1,
            )
            for k in range(10)
        ]
        if len(latencies) >= 10
        else None,
        "latency_p99_9_ms": round((percentile(latencies, 99.9) or 0) * 1000, 1)
        if latencies
        else None,
        "first_line_received_at": round(received[0], 3) if received else None,
        "last_line_received_at": round(received[-1], 3) if received else None,
        "_first_recv": received[0] if received else None,
    }


def _stored_lines(server: JupyterServer, run_id: int, n: int) -> dict[str, Any]:
    """Page through ``GET /runs/{id}/logs`` and check the stored stdout lines are 0..n-1."""
    after = 0
    expected = 0
    ok = True
    other = 0
    began = time.perf_counter()
    while True:
        reply = server.get(f"runs/{run_id}/logs?after={after}&limit=10000")
        for item in reply["items"]:
            head, _, _ = item["text"].partition(" ")
            if item["stream"] != "stdout" or not head.isdigit():
                other += 1
                continue
            if int(head) != expected:
                ok = False
            expected += 1
        if not reply["items"] or not reply.get("more"):
            break
        after = reply["next_after"]
    return {
        "lines": expected,
        "other_lines": other,
        "ok": ok and expected == n,
        "read_s": round(time.perf_counter() - began, 3),
    }
