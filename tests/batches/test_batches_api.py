"""Batches through a real server (DESIGN.md, "Batches"; seed 000): group timing, the four
directives, the failure threshold, infinite iterations, ``invalid``, refusal of direct control
of a batch's run, deletion of everything, and every bad input answered with its field."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import Api
from sqlalchemy import event
from waiting import eventually_async

HERE = Path(__file__).parent
FINAL = ("succeeded", "failed", "stopped")
WAIT = 60.0
VANISHING = """
import time


def work():
    time.sleep(0.3)
"""


@pytest.fixture
def jobext_config() -> dict[str, Any]:
    return {"max_workers": 4}


@pytest.fixture
def jp_root_dir(tmp_path: Path) -> Path:
    root = tmp_path / "root_dir"
    root.mkdir()
    shutil.copy(HERE.parent / "jobs_lib.py", root / "jobs_lib.py")
    shutil.copy(HERE / "batch_jobs.py", root / "batch_jobs.py")
    # Written here, not copied from the tests' folder: that folder is on job processes' path.
    (root / "vanishing.py").write_text(VANISHING)
    return root


# ---------------------------------------------------------------------------- helpers


def instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


async def make(api: Api, job: str, **body: Any) -> dict[str, Any]:
    reply = await api.post(f"jobs/{job}/batches", body)
    assert reply.code == 201, reply
    return reply.json()  # type: ignore[no-any-return]


async def batch(api: Api, batch_id: int, **params: Any) -> dict[str, Any]:
    reply = await api.get(f"batches/{batch_id}", params=params or None)
    assert reply.code == 200, reply
    return reply.json()  # type: ignore[no-any-return]


async def wait_batch(
    api: Api, batch_id: int, *statuses: str, timeout: float = WAIT
) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    async def arrived() -> dict[str, Any] | None:
        nonlocal seen
        seen = await batch(api, batch_id, sub_jobs_per_page=1000)
        return seen if seen["status"] in statuses else None

    return await eventually_async(
        arrived,
        timeout=timeout,
        message=lambda: f"batch {batch_id} to be {statuses}: {seen}",
    )


async def runs_of(api: Api, batch_id: int, **filters: Any) -> list[dict[str, Any]]:
    reply = await api.get("runs", params={"batch": batch_id, "per_page": 1000, **filters})
    assert reply.code == 200, reply
    page = reply.json()
    assert page["total"] == len(page["items"])
    return sorted(page["items"], key=lambda r: r["id"])  # type: ignore[no-any-return]


async def wait_runs(api: Api, batch_id: int, check: Any, timeout: float = WAIT) -> Any:
    runs: list[dict[str, Any]] = []

    async def ok() -> Any:
        nonlocal runs
        runs = await runs_of(api, batch_id)
        return runs if check(runs) else None

    return await eventually_async(ok, timeout=timeout, message=lambda: f"runs: {runs}")


async def lane_job(api: Api, name: str = "lane", **fields: Any) -> None:
    await api.job(name, "batch_jobs:lane", **fields)


# ---------------------------------------------------------------------------- tests


async def test_sub_jobs_start_in_groups_one_second_apart(api: Api) -> None:
    """10 sub-jobs at 2/s start in 5 groups about a second apart, lowest sub-jobs first; each
    run is an ordinary run that knows its sub-job and iteration."""
    await lane_job(api)
    made = await make(api, "lane", concurrent=10, jobs_per_second=2)
    assert made["status"] == "starting"
    assert made["percent_complete"] == 0
    done = await wait_batch(api, made["id"], "completed")
    assert done["percent_complete"] == 100
    assert done["counts"] == {"completed": 10}
    assert done["failures"] == 0 and done["error"] is None
    assert done["stop_time"] is not None
    assert [s["status"] for s in done["sub_jobs"]] == ["completed"] * 10

    runs = await runs_of(api, made["id"])
    assert len(runs) == 10
    assert {(r["sub_job"], r["iteration"]) for r in runs} == {(i, 1) for i in range(10)}
    assert all(r["trigger"] == "batch" and r["status"] == "succeeded" for r in runs)
    created = {r["sub_job"]: instant(r["created_at"]) for r in runs}
    groups = [[created[2 * g], created[2 * g + 1]] for g in range(5)]
    for pair in groups:
        assert abs((pair[0] - pair[1]).total_seconds()) < 0.5, groups
    starts = [min(pair) for pair in groups]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(starts)]
    # About one second apart: loosely, as a loaded machine may be late (never early).
    assert all(0.7 <= gap <= 2.5 for gap in gaps), gaps
    assert 3.5 <= (starts[-1] - starts[0]).total_seconds() <= 8.0, gaps

    # The job read its place in the batch (jobext.batch_info()).
    lines = await api.wait_log(runs[3]["id"], "batch_info")
    expected = f'"batch_id": {made["id"]}, "iteration": 1, "sub_job": {runs[3]["sub_job"]}'
    assert any(expected in line["text"] for line in lines), lines


async def test_all_at_once_without_a_rate_and_outside_max_concurrent(api: Api) -> None:
    """Without jobs_per_second every sub-job starts at once; a batch's runs do not count
    against the job's max_concurrent (nor do they stop an enqueue)."""
    await lane_job(api, max_concurrent=1)
    made = await make(api, "lane", concurrent=3, args={"seconds": 3})
    await wait_runs(api, made["id"], lambda rs: sum(r["status"] == "running" for r in rs) == 3)
    manual = await api.run("lane", {"seconds": 0})
    assert manual["batch_id"] is None
    await api.wait(manual["id"], "succeeded")
    running = await batch(api, made["id"])
    assert running["status"] == "running"
    assert running["concurrent_jobs"] == 3
    assert running["counts"] == {"running": 3}
    await wait_batch(api, made["id"], "completed")

    stats = (await api.get("stats")).json()
    assert stats["batches"]["completed"] == 1
    assert set(stats["batches"]) == {
        "created", "starting", "re-starting", "running", "completed", "failed",
        "paused", "pausing", "stopped", "stopping", "invalid",
    }  # fmt: skip


