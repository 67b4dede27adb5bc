"""Durability: real ``jupyter server`` processes on one SQLite file, killed and restarted.

Each test starts Jupyter servers as subprocesses (not pytest-jupyter) that share a database,
a results dir and a root dir under ``tmp_path`` (``tests/cluster.py``), and talks to them over
HTTP. The contract under test is DESIGN.md's "Durability": the database is the truth; a server
that restarts settles the runs its previous life left in progress; log lines are never lost when
a server stops cleanly; no job process outlives its run, and no process is left a zombie.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from cluster import (
    WAIT_TIMEOUT,
    Cluster,
    Server,
    alive,
    describe,
    postgres_cluster,
    run_processes,
    says_server_stopped,
    sqlite_cluster,
    wait_gone,
)
from waiting import eventually


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    with sqlite_cluster(tmp_path) as servers:
        yield servers


# ---------------------------------------------------------------------------- tests


def test_crash_settles_in_progress_runs_keeps_history_and_queue(cluster: Cluster) -> None:
    """A server SIGKILLed with two runs in progress: on restart both are failed with a reason,
    no process of theirs is left (not even one that escaped the job's process group), the
    history and its logs are intact, and a run that was still queued runs."""
    server = cluster.start()

    # History: a run that finished before the crash.
    server.job("hello", "jobs_lib:hello")
    done = server.run("hello", {"name": "history", "n": 3})
    server.wait(done["id"], "succeeded")
    history_logs = server.wait_log(done["id"], "hello history 2")

    # Two runs in progress, and one queued behind the first (its job allows one at a time).
    server.job("looper", "jobs_lib:loop", max_concurrent=1, queue_when_busy=True)
    server.job("detacher", "durability_jobs:loop_with_detached_child")
    first = server.run("looper", {"seconds": 60, "tick": 0.05})
    second = server.run("detacher", {"seconds": 60})
    queued = server.run("looper", {"seconds": 0.2, "tick": 0.05})
    server.wait(first["id"], "running")
    server.wait(second["id"], "running")
    server.wait_log(first["id"], "tick 3")
    lines = server.wait_log(second["id"], "tick 3")
    detached_pid = next(
        int(line["text"].split()[1]) for line in lines if line["text"].startswith("detached ")
    )
    assert server.run_state(queued["id"])["status"] == "queued"

    # Their processes exist (and the scan by JOBEXT_RUN_UUID finds them).
    first_procs = eventually(
        lambda: run_processes(first["uuid"]),
        timeout=WAIT_TIMEOUT,
        message="the first run's process",
    )
    second_procs = eventually(
        lambda: run_processes(second["uuid"]),
        timeout=WAIT_TIMEOUT,
        message="the second run's processes",
    )
    detached = psutil.Process(detached_pid)
    assert detached in second_procs, describe(second_procs)
    assert detached.environ().get("JOBEXT_RUN_UUID") == second["uuid"]
    old_worker = server.run_state(first["id"])["worker"]
    assert old_worker
    # Lines reach the database in batches; make sure some did before the crash.
    for run in (first, second):
        eventually(
            lambda r=run: cluster.stored_log(r["id"], "tick 1"),
            timeout=WAIT_TIMEOUT,
            message="a tick in the database",
        )

    server.kill()

    restarted = cluster.start()
    for run in (first, second):
        settled = restarted.wait(run["id"])
        assert settled["status"] == "failed", settled
        assert says_server_stopped(settled["error"]), settled["error"]
        assert settled["ended_at"] is not None
        reason = settled["error"].splitlines()[0]
        # Log lines are visible once written (every event_flush_s): wait for the reason.
        logs = restarted.wait_log(run["id"], reason)
        assert any(line["text"].startswith("tick ") for line in logs)

    # No orphans: the run processes, and the grandchild that left the job's process group.
    wait_gone(
        "the crashed runs' processes to be gone",
        [*first_procs, *second_procs, detached],
        [first["uuid"], second["uuid"]],
        timeout=30,
    )

    # The queued run survived as queued and runs on the restarted server.
    after = restarted.wait(queued["id"])
    assert after["status"] == "succeeded" and after["error"] is None, after
    assert after["worker"] and after["worker"] != old_worker
    assert after["restarted_from"] is None and after["attempt"] == 1

    # History is intact, logs included.
    old = restarted.run_state(done["id"])
    assert old["status"] == "succeeded" and old["error"] is None
    assert [line["text"] for line in restarted.logs(done["id"])] == [
        line["text"] for line in history_logs
    ]
    succeeded = restarted.get("runs", params={"status": "SUCCEEDED", "job": "hello"})
    assert [r["id"] for r in succeeded["items"]] == [done["id"]]
    failed = restarted.get("runs", params={"status": "FAILED"})
    assert sorted(r["id"] for r in failed["items"]) == sorted([first["id"], second["id"]])
    assert restarted.get("runs", params={"status": "IN_PROGRESS"})["total"] == 0


def test_clean_shutdown_stops_run_and_keeps_every_line(cluster: Cluster) -> None:
    """SIGTERM to a server while a run prints: the run ends ``stopped`` saying the server shut
    down, every line it printed is in its log after a restart, and its process is gone."""
    server = cluster.start()
    marker = cluster.base / "printed.txt"
    server.job("printer", "durability_jobs:numbered")
    run = server.run("printer", {"seconds": 120, "tick": 0.005, "marker": str(marker)})
    server.wait(run["id"], "running")
    server.wait_log(run["id"], "n 20")

    def printed_enough() -> bool:
        with contextlib.suppress(OSError, ValueError):
            return int(marker.read_text() or 0) >= 100
        return False

    eventually(printed_enough, timeout=WAIT_TIMEOUT, message="the job to print 100 lines")
    procs = eventually(
        lambda: run_processes(run["uuid"]), timeout=WAIT_TIMEOUT, message="the run's process"
    )

    server.terminate()
    # The job wrote each number after printing it: at least this many lines were printed.
    printed = int(marker.read_text())
    assert printed >= 100

    wait_gone("the run's processes to be gone", procs, [run["uuid"]])

    restarted = cluster.start()
    after = restarted.run_state(run["id"])
    assert after["status"] == "stopped", after
    assert after["ended_at"] is not None
    assert says_server_stopped(after["error"]) and re.search(
        r"shut|shutting", after["error"], re.I
    ), after["error"]

    logs = restarted.logs(run["id"])
    numbers = [int(m.group(1)) for line in logs if (m := re.fullmatch(r"n (\d+)", line["text"]))]
    assert numbers, logs[:5]
    assert numbers == list(range(1, len(numbers) + 1)), "lines missing, doubled or out of order"
    assert len(numbers) >= printed, f"printed {printed} lines, the log has {len(numbers)}"
    seqs = [line["seq"] for line in logs]
    assert seqs == sorted(set(seqs))
    assert any(says_server_stopped(line["text"]) for line in logs), logs[-5:]


def server_children_problems(server: Server) -> list[str]:
    """Zombies among the server's descendants, and job processes still running under it."""
    problems = []
    try:
        children = psutil.Process(server.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return ["the server is gone"]
    for proc in children:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            if proc.status() == psutil.STATUS_ZOMBIE:
                problems.append(f"zombie {proc.pid} (parent {proc.ppid()})")
            elif proc.environ().get("JOBEXT_RUN_UUID"):
                problems.append(f"job process {describe([proc])}")
    return problems


def test_no_zombies_after_runs_end_in_every_way(cluster: Cluster) -> None:
    """After runs that succeed, fail, crash, get force-stopped, or are stopped gracefully while
    their job has a child process, the server has no zombie children and no process of those
    runs (the grandchild included) is left."""
    server = cluster.start()
    server.job("hello", "jobs_lib:hello", max_concurrent=10)
    server.job("fail", "jobs_lib:fail")
    server.job("crash", "jobs_lib:crash")
    server.job("loop", "jobs_lib:loop")
    server.job("spawn", "jobs_lib:spawn_child")

    looping = server.run("loop", {"seconds": 600})
    spawning = server.run("spawn", {"seconds": 600})
    hellos = [server.run("hello", {"n": 2}) for _ in range(3)]
    failed = server.run("fail")
    crashed = server.run("crash")

    # A run stopped with force=true while it loops.
    server.wait_log(looping["id"], "tick 2")
    loop_procs = eventually(
        lambda: run_processes(looping["uuid"]),
        timeout=WAIT_TIMEOUT,
        message="the looping run's process",
    )
    stopped = server.post(f"runs/{looping['id']}/stop?force=true")
    assert stopped["status"] == "stopped", stopped

    # A run whose job spawned a grandchild, stopped gracefully.
    spawn_lines = server.wait_log(spawning["id"], "child ")
    child = psutil.Process(
        next(
            int(line["text"].split()[1])
            for line in spawn_lines
            if line["text"].startswith("child ")
        )
    )
    spawn_procs = eventually(
        lambda: (procs := run_processes(spawning["uuid"])) and child in procs and procs,
        timeout=WAIT_TIMEOUT,
        message="the spawning run's processes",
    )
    server.post(f"runs/{spawning['id']}/stop")
    assert server.wait(spawning["id"])["status"] == "stopped"

    for run in hellos:
        assert server.wait(run["id"])["status"] == "succeeded"
    assert server.wait(failed["id"])["status"] == "failed"
    assert server.wait(crashed["id"])["status"] == "failed"

    problems: list[str] = []

    def clean() -> bool:
        nonlocal problems
        problems = server_children_problems(server)
        problems += [
            f"still alive: {d}"
            for d in describe([p for p in [child, *loop_procs, *spawn_procs] if alive(p)])
        ]
        return not problems

    try:
        eventually(clean, timeout=30, message="no zombie children and no stray job processes")
    except AssertionError as exc:
        raise AssertionError(f"{exc}: {problems}") from None
    assert server.process.poll() is None, "the server died"
    for run in [looping, spawning, *hellos, failed, crashed]:
        assert not run_processes(run["uuid"]), (run["job"], describe(run_processes(run["uuid"])))


def test_grandchild_left_behind_ends_with_its_run(cluster: Cluster) -> None:
    """A job that starts a child process (which inherits its stdout and stderr) and returns:
    the run ends when the job's process ends, not when the grandchild does, and the grandchild
    is killed with it; no zombie is left."""
    server = cluster.start()
    server.job("leave", "durability_jobs:leave_grandchild")
    run = server.run("leave", {"seconds": 600})
    lines = server.wait_log(run["id"], "grandchild ")
    grandchild_pid = next(
        int(line["text"].split()[1]) for line in lines if line["text"].startswith("grandchild ")
    )
    with contextlib.suppress(psutil.NoSuchProcess):
        grandchild = psutil.Process(grandchild_pid)
        assert grandchild.environ().get("JOBEXT_RUN_UUID") == run["uuid"]

    # The job returns right after printing; 30 s is plenty even on a loaded machine (the
    # grandchild would sleep 600 s).
    ended = server.wait(run["id"], timeout=30)
    assert ended["status"] == "succeeded", ended

    problems: list[str] = []

    def clean() -> bool:
        nonlocal problems
        problems = server_children_problems(server)
        problems += [f"run process {d}" for d in describe(run_processes(run["uuid"]))]
        return not problems

    try:
        eventually(clean, timeout=15, message="the grandchild to be gone, with no zombie")
    except AssertionError as exc:
        raise AssertionError(f"{exc}: {problems}") from None


@pytest.fixture
def pg_cluster(tmp_path: Path) -> Iterator[Cluster]:
    with postgres_cluster(tmp_path, "jobext_dur") as servers:
        yield servers


def test_max_concurrent_holds_across_servers_on_postgres(pg_cluster: Cluster) -> None:
    """Two servers on one PostgreSQL database, a burst of enqueues sent to both at once: a job
    with ``max_concurrent: 1`` accepts exactly one run while it is busy, and with
    ``queue_when_busy`` its queued runs never run side by side, whichever server starts them."""
    a = pg_cluster.start()
    b = pg_cluster.start()
    a.job("single", "jobs_lib:loop", max_concurrent=1)
    a.job("queued", "jobs_lib:loop", max_concurrent=1, queue_when_busy=True)

    def enqueue(server: Server, job: str) -> int:
        reply = server.request("POST", f"jobs/{job}/runs", json={"args": {"seconds": 0.3}})
        return reply.status_code

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(lambda i: enqueue((a, b)[i % 2], "single"), range(20)))
    assert sorted(codes) == [201] + [409] * 19, codes

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(lambda i: enqueue((a, b)[i % 2], "queued"), range(12)))
    assert codes == [201] * 12, codes

    def all_done() -> list[dict[str, Any]] | None:
        runs = a.get("runs", params={"job": "queued", "per_page": 100})["items"]
        return runs if all(r["status"] == "succeeded" for r in runs) else None

    runs = eventually(all_done, timeout=120, interval=0.5, message="the queued runs to finish")
    spans = sorted((r["started_at"], r["ended_at"], r["worker"]) for r in runs)
    for (_, ended, _), (started, _, _) in itertools.pairwise(spans):
        assert ended <= started, f"two runs of a max_concurrent=1 job overlapped: {spans}"
