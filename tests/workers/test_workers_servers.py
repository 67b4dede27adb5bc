"""Workers across real ``jupyter server`` processes on one PostgreSQL database (DESIGN.md,
"Workers and apps"): each server is a worker with live host stats; a drained worker starts
nothing and the runs go to the other, whichever server was asked; a SIGKILLed server's worker
turns offline once its heartbeat is ``worker_offline_after_s`` old, and its run is settled.

The servers are configured on different hosts, so they judge each other by heartbeat (a server
on the same host would be judged by its process at once).
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cluster import Cluster, Server, postgres_cluster, says_server_stopped
from waiting import eventually

HERE = Path(__file__).parent
OFFLINE_AFTER_S = 3.0
WAIT = 90.0


@pytest.fixture
def pg_cluster(tmp_path: Path) -> Iterator[Cluster]:
    with postgres_cluster(tmp_path, "jobext_workers") as servers:
        shutil.copy(HERE / "worker_jobs.py", servers.root / "worker_jobs.py")
        yield servers


def instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def worker_of(server: Server, asked: Server | None = None) -> dict[str, Any]:
    """``server``'s worker, as ``asked`` (default: the server itself) lists it."""
    items = (asked or server).get("workers", params={"per_page": 100})["items"]
    (mine,) = [w for w in items if w["pid"] == server.pid]
    return mine  # type: ignore[no-any-return]


def cpu(worker: dict[str, Any]) -> dict[str, Any]:
    return worker["stats"]["cpu"]  # type: ignore[no-any-return]


def test_two_servers_are_two_workers_drained_and_killed(pg_cluster: Cluster) -> None:
    common = {"max_workers": 2, "heartbeat_s": 0.5, "worker_offline_after_s": OFFLINE_AFTER_S}
    a = pg_cluster.start(host_name="host-a", **common)
    b = pg_cluster.start(host_name="host-b", **common)
    a.job("burn", "worker_jobs:burn", max_concurrent=4, queue_when_busy=True)
    a.job("loop", "jobs_lib:loop", max_concurrent=4, queue_when_busy=True)

    # Both servers list both workers, ready, with their hosts.
    for asked in (a, b):
        page = asked.get("workers")
        assert page["total"] == 2, page
        assert {(w["kind"], w["status"], w["slots"]) for w in page["items"]} == {
            ("local", "ready", 2)
        }
    wa, wb = worker_of(a), worker_of(b, asked=a)
    assert (wa["host"], wb["host"]) == ("host-a", "host-b")
    assert wa["id"] != wb["id"] and worker_of(b)["id"] == wb["id"]

    # B drained (asked of A): runs enqueued through B go to A, whose stats show the load.
    assert a.post(f"workers/{wb['id']}/drain")["status"] == "draining"
    assert worker_of(b)["status"] == "draining"
    before = cpu(worker_of(a))["process"]["time_s"]
    burns = [b.run("burn", {"seconds": 4}) for _ in range(2)]
    loads: list[float] = []

    def a_is_busy() -> bool:
        shown = worker_of(a, asked=b)
        loads.append(cpu(shown)["process"]["load"])
        return shown["running"] == 2 and max(loads) >= 0.1

    eventually(a_is_busy, timeout=WAIT, interval=0.25, message=lambda: f"load on A: {loads}")
    print(f"A's process load with two burning runs: {max(loads):.2f} of all cores")
    assert sorted(worker_of(a)["runs"]) == sorted(r["id"] for r in burns)
    assert worker_of(b)["running"] == 0
    for run in burns:
        done = b.wait(run["id"], timeout=WAIT)
        assert done["status"] == "succeeded" and done["worker"] == wa["id"], done

    def a_settles() -> dict[str, Any] | None:
        shown = worker_of(a)
        return shown if shown["running"] == 0 and shown["totals"]["succeeded"] == 2 else None

    after = eventually(a_settles, timeout=WAIT, message="A's totals")
    assert cpu(after)["process"]["time_s"] >= before + 1.0, (before, cpu(after))
    assert 0 <= cpu(after)["system"]["load"] <= 1
    assert instant(after["last_seen"]) > instant(wa["last_seen"])

    # Now A drained and B resumed (asked of B): runs enqueued through A go to B.
    assert b.post(f"workers/{wb['id']}/resume")["status"] == "ready"
    assert b.post(f"workers/{wa['id']}/drain")["status"] == "draining"
    quick = [a.run("loop", {"seconds": 0.2}) for _ in range(3)]
    for run in quick:
        done = a.wait(run["id"], timeout=WAIT)
        assert done["status"] == "succeeded" and done["worker"] == wb["id"], done
    on_b = a.get("runs", params={"worker": wb["id"], "per_page": 100})["items"]
    assert sorted(r["id"] for r in on_b) == sorted(r["id"] for r in quick)

    # A long run on A; then A is SIGKILLed.
    a.post(f"workers/{wa['id']}/resume")
    b.post(f"workers/{wb['id']}/drain")
    long = b.run("loop", {"seconds": 120})
    assert b.wait(long["id"], "running", timeout=WAIT)["worker"] == wa["id"]
    b.post(f"workers/{wb['id']}/resume")
    a.kill()

    def a_offline() -> dict[str, Any] | None:
        shown = worker_of(a, asked=b)
        return shown if shown["status"] == "offline" else None

    gone = eventually(a_offline, timeout=WAIT, message="A's worker to be offline")
    # Judged by its heartbeat: not before it was OFFLINE_AFTER_S old.
    waited = (instant(gone["offline_at"]) - instant(gone["last_seen"])).total_seconds()
    assert waited >= OFFLINE_AFTER_S, gone
    settled = b.wait(long["id"], timeout=WAIT)
    assert settled["status"] == "failed", settled
    assert says_server_stopped(settled["error"]) and wa["id"] in settled["error"], settled
    assert instant(settled["ended_at"]) >= instant(gone["last_seen"])
    assert worker_of(b)["status"] == "ready"
    assert b.get("stats")["workers"] == 1
    assert b.get("workers", params={"status": "offline"})["items"][0]["id"] == wa["id"]