async def test_pause_drains_then_holds_and_unpause_continues(api: Api) -> None:
    """pause lets the running runs finish and holds each sub-job before its next iteration;
    unpause goes on at that iteration; every iteration runs exactly once."""
    await lane_job(api)
    made = await make(api, "lane", concurrent=2, iterations=3, args={"seconds": 1.5})
    await wait_runs(api, made["id"], lambda rs: sum(r["status"] == "running" for r in rs) == 2)
    paused = (await api.post(f"batches/{made['id']}/pause")).json()
    assert paused["status"] in ("pausing", "paused")
    held = await wait_batch(api, made["id"], "paused")
    runs = await runs_of(api, made["id"])
    assert all(r["status"] == "succeeded" for r in runs), runs
    last = {s: max(r["iteration"] for r in runs if r["sub_job"] == s) for s in (0, 1)}
    assert [s["status"] for s in held["sub_jobs"]] == ["held", "held"]
    assert [s["iteration"] for s in held["sub_jobs"]] == [last[0] + 1, last[1] + 1]
    assert held["concurrent_jobs"] == 0

    # Held means held: nothing starts while paused.
    again = (await api.post(f"batches/{made['id']}/pause")).json()
    assert again["status"] == "paused"
    count = len(runs)
    refused = await api.post(f"batches/{made['id']}/stop", params={"jobs_per_second": "2"})
    assert refused.code == 400 and refused.json()["field"] == "jobs_per_second"
    assert len(await runs_of(api, made["id"])) == count

    resumed = (await api.post(f"batches/{made['id']}/unpause")).json()
    assert resumed["status"] in ("starting", "running")
    new = await wait_runs(api, made["id"], lambda rs: len(rs) > count)
    first_new = {r["sub_job"]: r["iteration"] for r in reversed(new[count:])}
    for sub_job, iteration in first_new.items():
        assert iteration == last[sub_job] + 1
    done = await wait_batch(api, made["id"], "completed")
    assert done["percent_complete"] == 100
    runs = await runs_of(api, made["id"])
    assert sorted((r["sub_job"], r["iteration"]) for r in runs) == [
        (s, i) for s in (0, 1) for i in (1, 2, 3)
    ]
    # Not paused any more: unpause is refused, saying why.
    refused = await api.post(f"batches/{made['id']}/unpause")
    assert refused.code == 409
    assert "cannot unpause a batch that is completed" in refused.json()["message"]


