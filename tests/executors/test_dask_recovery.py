"""Failures around a Dask cluster: a worker SIGKILLed mid-run, a Jupyter server that dies while
its runs execute on the cluster. A cluster of this module's own (a worker is killed here)."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from cluster import run_processes, sqlite_cluster, wait_gone
from conftest import Api
from waiting import eventually, eventually_async

from bench.dask_cluster import Cluster


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    cluster = Cluster(tmp_path_factory.mktemp("dask"), workers=2, slots=2)
    try:
        cluster.wait_for_workers()
        yield cluster
    finally:
        cluster.close()


@pytest.fixture
def jobext_config(cluster: Cluster) -> dict[str, Any]:
    return {"executor": "dask", "dask_address": cluster.address, "max_workers": 4}


def worker_pids(cluster: Cluster) -> dict[str, int]:
    from distributed import Client

    with Client(cluster.address, set_as_default=False) as client:
        return dict(client.run(os.getpid))


def worker_of(cluster: Cluster, proc: psutil.Process) -> int:
    """The pid of the Dask worker process that ``proc`` descends from."""
    pids = set(worker_pids(cluster).values())
    return next(p.pid for p in proc.parents() if p.pid in pids)


async def test_a_worker_killed_mid_run_fails_the_run_by_its_rules_and_leaves_nothing(
    api: Api, cluster: Cluster
) -> None:
    await api.job("long", "jobs_lib:spawn_child", retries=1, retry_backoff_s=0)
    run = await api.run("long", {"seconds": 300})
    await api.wait_log(run["id"], "child ", timeout=60)
    procs = run_processes(run["uuid"])
    assert len(procs) >= 2, procs  # the job and its child
    os.kill(worker_of(cluster, procs[0]), signal.SIGKILL)

    failed = await api.wait(run["id"], timeout=60)
    assert failed["status"] == "failed" and "Dask worker" in failed["error"], failed
    # The killed worker's row is offline (its nanny's new worker is another one).
    killed = (await api.get(f"workers/{failed['worker']}")).json()
    assert killed["kind"] == "dask", killed

    async def offline() -> bool:
        return (await api.get(f"workers/{failed['worker']}")).json()["status"] == "offline"

    await eventually_async(offline, message="the killed Dask worker to turn offline")
    wait_gone("the killed worker's job processes", procs, [])

    # Its job allows one retry: a new run, which runs on the cluster again.
    async def retried() -> dict[str, Any] | None:
        items = (await api.get("runs", params={"job": "long"})).json()["items"]
        return next((r for r in items if r["trigger"] == "retry"), None)

    retry = await eventually_async(retried, message="the retry run")
    retry_id = retry["id"]
    await api.wait_log(retry_id, "child ", timeout=60)
    stopped = (await api.post(f"runs/{retry_id}/stop", params={"force": "true"})).json()
    assert stopped["status"] == "stopped"
    wait_gone("the retry's processes", [], [retry["uuid"]])
    # The nanny brings the worker back; the next tests find two workers again.
    cluster.wait_for_workers()


def test_a_server_that_dies_while_its_runs_execute_has_them_settled_by_the_next(
    cluster: Cluster, tmp_path: Path
) -> None:
    with sqlite_cluster(tmp_path) as servers:
        config = {"executor": "dask", "dask_address": cluster.address}
        first = servers.start(**config)
        first.job("long", "jobs_lib:sleep_no_checkpoint")
        run = first.run("long", {"seconds": 300})
        first.wait_log(run["id"], "sleeping")
        procs = eventually(lambda: run_processes(run["uuid"]), message="the run's process")
        first.kill()

        second = servers.start(**config)
        settled = second.wait(run["id"])
        assert settled["status"] == "failed", settled
        wait_gone("the dead server's run on the cluster", procs, [run["uuid"]])
        # The new server runs on the cluster as the first did.
        again = second.wait(second.run("long", {"seconds": 0})["id"])
        assert again["status"] == "succeeded", again
