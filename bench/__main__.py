"""``python -m bench [--quick] [NAME ...]``: run the jobext benchmarks, print a markdown table,
and write ``bench/results/latest.json``."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from . import (
    batches,
    dask_runs,
    fuzz,
    latency,
    listquery,
    logs,
    notebooks,
    query_export,
    schedules,
    stall,
    throughput,
)
from .common import Result

HERE = Path(__file__).resolve().parent
BENCHMARKS: dict[str, Callable[[bool], Result]] = {
    "latency": latency.run,
    "throughput": throughput.run,
    "logs": logs.run,
    "list": listquery.run,
    "schedules": schedules.run,
    "batches": batches.run,
    "notebooks": notebooks.run,
    "query": query_export.run,
    "stall": stall.run,
    "fuzz": fuzz.run,
    "dask": dask_runs.run,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help=f"benchmarks to run (default: all): {', '.join(BENCHMARKS)}",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smaller sizes and fewer repetitions (a smoke run; figures are less reliable)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=HERE / "results" / "latest.json",
        help="where to write the JSON results (default: bench/results/latest.json)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="sample each server with py-spy (pip install py-spy) into bench/results/profiles/",
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=20.0,
        metavar="SECONDS",
        help="before each benchmark, wait up to this long for other work on the machine to "
        "settle below 15%% CPU (default 20; 0: do not wait)",
    )
    parser.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="leave PYTHONDONTWRITEBYTECODE/PYTHONPYCACHEPREFIX as the environment has them "
        "(by default servers and jobs get a bytecode cache in bench/.cache/pycache)",
    )
    args = parser.parse_args(argv)
    from . import server

    if args.profile:
        server.PROFILE_DIR = args.output.parent / "profiles"
    if args.no_bytecode_cache:
        server.BYTECODE_CACHE = None
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; choose from {list(BENCHMARKS)}")
    names = args.names or list(BENCHMARKS)

    results: list[Result] = []
    began = time.perf_counter()
    yardstick = reference_loop_ms()
    print(
        f"machine: {os.cpu_count()} CPUs; reference loop {yardstick} ms (pure Python, one core: "
        "CPU-bound figures scale with it)",
        flush=True,
    )
    for name in names:
        idle_cpu = wait_quiet(args.wait_quiet)
        busy = f"  [the machine is {idle_cpu:.0f}% busy before the start: figures may be skewed]"
        print(
            f"== {name}{' (quick)' if args.quick else ''}{busy if idle_cpu > 15 else ''}",
            flush=True,
        )
        t0 = time.perf_counter()
        try:
            result = BENCHMARKS[name](args.quick)
        except Exception as exc:
            traceback.print_exc()
            result = Result(name, name, error=f"{type(exc).__name__}: {exc}")
        result.seconds = round(time.perf_counter() - t0, 1)
        result.info["machine_busy_before_pct"] = round(idle_cpu, 1)
        result.info["machine_busy_after_pct"] = round(other_cpu_use(), 1)
        results.append(result)
        for m in result.metrics:
            verdict = "" if m.ok is None else ("  PASS" if m.ok else "  MISS")
            print(f"   {m.name}: {m.shown()}{verdict}", flush=True)
        print(f"   ({result.seconds} s)", flush=True)

    document = {
        "when": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "quick": args.quick,
        "bytecode_cache": None if server.BYTECODE_CACHE is None else str(server.BYTECODE_CACHE),
        "total_seconds": round(time.perf_counter() - began, 1),
        "machine": {**machine(), "reference_loop_ms": yardstick},
        "benchmarks": {r.name: r.as_json() for r in results},
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(document, indent=2) + "\n")
    print()
    print(markdown(results))
    print()
    print(f"Results written to {display(args.output)} ({document['total_seconds']} s in all).")
    return 0 if all(r.passed is not False for r in results) else 1


def markdown(results: list[Result]) -> str:
    lines = [
        "| benchmark | figure | measured | target | result |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in results:
        if r.error:
            lines.append(f"| {r.name} | error | {r.error} | | ERROR |")
            continue
        for m in r.metrics:
            verdict = "" if m.ok is None else ("PASS" if m.ok else "**MISS**")
            lines.append(f"| {r.name} | {m.name} | {m.shown()} | {m.target or ''} | {verdict} |")
    return "\n".join(lines)


def other_cpu_use(interval: float = 0.5) -> float:
    """System-wide CPU use (% of all CPUs) over ``interval`` while no benchmark is running: the
    share other work on the machine takes."""
    try:
        import psutil

        return float(psutil.cpu_percent(interval=interval))
    except Exception:
        return 0.0


def wait_quiet(limit: float, threshold: float = 15.0) -> float:
    """Wait up to ``limit`` seconds for the machine's CPU use to drop below ``threshold`` %;
    return the last reading."""
    deadline = time.monotonic() + limit
    busy = other_cpu_use()
    while busy > threshold and time.monotonic() < deadline:
        busy = other_cpu_use(1.0)
    return busy


def reference_loop_ms(rounds: int = 5) -> float:
    """The machine's speed as one number: the best of ``rounds`` timings of a fixed pure-Python
    loop (``sum(range(3_000_000))`` and a 1,000,000-step ``for`` loop), in ms. Figures measured
    on machines whose reference differs can be compared through it."""
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        sum(range(3_000_000))
        total = 0
        for i in range(1_000_000):
            total += i
        best = min(best, time.perf_counter() - t0)
    return round(best * 1000, 1)


def machine() -> dict[str, object]:
    info: dict[str, object] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }
    try:
        import jupyter_server

        import jobext

        info["jobext"] = jobext.__version__
        info["jupyter_server"] = jupyter_server.__version__
    except Exception:
        pass
    try:
        info["git_commit"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=HERE.parent,
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
    except Exception:
        pass
    return info


def display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main())