async def test_start_on_a_running_batch_clears_and_restarts(api: Api, tmp_path: Path) -> None:
    """start while running: the runs are stopped, removed with logs and results, and every
    sub-job begins again from its first iteration."""
    await lane_job(api)
    made = await make(api, "lane", concurrent=2, iterations=2, args={"seconds": 30})
    old = await wait_runs(
        api, made["id"], lambda rs: sum(r["status"] == "running" for r in rs) == 2
    )
    restarted = await api.post(f"batches/{made['id']}/start", params={"jobs_per_second": "1"})
    assert restarted.code == 200, restarted
    assert restarted.json()["status"] == "re-starting"
    assert restarted.json()["jobs_per_second"] == 1

    def fresh(runs: list[dict[str, Any]]) -> bool:
        return len(runs) == 2 and all(r["id"] > old[-1]["id"] for r in runs)

    new = await wait_runs(api, made["id"], fresh)
    assert sorted((r["sub_job"], r["iteration"]) for r in new) == [(0, 1), (1, 1)]
    for run in old:
        assert (await api.get(f"runs/{run['id']}")).code == 404
        assert (await api.get(f"runs/{run['id']}/logs")).code == 404
        assert not (tmp_path / "results" / run["uuid"]).exists()
    await api.post(f"batches/{made['id']}/stop")
    await wait_batch(api, made["id"], "stopped")


async def test_stop_stops_every_run_and_resets_progress(api: Api) -> None:
    """stop: every running run is stopped gracefully, the batch is stopping then stopped with
    its progress reset; unpause is refused, the runs stay readable, start begins again."""
    await lane_job(api)
    made = await make(api, "lane", concurrent=3, iterations=2, args={"seconds": 30})
    await wait_runs(api, made["id"], lambda rs: sum(r["status"] == "running" for r in rs) == 3)
    stopping = (await api.post(f"batches/{made['id']}/stop")).json()
    assert stopping["status"] in ("stopping", "stopped")
    stopped = await wait_batch(api, made["id"], "stopped")
    assert stopped["percent_complete"] == 0
    assert stopped["stop_time"] is not None
    assert stopped["counts"] == {"stopped": 3}
    runs = await runs_of(api, made["id"])
    assert [r["status"] for r in runs] == ["stopped"] * 3
    refused = await api.post(f"batches/{made['id']}/unpause")
    assert refused.code == 409 and refused.json()["reason"] == "illegal_transition"
    assert "use start" in refused.json()["message"]
    assert (await api.post(f"batches/{made['id']}/pause")).code == 409
    again = (await api.post(f"batches/{made['id']}/stop")).json()
    assert again["status"] == "stopped"

    started = (await api.post(f"batches/{made['id']}/start")).json()
    assert started["status"] == "re-starting"
    await wait_runs(
        api,
        made["id"],
        lambda rs: len(rs) == 3 and all(r["id"] > runs[-1]["id"] for r in rs),
    )
    await api.post(f"batches/{made['id']}/stop")
    await wait_batch(api, made["id"], "stopped")


async def test_stop_with_a_long_queue_stops_every_queued_run(api: Api) -> None:
    """300 sub-jobs queue behind the server's 4 slots; stop ends the queued runs in one
    statement, each as a stop request does (``stopped``, its log line), and the running ones
    gracefully: every run ends ``stopped``, nothing starts afterwards."""
    await lane_job(api)
    made = await make(api, "lane", concurrent=300, args={"seconds": 30})
    await wait_runs(
        api, made["id"], lambda rs: len(rs) == 300 and any(r["status"] == "running" for r in rs)
    )
    assert (await api.post(f"batches/{made['id']}/stop")).code == 200
    stopped = await wait_batch(api, made["id"], "stopped")
    assert stopped["counts"] == {"stopped": 300}
    runs = await runs_of(api, made["id"])
    assert len(runs) == 300
    assert {r["status"] for r in runs} == {"stopped"}
    never_started = [r for r in runs if r["started_at"] is None]
    assert len(never_started) >= 290
    for run in never_started:
        assert run["error"] == "stopped"
        assert run["ended_at"] is not None
    await api.wait_log(never_started[-1]["id"], "stop requested")
    await asyncio.sleep(0.5)
    assert len(await runs_of(api, made["id"])) == 300


