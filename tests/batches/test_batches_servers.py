"""Batches across real ``jupyter server`` processes (DESIGN.md, "Batches"): a batch survives its
server's restart and goes on where it was; on one PostgreSQL database two servers never both
drive a batch, and when the driving server dies the other takes the batch over.

"Never both drive" is seen in what driving leaves behind: every (sub-job, iteration) of a batch
gets exactly one run that the job itself ended, whoever started it. A second driver would start
sub-jobs twice.
"""

from __future__ import annotations

import collections
import concurrent.futures
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cluster import Cluster, Server, postgres_cluster, sqlite_cluster
from waiting import eventually

HERE = Path(__file__).parent

WAIT = 120.0


def with_batch_jobs(cluster: Cluster) -> Cluster:
    shutil.copy(HERE / "batch_jobs.py", cluster.root / "batch_jobs.py")
    return cluster


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    with sqlite_cluster(tmp_path) as servers:
        yield with_batch_jobs(servers)


@pytest.fixture
def pg_cluster(tmp_path: Path) -> Iterator[Cluster]:
    """Servers on one fresh PostgreSQL database, dropped after the servers are gone."""
    with postgres_cluster(tmp_path, "jobext_batch") as servers:
        yield with_batch_jobs(servers)


def runs_of(server: Server, batch_id: int) -> list[dict[str, Any]]:
    page = server.get("runs", params={"batch": batch_id, "per_page": 1000})
    assert page["total"] == len(page["items"])
    return page["items"]  # type: ignore[no-any-return]


def wait_batch(server: Server, batch_id: int, *statuses: str) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def arrived() -> dict[str, Any] | None:
        nonlocal seen
        seen = server.get(f"batches/{batch_id}", params={"sub_jobs_per_page": 1000})
        return seen if seen["status"] in statuses else None

    return eventually(
        arrived,
        timeout=WAIT,
        interval=0.3,
        message=lambda: f"batch {batch_id} to be {statuses}: {seen}",
    )


def assert_each_iteration_ran_once(server: Server, batch: dict[str, Any]) -> list[dict[str, Any]]:
    """Every (sub-job, iteration) has exactly one succeeded run; any other run of it was ended
    by its server going away (and its iteration ran again)."""
    runs = runs_of(server, batch["id"])
    succeeded = collections.Counter(
        (r["sub_job"], r["iteration"]) for r in runs if r["status"] == "succeeded"
    )
    expected = {
        (s, i) for s in range(batch["concurrent"]) for i in range(1, batch["iterations"] + 1)
    }
    assert set(succeeded) == expected, sorted(succeeded)
    assert all(n == 1 for n in succeeded.values()), succeeded.most_common(3)
    for run in runs:
        if run["status"] != "succeeded":
            assert "Jupyter server" in (run["error"] or ""), run
    return runs


def test_a_batch_survives_its_servers_restart(cluster: Cluster) -> None:
    """A clean shutdown mid-batch stops its runs; the next server life takes the batch up
    where it was and runs each remaining iteration once."""
    server = cluster.start()
    server.job("lane", "batch_jobs:lane")
    made = server.post(
        "jobs/lane/batches",
        {"concurrent": 3, "iterations": 4, "args": {"seconds": 0.8}},
        201,
    )

    def some_done() -> bool:
        return sum(r["status"] == "succeeded" for r in runs_of(server, made["id"])) >= 3

    eventually(some_done, timeout=WAIT, interval=0.3, message="a first iteration done")
    # A batch pinned to this server's worker.
    own_id = made["driven_by"] or server.get(f"batches/{made['id']}")["driven_by"]
    pinned = server.post(
        "jobs/lane/batches", {"concurrent": 1, "worker": own_id, "start": False}, 201
    )
    server.stop()
    after = cluster.start()
    middle = after.get(f"batches/{made['id']}")
    assert middle["status"] in ("running", "completed"), middle
    done = wait_batch(after, made["id"], "completed")
    assert done["percent_complete"] == 100
    assert _serves(after, done["driven_by"]), done["driven_by"]
    assert_each_iteration_ran_once(after, done)

    # The pinned batch's worker went with the old server: the batch cannot go on.
    reply = after.request("POST", f"batches/{pinned['id']}/start")
    assert reply.status_code == 200, reply.text
    invalid = wait_batch(after, pinned["id"], "invalid")
    assert f"its worker {own_id} is gone" in invalid["error"]
    assert runs_of(after, pinned["id"]) == []
    refused = after.request("POST", "jobs/lane/batches", json={"concurrent": 1, "worker": own_id})
    assert refused.status_code == 400 and refused.json()["field"] == "worker"


def test_two_servers_on_postgres_never_both_drive_a_batch(pg_cluster: Cluster) -> None:
    """Batches made on either of two servers sharing PostgreSQL: each is driven by one server
    at a time; when the driving server is killed, the other takes over once its lease lapses,
    and every iteration still runs once."""
    a = pg_cluster.start(batch_lease_s=3.0)
    b = pg_cluster.start(batch_lease_s=3.0)
    a.job("lane", "batch_jobs:lane")

    def make(server: Server, seconds: float) -> dict[str, Any]:
        body = {
            "concurrent": 6,
            "iterations": 3,
            "jobs_per_second": 3,
            "args": {"seconds": seconds},
        }
        return server.post("jobs/lane/batches", body, 201)  # type: ignore[no-any-return]

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        made = list(pool.map(lambda i: make((a, b)[i % 2], 0.05), range(4)))
    for batch in made:
        done = wait_batch(b, batch["id"], "completed")
        runs = assert_each_iteration_ran_once(b, done)
        assert len(runs) == 6 * 3, "a sub-job was started twice"

    # Kill the server that drives a batch; the other one finishes it.
    slow = make(a, 0.6)

    def driver() -> str | None:
        return a.get(f"batches/{slow['id']}")["driven_by"]  # type: ignore[no-any-return]

    owner = eventually(driver, timeout=WAIT, interval=0.2, message="a driver")
    eventually(
        lambda: sum(r["status"] == "succeeded" for r in runs_of(a, slow["id"])) >= 3,
        timeout=WAIT,
        interval=0.3,
        message="some iterations done",
    )
    victim, survivor = (a, b) if _serves(a, owner) else (b, a)
    assert _serves(victim, owner), (owner, a.pid, b.pid)
    victim.kill()
    done = wait_batch(survivor, slow["id"], "completed")
    assert done["driven_by"] != owner
    assert_each_iteration_ran_once(survivor, done)


def _serves(server: Server, server_id: str) -> bool:
    """Is ``server_id`` the id of ``server``'s worker (found by its process id)?"""
    items = server.get("workers", params={"per_page": 100})["items"]
    return any(w["id"] == server_id and w["pid"] == server.pid for w in items)
