"""Runs on a Dask cluster through a real Jupyter server (``executor = "dask"``): a scheduler and
two worker processes started by the tests, shared by the tests of this module."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from conftest import Api
from waiting import eventually_async

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
def source_db(tmp_path: Path) -> str:
    path = tmp_path / "source.db"
    with sqlite3.connect(path) as db:
        db.execute("create table t (id integer, name text)")
        db.executemany("insert into t values (?, ?)", [(i, f"n{i}") for i in range(5)])
    return f"sqlite:///{path}"


@pytest.fixture
def jobext_config(cluster: Cluster, source_db: str) -> dict[str, Any]:
    return {
        "executor": "dask",
        "dask_address": cluster.address,
        "max_workers": 4,
        "connections": {"src": source_db},
    }


async def logs(api: Api, run_id: int) -> list[str]:
    """Every log line of a run, page by page."""
    lines: list[str] = []
    after = 0
    while True:
        page = (await api.get(f"runs/{run_id}/logs", params={"after": after})).json()
        lines += [item["text"] for item in page["items"]]
        if not page["more"]:
            return lines
        after = page["next_after"]


async def test_every_kind_runs_on_the_cluster(api: Api, jp_root_dir: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    params = nbformat.v4.new_code_cell("who = None")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("print('notebook says', who)")]
    nbformat.write(nb, jp_root_dir / "report.ipynb")
    await api.job("py", "jobs_lib:write_result")
    await api.job("sh", "echo shell says", kind="shell")
    await api.job("nb", "report.ipynb", kind="notebook")
    await api.job(
        "q", "select id, name from t where id < :n order by id", kind="query", connection="src"
    )
    runs = {
        "py": await api.run("py", {"rows": 4}),
        "sh": await api.run("sh", "hi"),
        "nb": await api.run("nb", {"who": "dask"}),
        "q": await api.run("q", {"n": 3}),
    }
    done = {name: await api.wait(run["id"], timeout=120) for name, run in runs.items()}
    for name, run in done.items():
        assert run["status"] == "succeeded", (name, run)
    assert done["py"]["records_written"] == 4
    result = await api.get(f"runs/{done['py']['id']}/result")
    assert result.body.decode().splitlines() == ["id,name"] + [f"{i},row {i}" for i in range(4)]
    assert "shell says hi" in await logs(api, done["sh"]["id"])
    assert "notebook says dask" in await logs(api, done["nb"]["id"])
    executed = nbformat.reads((await api.get(f"runs/{done['nb']['id']}/result")).body.decode(), 4)
    assert executed.cells[-1].outputs[0]["text"] == "notebook says dask\n"
    csv = (await api.get(f"runs/{done['q']['id']}/result")).body.decode().splitlines()
    assert csv == ["id,name", "0,n0", "1,n1", "2,n2"]


async def test_a_100000_line_log_arrives_complete_and_in_order(api: Api) -> None:
    await api.job("flood", "jobs_lib:many_lines")
    run = await api.wait((await api.run("flood", {"count": 100_000}))["id"], timeout=180)
    assert run["status"] == "succeeded", run
    lines = [line for line in await logs(api, run["id"]) if line.startswith("line ")]
    assert lines == [f"line {i}" for i in range(100_000)]


async def test_graceful_stop_force_stop_pause_and_resume(api: Api) -> None:
    await api.job("loop", "jobs_lib:loop", max_concurrent=4)
    await api.job("deaf", "jobs_lib:ignore_sigterm")
    looping = await api.run("loop", {"seconds": 120})
    await api.wait_log(looping["id"], "tick 3", timeout=60)
    assert (await api.post(f"runs/{looping['id']}/pause")).code == 200
    await api.wait(looping["id"], "paused")
    lines = len(await logs(api, looping["id"]))
    assert (await api.post(f"runs/{looping['id']}/resume")).code == 200
    await api.wait(looping["id"], "running")

    async def ticking_again() -> bool:
        return len(await logs(api, looping["id"])) > lines + 2

    await eventually_async(ticking_again, message="the resumed run to tick again")
    assert (await api.post(f"runs/{looping['id']}/stop")).code == 200
    stopped = await api.wait(looping["id"])
    assert stopped["status"] == "stopped", stopped

    deaf = await api.run("deaf", {"seconds": 120})
    await api.wait_log(deaf["id"], "ignoring SIGTERM", timeout=60)
    reply = await api.post(f"runs/{deaf['id']}/stop", params={"force": "true"})
    assert reply.code == 200 and reply.json()["status"] == "stopped"
    # The process is gone too: its slot serves the next run.
    again = await api.run("deaf", {"seconds": 0})
    assert (await api.wait(again["id"], timeout=60))["status"] == "succeeded"


async def test_a_timeout_stops_the_run_on_its_worker(api: Api) -> None:
    await api.job("slow", "jobs_lib:sleep_no_checkpoint", timeout_s=2)
    run = await api.wait((await api.run("slow", {"seconds": 120}))["id"], timeout=60)
    assert run["status"] == "failed" and "timed out" in run["error"], run


async def test_a_schedule_and_a_batch_run_on_the_cluster(api: Api) -> None:
    await api.job("hello", "jobs_lib:hello", max_concurrent=4)
    schedule = (await api.post("schedules", {"job": "hello", "cron": "* * * * * ?"})).json()

    async def scheduled() -> list[dict[str, Any]]:
        items = (await api.get("runs", params={"schedule": schedule["id"]})).json()["items"]
        return [r for r in items if r["status"] == "succeeded"]

    fired = await eventually_async(scheduled, timeout=60, message="a scheduled run to succeed")
    assert fired[0]["trigger"] == "schedule"
    await api.post(f"schedules/{schedule['id']}/pause")
    batch = (await api.post("jobs/hello/batches", {"concurrent": 3, "iterations": 2})).json()

    async def completed() -> dict[str, Any] | None:
        got = (await api.get(f"batches/{batch['id']}")).json()
        return got if got["status"] in ("completed", "failed", "invalid") else None

    ended = await eventually_async(completed, timeout=120, message="the batch to complete")
    assert ended["status"] == "completed", ended
    runs = (await api.get("runs", params={"batch": batch["id"]})).json()["items"]
    assert len(runs) == 6 and all(r["status"] == "succeeded" for r in runs)


async def dask_workers(api: Api) -> dict[str, dict[str, Any]]:
    """The cluster's two workers as GET /workers lists them, by name, once both are there."""

    async def listed() -> dict[str, dict[str, Any]] | None:
        items = (await api.get("workers", params={"kind": "dask"})).json()["items"]
        ready = {w["name"]: w for w in items if w["status"] == "ready"}
        return ready if len(ready) == 2 else None

    return await eventually_async(listed, timeout=30, message="the two Dask workers listed")