async def test_failure_threshold_fails_the_batch_and_stops_the_rest(api: Api) -> None:
    """failures_to_ignore: 2 and sub-jobs 0-2 failing: the batch is failed after the third
    failure, the other runs are stopped (queued or running), and nothing new starts."""
    await lane_job(api)
    made = await make(
        api,
        "lane",
        concurrent=5,
        failures_to_ignore=2,
        args={"seconds": 30, "fail_below": 3},
    )
    failed = await wait_batch(api, made["id"], "failed")
    assert failed["failures"] == 3
    assert "more than failures_to_ignore=2" in failed["error"]

    def settled(runs: list[dict[str, Any]]) -> bool:
        return all(r["status"] in FINAL for r in runs)

    runs = await wait_runs(api, made["id"], settled)
    assert sorted(r["sub_job"] for r in runs if r["status"] == "failed") == [0, 1, 2]
    assert all(r["status"] == "stopped" for r in runs if r["sub_job"] >= 3)
    # The queued ones were stopped with the batch's end (one statement), as a stop request does.
    for run in runs:
        if run["status"] == "stopped" and run["started_at"] is None:
            assert run["error"] == "stopped" and run["ended_at"] is not None
            await api.wait_log(run["id"], "stop requested")
    assert all(r["iteration"] == 1 for r in runs)
    assert [s["failures"] for s in failed["sub_jobs"]] == [1, 1, 1, 0, 0]
    count = len(runs)
    later = await batch(api, made["id"])
    assert later["status"] == "failed"
    assert len(await runs_of(api, made["id"])) == count


async def test_infinite_iterations_until_stopped(api: Api) -> None:
    """iterations: null runs every sub-job until stopped; there is no percent_complete."""
    await lane_job(api)
    made = await make(api, "lane", concurrent=2, iterations=None)
    assert made["iterations"] is None
    assert "percent_complete" not in made
    await wait_runs(api, made["id"], lambda rs: max([r["iteration"] for r in rs] or [0]) >= 3)
    running = await batch(api, made["id"])
    assert running["status"] == "running" and "percent_complete" not in running
    await api.post(f"batches/{made['id']}/stop")
    stopped = await wait_batch(api, made["id"], "stopped")
    assert "percent_complete" not in stopped
    runs = await runs_of(api, made["id"])
    for sub_job in (0, 1):
        iterations = sorted(
            r["iteration"] for r in runs if r["sub_job"] == sub_job and r["status"] == "succeeded"
        )
        assert iterations == list(range(1, len(iterations) + 1))


async def test_invalid_when_the_jobs_module_disappears(api: Api, jp_root_dir: Path) -> None:
    """A target that no longer imports makes the batch invalid, with an error saying so."""
    await api.job("vanish", "vanishing:work")
    made = await make(api, "vanish", concurrent=1, iterations=50)
    await wait_runs(api, made["id"], lambda rs: any(r["status"] == "succeeded" for r in rs))
    (jp_root_dir / "vanishing.py").unlink()
    shutil.rmtree(jp_root_dir / "__pycache__", ignore_errors=True)
    invalid = await wait_batch(api, made["id"], "invalid")
    assert "'vanishing:work' no longer imports" in invalid["error"], invalid["error"]
    assert invalid["stop_time"] is not None
    assert (await api.post(f"batches/{made['id']}/pause")).code == 409


async def test_deleting_the_job_deletes_its_batches(api: Api) -> None:
    await lane_job(api)
    made = await make(api, "lane", concurrent=2, start=False)
    assert made["status"] == "created"
    assert made["counts"] == {"pending": 2}
    assert (await api.delete("jobs/lane")).code == 204
    # Gone with its job, as the job's schedules and runs are: it could never run again.
    assert (await api.call("GET", f"batches/{made['id']}")).code == 404
    assert (await api.call("POST", f"batches/{made['id']}/start")).code == 404
    assert (await api.get("batches")).json()["total"] == 0


async def test_deleting_a_batch_with_a_long_queue_stops_its_queued_runs_at_once(
    api: Api,
) -> None:
    """Hundreds of sub-jobs queue behind the server's slots; deleting the batch stops the
    queued runs in one statement (they have no process) and the few running ones by force:
    nothing of it starts afterwards, and every run goes."""
    await lane_job(api)
    made = await make(api, "lane", concurrent=300, args={"seconds": 30})
    await wait_runs(
        api, made["id"], lambda rs: len(rs) == 300 and any(r["status"] == "running" for r in rs)
    )
    assert (await api.delete(f"batches/{made['id']}")).code == 204
    assert (await api.get("runs", params={"batch": made["id"]})).json()["total"] == 0
    assert (await api.get("runs", params={"job": "lane", "status": "IN_PROGRESS"})).json()[
        "total"
    ] == 0


