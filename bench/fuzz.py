"""fuzz: schemathesis, an independent OpenAPI fuzzer, against a real server (issue 13).

``python -m bench fuzz`` runs it for 5 minutes (``--quick``: 1 minute), every phase (examples,
coverage, fuzzing, stateful, following the document's links), and counts what it found. The test
suite runs the same function for a bounded time (tests/http/test_openapi_fuzz.py).

The server lets jobs of kind ``python``, ``notebook`` and ``query`` be registered, never
``shell``: the fuzzer registers and runs whatever targets it makes up, and a made-up shell
command line is not something to execute on the machine running the benchmark.

Checks: all of schemathesis' checks but two, which judge the input rules rather than the
server's robustness:

* ``positive_data_acceptance``: the API is stricter than JSON Schema can say. A cron expression
  must parse, a time zone must exist, a job's target must name something, a run's args must suit
  its job's kind: a request the schema admits may rightly get a 400 (with ``field`` and
  ``message``).
* ``negative_data_rejection``: the API is lenient where browsers and shells are: an empty query
  value (``?per_page=``) means "not given", a status is matched whatever its case, and
  booleans in JSON bodies accept 0 and 1.

Everything else must pass: no 5xx, status codes, content types and response bodies as
documented (the events of every SSE stream included, one by one), ``Allow`` on 405,
authentication required, and resources that are usable after they are created and gone after
they are deleted.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from .common import Result
from .jobs import BENCHJOBS
from .server import JupyterServer

#: The checks left out (bench/schemathesis.toml switches them off; see the module docstring).
EXCLUDED_CHECKS = ("positive_data_acceptance", "negative_data_rejection")
SECONDS = 300
#: Which checks run, globally and per operation (the file says why each one left out is).
CONFIG = Path(__file__).with_name("schemathesis.toml")
#: The phases in two runs, each with its share of the time: in one run, fuzzing repeats until
#: the time is spent and leaves the stateful phase (the document's links) next to none.
PHASE_GROUPS = (("examples,coverage,fuzzing", 0.5), ("stateful", 0.5))
QUICK_SECONDS = 60


def schemathesis_command() -> list[str]:
    """How to start the schemathesis CLI from this environment."""
    exe = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "schemathesis.cli"]


def _seed(server: JupyterServer) -> None:
    """A few resources for the fuzzer to find, besides those it creates itself."""
    server.register("noop", "benchjobs:noop", max_concurrent=4, queue_when_busy=True)
    server.call("POST", "jobs/noop/runs", {})
    server.call("POST", "schedules", {"job": "noop", "cron": "0 6 * * 1-5", "active": False})
    server.call("POST", "jobs/noop/batches", {"concurrent": 2, "start": False})


def fuzz(
    seconds: float, *, workdir: Path | None = None, seed: int | None = None, workers: int = 2
) -> dict[str, Any]:
    """Run schemathesis against a fresh server for ``seconds``; return what it reported:
    ``exit_code``, ``failures`` (names and counts), ``errors``, ``generated``, ``output``."""
    server = JupyterServer(name="fuzz", jobs_module=BENCHJOBS, workdir=workdir)
    server.tmp.mkdir(parents=True, exist_ok=True)
    source = server.tmp / "source.db"
    sqlite3.connect(source).close()
    server.extra_args += ["--JobExtApp.connections", f"source=sqlite:///{source}"]
    for kind in ("python", "notebook", "query"):
        server.extra_args += ["--JobExtApp.allowed_kinds", kind]
    with server:
        _seed(server)
        reports = [
            _schemathesis(server, phases, seconds * share, seed, workers)
            for phases, share in PHASE_GROUPS
        ]
        server_errors = [
            line for line in server.log_tail(100_000).splitlines() if re.search(r"\] 5\d\d ", line)
        ]
    failures: dict[str, int] = {}
    errors: dict[str, int] = {}
    for report in reports:
        for name, count in report["failures"].items():
            failures[name] = failures.get(name, 0) + count
        for name, count in report["errors"].items():
            errors[name] = errors.get(name, 0) + count
    return {
        "exit_code": max(r["exit_code"] for r in reports),
        "seconds": round(sum(r["seconds"] for r in reports), 1),
        "failures": failures,
        "errors": errors,
        "generated": sum(r["generated"] or 0 for r in reports),
        "links_covered": reports[-1]["links_covered"],
        "server_5xx": server_errors[:20],
        "output": "\n".join(r["output"] for r in reports),
    }


def _schemathesis(
    server: JupyterServer, phases: str, seconds: float, seed: int | None, workers: int
) -> dict[str, Any]:
    command = [
        *schemathesis_command(),
        "--config-file",
        str(CONFIG),
        "run",
        server.url("openapi.json"),
        "--url",
        server.url(""),
        "-H",
        f"Authorization: token {server.token}",
        "--max-time",
        str(max(1, int(seconds))),
        "--phases",
        phases,
        "--workers",
        str(workers),
        "--no-color",
    ]
    if seed is not None:
        command += ["--seed", str(seed)]
    began = time.perf_counter()
    done = subprocess.run(
        command, capture_output=True, text=True, cwd=server.tmp, timeout=seconds * 3 + 120
    )
    output = done.stdout + done.stderr
    links = re.search(r"API Links:\s+(\d+) covered", output)
    return {
        "exit_code": done.returncode,
        "seconds": time.perf_counter() - began,
        "failures": _counts(output, "Failures:"),
        "errors": _counts(output, "Errors:"),
        "generated": _generated(output),
        "links_covered": int(links.group(1)) if links else None,
        "output": output,
    }


def _counts(output: str, heading: str) -> dict[str, int]:
    """``{"ST108 SSE event violates schema": 1, ...}`` from a section of the summary."""
    found: dict[str, int] = {}
    section = output.rpartition(heading)[2] if heading in output else ""
    for line in section.splitlines()[1:]:
        match = re.match(r"\s*\S+\s+(.+?):\s*(\d+)\s*$", line)
        if not match:
            if line.strip():
                continue
            break
        found[match.group(1)] = int(match.group(2))
    return found


def _generated(output: str) -> int | None:
    match = re.search(r"(\d+) generated", output)
    return int(match.group(1)) if match else None


def run(quick: bool = False) -> Result:
    seconds = QUICK_SECONDS if quick else SECONDS
    result = Result("fuzz", f"schemathesis, every phase, {seconds} s against a fresh server")
    report = fuzz(seconds)
    failures = sum(report["failures"].values())
    result.add("test cases generated", report["generated"], "")
    result.add("API links followed", report["links_covered"], "")
    result.add("failures", failures, "", at_most=0, target="0")
    result.add("errors", sum(report["errors"].values()), "", at_most=0, target="0")
    result.add(
        "5xx answers in the server log", len(report["server_5xx"]), "", at_most=0, target="0"
    )
    result.info = {
        "exit_code": report["exit_code"],
        "failures": report["failures"],
        "errors": report["errors"],
        "excluded_checks": list(EXCLUDED_CHECKS),
        "server_5xx": report["server_5xx"],
    }
    if report["exit_code"] != 0:
        print(report["output"][-20_000:])
    return result


if __name__ == "__main__":
    print(json.dumps({k: v for k, v in fuzz(float(sys.argv[1])).items() if k != "output"}))
