"""batches: the start rate of a batch, and reading a large one.

Phase 1 (pace): a batch of 1,000 sub-jobs of a no-op job at 100 per second. Each run's
``created_at`` says when its sub-job started: the achieved rate is the sub-jobs started after
the first group over the time from the first group to the last; a group's spread is the time
between its first and its last run. The runs themselves queue behind ``max_workers``
(the batch's ``lag_s`` shows it) and are not what is measured.

Phase 2 (reading): a database holding a batch of 10,000 sub-jobs, each with a finished run
(9,000 completed, 1,000 in their second iteration), and 2,000 other batches, written straight into
the database before the server starts (10,000 real runs take minutes on a small machine).
``GET /batches/{id}`` (counts, lag, first page of sub-jobs) is timed, and ``GET /batches``
beside ``GET /runs`` on the same server.
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from .common import Result, parse_time, summary
from .jobs import BENCHJOBS
from .server import JupyterServer

PACE = 100
TARGET_RATE_PCT = 5.0
TARGET_SPREAD_MS = 100.0
BIG = 10_000
OTHER_BATCHES = 2_000
TARGET_DETAIL_P50_MS = 50.0


def _pace_phase(quick: bool, result: Result) -> None:
    count = 300 if quick else 1_000
    server = JupyterServer(name="batches-pace", jobs_module=BENCHJOBS)
    with server:
        server.register("noop", "benchjobs:noop")
        made = server.post("jobs/noop/batches", {"concurrent": count, "jobs_per_second": PACE})
        batch_id = made["id"]
        deadline = time.monotonic() + count / PACE + 60
        runs: list[dict[str, Any]] = []
        lags = []
        while time.monotonic() < deadline:
            page = server.get("runs", params={"batch": batch_id, "per_page": 1, "sort": "id"})
            lags.append(server.get(f"batches/{batch_id}", params={"sub_jobs_per_page": 1})["lag_s"])
            if page["total"] >= count:
                break
            time.sleep(0.5)
        for page_no in range(0, count // 1000 + 1):
            page = server.get(
                "runs",
                params={"batch": batch_id, "per_page": 1000, "page": page_no, "sort": "id"},
            )
            runs.extend(page["items"])
        final = server.get(f"batches/{batch_id}", params={"sub_jobs_per_page": 1})
        server.call("DELETE", f"batches/{batch_id}")
    if len(runs) != count:
        raise AssertionError(f"{len(runs)} runs of {count} sub-jobs were created")
    groups: dict[int, list[float]] = defaultdict(list)
    for run in runs:
        created = parse_time(run["created_at"])
        assert created is not None
        groups[run["sub_job"] // PACE].append(created)
    starts = [min(groups[g]) for g in sorted(groups)]
    spreads_ms = [(max(v) - min(v)) * 1000 for v in groups.values()]
    span = starts[-1] - starts[0]
    rate = (count - len(groups[0])) / span if span > 0 else None
    off_pct = abs(rate - PACE) / PACE * 100 if rate else None
    result.add("achieved start rate", round(rate, 1) if rate else None, "sub-jobs/s")
    result.add(
        "start rate off 100/s by",
        round(off_pct, 2) if off_pct is not None else None,
        "%",
        at_most=TARGET_RATE_PCT,
    )
    result.add("largest group spread", round(max(spreads_ms), 1), "ms", at_most=TARGET_SPREAD_MS)
    result.info["pace"] = {
        "sub_jobs": count,
        "groups": len(groups),
        "group_gaps_s": [round(b - a, 3) for a, b in itertools.pairwise(starts)],
        "group_spread_ms": summary(spreads_ms),
        "lag_s_while_starting": summary(lags),
        "status_when_all_started": final["status"],
        "counts_when_all_started": final["counts"],
    }


def populate(db_file: Path, big: int, others: int) -> int:
    """Write a job, a batch of ``big`` sub-jobs with a finished run each, and ``others`` small
    batches, as the managers would; return the big batch's id."""
    from sqlalchemy import insert

    from jobext.db.engine import Database
    from jobext.db.tables import Batch, BatchSubJob, Job, Run

    now = dt.datetime.now(dt.timezone.utc)
    finished = big * 9 // 10
    store = Database.open(f"sqlite:///{db_file}")
    try:
        with store.writing() as session:
            session.add(Job(name="noop", kind="python", target="benchjobs:noop"))
            batch = Batch(
                job="noop",
                status="completed",
                concurrent=big,
                iterations=2,
                done=big + finished,
                start_time=now,
                stop_time=now,
            )
            session.add(batch)
            session.flush()
            assert batch.id is not None
            # A fresh database: the runs are numbered 1..big.
            run_rows = [
                {
                    "id": i + 1,
                    "uuid": f"00000000-0000-4000-8000-{i:012d}",
                    "job": "noop",
                    "kind": "python",
                    "status": "succeeded",
                    "trigger": "batch",
                    "created_at": now,
                    "updated_at": now,
                    "started_at": now,
                    "ended_at": now,
                    "attempt": 1,
                    "batch_id": batch.id,
                    "sub_job": i,
                    "iteration": 2 if i < finished else 1,
                }
                for i in range(big)
            ]
            session.execute(insert(Run), run_rows)
            lanes = [
                {
                    "batch_id": batch.id,
                    "idx": i,
                    "state": "completed" if i < finished else "active",
                    "iteration": 2 if i < finished else 1,
                    "done": 2 if i < finished else 1,
                    "failures": 0,
                    "run_id": i + 1,
                    "due_at": now,
                }
                for i in range(big)
            ]
            session.execute(insert(BatchSubJob), lanes)
            small = [
                {
                    "job": "noop",
                    "status": ("completed", "stopped", "failed", "created")[i % 4],
                    "concurrent": 10,
                    "iterations": 1,
                    "failures_to_ignore": 0,
                    "failures": 0,
                    "done": 0,
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(others)
            ]
            session.execute(insert(Batch), small)
            return batch.id
    finally:
        store.dispose()


def _timed(server: JupyterServer, path: str, n: int, **params: Any) -> list[float]:
    for _ in range(3):
        server.get(path, params=params or None)
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        server.get(path, params=params or None)
        times.append(time.perf_counter() - t0)
    return times


def _read_phase(quick: bool, result: Result) -> None:
    reps = 30 if quick else 100
    server = JupyterServer(name="batches-read", jobs_module=BENCHJOBS)
    server.tmp.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    big_id = populate(server.db_file, BIG, OTHER_BATCHES)
    result.info["populate_s"] = round(time.perf_counter() - began, 2)
    with server:
        detail = server.get(f"batches/{big_id}")
        if detail["counts"] != {"completed": BIG * 9 // 10, "succeeded": BIG // 10}:
            raise AssertionError(f"unexpected counts {detail['counts']}")
        detail_ms = [t * 1000 for t in _timed(server, f"batches/{big_id}", reps)]
        list_ms = [t * 1000 for t in _timed(server, "batches", reps)]
        runs_ms = [t * 1000 for t in _timed(server, "runs", reps)]
        filtered_ms = [t * 1000 for t in _timed(server, "batches", reps, status="failed")]
    d, lb, lr = summary(detail_ms), summary(list_ms), summary(runs_ms)
    result.add(
        f"GET /batches/{{id}} ({BIG:,} sub-jobs) p50",
        d["p50"],
        "ms",
        at_most=TARGET_DETAIL_P50_MS,
    )
    result.add("GET /batches/{id} p99", d["p99"], "ms")
    result.add(f"GET /batches ({OTHER_BATCHES + 1:,} batches) p50", lb["p50"], "ms")
    result.add("GET /runs (same server) p50", lr["p50"], "ms")
    ratio = lb["p50"] / lr["p50"] if lb["p50"] and lr["p50"] else None
    result.add(
        "batch list / run list p50",
        round(ratio, 2) if ratio else None,
        "x",
        target="≤ 1.5x (as fast as the run list)",
        ok=ratio is not None and ratio <= 1.5,
    )
    result.info["read"] = {
        "detail_ms": d,
        "list_ms": lb,
        "runs_ms": lr,
        "list_status_filter_ms": summary(filtered_ms),
    }


def run(quick: bool = False) -> Result:
    result = Result(
        "batches",
        "a batch of 1,000 no-op sub-jobs at 100/s; GET of a 10,000-sub-job batch",
    )
    _pace_phase(quick, result)
    _read_phase(quick, result)
    return result