async def test_direct_control_of_a_batch_run_is_refused(api: Api) -> None:
    await lane_job(api)
    made = await make(api, "lane", concurrent=1, args={"seconds": 30})
    (run,) = await wait_runs(api, made["id"], lambda rs: rs and rs[0]["status"] == "running")
    calls = [
        ("POST", f"runs/{run['id']}/stop"),
        ("POST", f"runs/{run['id']}/pause"),
        ("POST", f"runs/{run['id']}/resume"),
        ("POST", f"runs/{run['id']}/restart"),
        ("DELETE", f"runs/{run['id']}"),
    ]
    for method, path in calls:
        reply = await api.call(method, path, params={"force": "true"} if "stop" in path else None)
        assert reply.code == 409, (path, reply)
        body = reply.json()
        assert body["reason"] == "managed_by_batch"
        assert f"managed by batch {made['id']}: use its directives" in body["message"]
    assert (await api.get(f"runs/{run['id']}")).json()["status"] == "running"
    await api.post(f"batches/{made['id']}/stop")
    await wait_batch(api, made["id"], "stopped")
    # Ended, it is still the batch's to delete.
    assert (await api.delete(f"runs/{run['id']}")).code == 409


async def test_delete_removes_runs_logs_and_results(api: Api, tmp_path: Path) -> None:
    await lane_job(api)
    done = await make(api, "lane", concurrent=2)
    await wait_batch(api, done["id"], "completed")
    busy = await make(api, "lane", concurrent=2, args={"seconds": 30})
    await wait_runs(api, busy["id"], lambda rs: sum(r["status"] == "running" for r in rs) == 2)
    runs = await runs_of(api, done["id"]) + await runs_of(api, busy["id"])
    assert all(r["result"] for r in runs if r["status"] == "succeeded")
    results = tmp_path / "results"
    assert all((results / r["uuid"]).exists() for r in runs if r["status"] == "succeeded")

    assert (await api.delete(f"batches/{done['id']}")).code == 204
    assert (await api.get(f"batches/{done['id']}")).code == 404
    # A running batch is stopped and deleted too: DELETE /jobs/{name}/batches.
    assert (await api.delete("jobs/lane/batches")).json() == {"deleted": 1}
    assert (await api.get(f"batches/{busy['id']}")).code == 404
    for run in runs:
        assert (await api.get(f"runs/{run['id']}")).code == 404
        assert (await api.get(f"runs/{run['id']}/logs")).code == 404
    assert (await api.get("runs", params={"job": "lane"})).json()["total"] == 0

    async def files_gone() -> bool:
        return not any((results / r["uuid"]).exists() for r in runs)

    await eventually_async(files_gone, timeout=WAIT, message="result folders removed")
    assert (await api.get("batches")).json()["total"] == 0
    assert (await api.delete("batches/999")).code == 404


async def test_lists_paging_and_filters(api: Api) -> None:
    await lane_job(api)
    await api.job("other", "batch_jobs:lane")
    a = await make(api, "lane", concurrent=3, start=False)
    b = await make(api, "other", concurrent=1, start=False)
    page = (await api.get("batches")).json()
    assert [item["id"] for item in page["items"]] == [b["id"], a["id"]]
    assert page["total"] == 2 and page["per_page"] == 50
    assert "sub_jobs" not in page["items"][0]
    assert (await api.get("jobs/lane/batches")).json()["items"][0]["id"] == a["id"]
    assert (await api.get("batches", params={"job": "other"})).json()["total"] == 1
    assert (await api.get("batches", params={"status": "created,running"})).json()["total"] == 2
    assert (await api.get("batches", params={"status": "running"})).json()["total"] == 0
    one = await batch(api, a["id"], sub_jobs_page=1, sub_jobs_per_page=2)
    assert [s["id"] for s in one["sub_jobs"]] == [2]
    assert one["sub_jobs_total"] == 3
    assert one["sub_jobs"][0] == {
        "id": 2, "status": "pending", "iteration": 1, "done": 0, "failures": 0, "run_id": None,
    }  # fmt: skip