async def test_dask_workers_are_workers_and_name_the_runs_they_execute(api: Api) -> None:
    workers = await dask_workers(api)
    assert sorted(workers) == ["w0", "w1"]
    for worker in workers.values():
        assert worker["kind"] == "dask" and worker["slots"] == 2, worker
        assert worker["stats"]["memory"]["physical"]["total"] > 0, worker
        assert worker["stats"]["cpu"]["process"]["time_s"] > 0, worker
        assert worker["cpu_cores"] and worker["os_name"], worker
    assert (await api.get("workers", params={"kind": "local"})).json()["total"] == 1

    await api.job("hi", "jobs_lib:hello")
    run = await api.wait((await api.run("hi"))["id"], timeout=60)
    assert run["status"] == "succeeded", run
    ids = {w["id"] for w in workers.values()}
    assert run["worker"] in ids, run
    found = (await api.get("runs", params={"worker": run["worker"]})).json()["items"]
    assert [r["id"] for r in found] == [run["id"]]
    worker = (await api.get(f"workers/{run['worker']}")).json()
    assert worker["totals"]["succeeded"] == 1 and worker["runs"] == [], worker


async def test_a_drained_dask_worker_takes_no_new_runs_and_finishes_its_own(api: Api) -> None:
    workers = await dask_workers(api)
    await api.job("nap", "jobs_lib:sleep_no_checkpoint", max_concurrent=4)
    first = await api.run("nap", {"seconds": 3})
    await api.wait_log(first["id"], "sleeping", timeout=60)
    drained = (await api.get(f"runs/{first['id']}")).json()["worker"]
    other = next(w["id"] for w in workers.values() if w["id"] != drained)
    held = (await api.get(f"workers/{drained}")).json()
    assert held["running"] == 1 and held["runs"] == [first["id"]], held
    assert (await api.post(f"workers/{drained}/drain")).json()["status"] == "draining"
    try:
        later = [await api.run("nap", {"seconds": 0}) for _ in range(3)]
        ended = [await api.wait(r["id"], timeout=60) for r in later]
        assert all(r["status"] == "succeeded" and r["worker"] == other for r in ended), ended
        done = await api.wait(first["id"], timeout=60)
        assert done["status"] == "succeeded" and done["worker"] == drained, done
    finally:
        await api.post(f"workers/{drained}/resume")


async def test_a_batch_pinned_to_a_dask_worker_runs_only_there(api: Api) -> None:
    workers = await dask_workers(api)
    pinned = workers["w1"]["id"]
    await api.job("pin", "jobs_lib:hello", max_concurrent=4)
    reply = await api.post("jobs/pin/batches", {"concurrent": 3, "iterations": 2, "worker": pinned})
    assert reply.code == 201, reply
    batch = reply.json()

    async def completed() -> dict[str, Any] | None:
        got = (await api.get(f"batches/{batch['id']}")).json()
        return got if got["status"] in ("completed", "failed", "invalid") else None

    ended = await eventually_async(completed, timeout=120, message="the pinned batch to end")
    assert ended["status"] == "completed", ended
    runs = (await api.get("runs", params={"batch": batch["id"]})).json()["items"]
    assert len(runs) == 6 and {r["worker"] for r in runs} == {pinned}, runs