async def test_list_items_carry_counts_from_one_query_a_page(api: Api, jobext_app: Any) -> None:
    """Each batch of a list has the ``counts`` of ``GET /batches/{id}`` (its sub-jobs by shown
    status: a running run's status while an iteration is in progress), read for the whole page
    with one grouped query."""
    await lane_job(api)
    idle = await make(api, "lane", concurrent=3, start=False)
    busy = await make(api, "lane", concurrent=2, args={"seconds": 30})
    await wait_runs(api, busy["id"], lambda rs: [r["status"] for r in rs] == ["running"] * 2)
    # Two of the four worker slots are left: this one's third run waits in `queued`, behind
    # its pace.
    behind = await make(api, "lane", concurrent=3, args={"seconds": 30})
    await wait_runs(
        api,
        behind["id"],
        lambda rs: sorted(r["status"] for r in rs) == ["queued", "running", "running"],
    )
    await asyncio.sleep(0.3)
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "count(" in statement and "jobext_batch_sub_job" in statement:
            statements.append(statement)

    engine = jobext_app.db.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        page = (await api.get("batches")).json()
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert len(statements) == 1, statements
    items = {item["id"]: item for item in page["items"]}
    counts = {batch_id: item["counts"] for batch_id, item in items.items()}
    assert counts == {
        idle["id"]: {"pending": 3},
        busy["id"]: {"running": 2},
        behind["id"]: {"queued": 1, "running": 2},
    }
    assert counts[busy["id"]] == (await batch(api, busy["id"]))["counts"]
    # The same query gives the runs running now and the lag, as the detail has them.
    assert {i: item["concurrent_jobs"] for i, item in items.items()} == {
        idle["id"]: 0,
        busy["id"]: 2,
        behind["id"]: 2,
    }
    assert items[idle["id"]]["lag_s"] == items[busy["id"]]["lag_s"] == 0
    lag = items[behind["id"]]["lag_s"]
    assert 0.3 <= lag <= (await batch(api, behind["id"]))["lag_s"]
    assert (await api.get("jobs/lane/batches", params={"status": "created"})).json()["items"][0][
        "counts"
    ] == {"pending": 3}
    await api.post(f"batches/{behind['id']}/stop")
    await wait_batch(api, behind["id"], "stopped")
    await api.post(f"batches/{busy['id']}/stop")
    await wait_batch(api, busy["id"], "stopped")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "concurrent"),
        ({"concurrent": 0}, "concurrent"),
        ({"concurrent": 10_001}, "concurrent"),
        ({"concurrent": "5"}, "concurrent"),
        ({"concurrent": True}, "concurrent"),
        ({"concurrent": 2, "jobs_per_second": 0}, "jobs_per_second"),
        ({"concurrent": 2, "iterations": 0}, "iterations"),
        ({"concurrent": 2, "failures_to_ignore": -1}, "failures_to_ignore"),
        ({"concurrent": 2, "args": {"nope": 1}}, None),
        ({"concurrent": 2, "args": 5}, "args"),
        ({"concurrent": 2, "worker": "elsewhere:1"}, "worker"),
        ({"concurrent": 2, "start": "yes"}, "start"),
        ({"concurrent": 2, "colour": "red"}, "colour"),
    ],
)
async def test_bad_input_names_the_field(api: Api, body: dict[str, Any], field: str | None) -> None:
    await lane_job(api)
    reply = await api.post("jobs/lane/batches", body)
    if field is None:
        # Args that the job cannot take fail its runs, as an enqueue's would: accepted.
        assert reply.code == 201, reply
        return
    assert reply.code == 400, reply
    assert reply.json()["field"] == field, reply


async def test_errors_for_unknown_things_and_illegal_directives(api: Api, jobext_app: Any) -> None:
    assert (await api.post("jobs/nope/batches", {"concurrent": 1})).code == 404
    assert (await api.get("batches/12345")).code == 404
    assert (await api.get("batches/x")).code == 404
    assert (await api.post("batches/12345/start")).code == 404
    assert (await api.get("batches", params={"status": "bogus"})).json()["field"] == "status"
    assert (await api.get("batches", params={"sort": "bogus"})).code == 400
    await lane_job(api)
    own = jobext_app.supervisor.server_id
    made = await make(api, "lane", concurrent=1, start=False, worker=own)
    assert made["worker"] == own
    for directive in ("stop", "pause", "unpause"):
        reply = await api.post(f"batches/{made['id']}/{directive}")
        assert reply.code == 409, (directive, reply)
        assert f"cannot {directive} a batch that is created" in reply.json()["message"]
    bad = await api.post(f"batches/{made['id']}/start", params={"jobs_per_second": "0"})
    assert bad.code == 400 and bad.json()["field"] == "jobs_per_second"
    bad = await api.post(f"batches/{made['id']}/start", params={"jobs_per_second": "x"})
    assert bad.code == 400 and bad.json()["field"] == "jobs_per_second"
    page = await api.get(f"batches/{made['id']}", params={"sub_jobs_per_page": "0"})
    assert page.code == 400 and page.json()["field"] == "sub_jobs_per_page"
    started = await api.post(f"batches/{made['id']}/start")
    assert started.json()["status"] == "starting"
    done = await wait_batch(api, made["id"], "completed")
    (run,) = await runs_of(api, made["id"])
    assert run["worker"] == own and done["worker"] == own


async def test_openapi_and_actions_table(api: Api) -> None:
    doc = (await api.get("openapi.json")).json()
    for path in (
        "/jobs/{name}/batches",
        "/batches",
        "/batches/{batch_id}",
        "/batches/{batch_id}/start",
        "/batches/{batch_id}/unpause",
    ):
        assert path in doc["paths"], path
    table = doc["x-jobext-actions"]["batch"]
    assert table["start"]["created"] == "starting"
    assert table["start"]["running"] == "re-starting"
    assert table["unpause"] == {"paused": "starting", "pausing": "starting"}
    assert "stopped" not in table["unpause"]
    assert "Batch" in doc["components"]["schemas"]


async def test_a_large_batch_does_not_hold_the_event_loop(api: Api, loop_stalls: Any) -> None:
    """2,000 sub-jobs started 1,000 a second, read while they run, then deleted: the server's
    event loop is never held over 250 ms (the controller's work runs off it)."""
    await api.job("noop", "jobs_lib:noop")
    with loop_stalls.phase("create and start 2,000 sub-jobs"):
        made = await make(api, "noop", concurrent=2000, jobs_per_second=1000)

        async def started() -> bool:
            page = await api.get("runs", params={"batch": made["id"], "per_page": 1})
            return bool(page.json()["total"] >= 1000)

        await eventually_async(started, timeout=WAIT, message="1,000 sub-jobs started")
    with loop_stalls.phase("read it"):
        for _ in range(5):
            detail = await batch(api, made["id"], sub_jobs_per_page=1000)
        assert sum(detail["counts"].values()) == 2000
    with loop_stalls.phase("delete it"):
        # Stopping 2,000 runs one by one is slow on a loaded 2-core machine; the loop stays free.
        assert (await api.delete(f"batches/{made['id']}", timeout=300)).code == 204
    assert (await api.get("runs", params={"job": "noop"})).json()["total"] == 0


async def test_a_step_that_raises_is_set_aside_not_retried_at_once(
    api: Api, jobext_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unexpected error in a batch's step shows as its error, and the controller leaves the
    batch alone for a growing while instead of trying again in a tight loop; other batches go
    on meanwhile."""
    controller = jobext_app.batch_controller
    await lane_job(api)
    healthy_release = controller._release
    calls: list[int] = []
    doomed: list[int] = []

    def release(session: Any, batch_id: int) -> Any:
        if batch_id in doomed:
            calls.append(batch_id)
            raise RuntimeError("the disk is on fire")
        return healthy_release(session, batch_id)

    monkeypatch.setattr(controller, "_release", release)
    bad = await make(api, "lane", concurrent=1, start=False)
    doomed.append(bad["id"])
    await api.post(f"batches/{bad['id']}/start")
    good = await make(api, "lane", concurrent=2)

    async def shown() -> bool:
        return "set aside for" in ((await batch(api, bad["id"]))["error"] or "")

    await eventually_async(shown, timeout=WAIT, message="the error on the batch")
    assert "RuntimeError: the disk is on fire" in (await batch(api, bad["id"]))["error"]
    await wait_batch(api, good["id"], "completed")
    await asyncio.sleep(3.0)
    # 1 s, then 2 s, then 4 s apart: a handful of tries, not hundreds.
    assert 1 <= len(calls) <= 4, calls
    assert (await batch(api, bad["id"]))["status"] == "starting"
    # Once the step works again, the batch goes on and the error goes.
    monkeypatch.setattr(controller, "_release", healthy_release)
    done = await wait_batch(api, bad["id"], "completed")
    assert done["error"] is None
