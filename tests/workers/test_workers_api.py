"""Workers through a real server (DESIGN.md, "Workers and apps"; seed 003's agents): the server's
own worker with its host and stats, the runs that record it, drain and resume, a worker of
another kind registered through the registry's functions (as the Dask executor does) that goes
offline when its heartbeat stops and has its runs settled, the feed, and every bad input."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from typing import Any

import pytest
from conftest import API, Api
from sqlalchemy import update
from traitlets.config import Config
from waiting import eventually_async

from jobext.app import JobExtApp
from jobext.db.tables import Run
from jobext.errors import NotFound
from jobext.states import WorkerKind
from jobext.times import utcnow
from jobext.workers.heartbeats import (
    WorkerSpec,
    heartbeat_worker,
    register_worker,
    sign_off_worker,
)
from jobext.workers.host import Host

OFFLINE_AFTER_S = 2.0


@pytest.fixture
def jobext_config() -> dict[str, Any]:
    return {"max_workers": 2, "worker_offline_after_s": OFFLINE_AFTER_S}


async def workers(api: Api, **params: Any) -> dict[str, Any]:
    reply = await api.get("workers", params=params or None)
    assert reply.code == 200, reply
    return reply.json()  # type: ignore[no-any-return]


async def worker(api: Api, worker_id: str) -> dict[str, Any]:
    reply = await api.get(f"workers/{worker_id}")
    assert reply.code == 200, reply
    return reply.json()  # type: ignore[no-any-return]


async def act(api: Api, worker_id: str, action: str) -> dict[str, Any]:
    reply = await api.post(f"workers/{worker_id}/{action}")
    assert reply.code == 200, reply
    return reply.json()  # type: ignore[no-any-return]


async def heartbeats_pass(api: Api, worker_id: str, count: int = 2) -> None:
    """Wait until the worker heartbeat ``count`` more times (each heartbeat also makes its
    supervisor look for runs to claim)."""
    seen = {(await worker(api, worker_id))["last_seen"]}

    async def beat() -> bool:
        seen.add((await worker(api, worker_id))["last_seen"])
        return len(seen) > count

    await eventually_async(beat, timeout=30, message=f"{count} heartbeats of {worker_id}")


def dask_spec(name: str) -> WorkerSpec:
    host = Host("dask-host-1", "dask-host-1", "Linux", "6.1", "x86_64", 8)
    return WorkerSpec(WorkerKind.DASK, name, host, slots=4)


async def test_the_server_is_a_worker_and_its_runs_name_it(api: Api, jobext_app: Any) -> None:
    page = await workers(api)
    assert page["total"] == 1, page
    (me,) = page["items"]
    assert me["id"] == jobext_app.supervisor.server_id
    assert uuid.UUID(me["id"]).version == 4
    assert (me["kind"], me["status"], me["slots"], me["running"], me["runs"]) == (
        "local",
        "ready",
        2,
        0,
        [],
    )
    assert me["os_name"] and me["cpu_arch"] and me["cpu_cores"] >= 1 and me["host"]
    assert me["name"].endswith(f":{jobext_app.serverapp.port}")
    memory, cpu = me["stats"]["memory"], me["stats"]["cpu"]
    assert 0 < memory["physical"]["free"] <= memory["physical"]["total"]
    assert 0 <= memory["swap"]["free"] <= memory["swap"]["total"]
    assert 0 <= cpu["system"]["load"] <= 1 and 0 <= cpu["process"]["load"] <= 1
    assert cpu["process"]["time_s"] > 0
    assert me["totals"] == {"succeeded": 0, "failed": 0}

    await api.job("loop", "jobs_lib:loop")
    await api.job("fail", "jobs_lib:fail")
    running = await api.run("loop", {"seconds": 60})
    await api.wait(running["id"], "running")
    busy = await worker(api, me["id"])
    assert (busy["running"], busy["runs"]) == (1, [running["id"]])
    assert (await api.get(f"runs/{running['id']}")).json()["worker"] == me["id"]
    failed = await api.wait((await api.run("fail"))["id"])
    assert failed["status"] == "failed" and failed["worker"] == me["id"]
    await api.post(f"runs/{running['id']}/stop", params={"force": "true"})

    mine = (await api.get("runs", params={"worker": me["id"]})).json()
    assert sorted(r["id"] for r in mine["items"]) == sorted([running["id"], failed["id"]])
    elsewhere = (await api.get("runs", params={"worker": str(uuid.uuid4())})).json()
    assert elsewhere["total"] == 0
    of_job = (await api.get("jobs/fail/runs", params={"worker": me["id"]})).json()
    assert [r["id"] for r in of_job["items"]] == [failed["id"]]

    idle = await worker(api, me["id"])
    assert (idle["running"], idle["totals"]) == (0, {"succeeded": 0, "failed": 1})
    assert (await api.get("stats")).json()["workers"] == 1


async def test_a_draining_worker_starts_nothing_until_resumed(api: Api, jobext_app: Any) -> None:
    me = jobext_app.supervisor.server_id
    await api.job("loop", "jobs_lib:loop", max_concurrent=5, queue_when_busy=True)
    first = await api.run("loop", {"seconds": 1.5, "tick": 0.05})
    await api.wait(first["id"], "running")

    drained = await act(api, me, "drain")
    assert drained["status"] == "draining" and drained["runs"] == [first["id"]]
    assert (await act(api, me, "drain"))["status"] == "draining"  # asking twice changes nothing
    assert (await workers(api, status="draining"))["total"] == 1
    assert (await workers(api, status="ready"))["total"] == 0

    waiting = await api.run("loop", {"seconds": 0.1, "tick": 0.05})
    # The run in progress finishes; the new one is not started, heartbeat after heartbeat.
    assert (await api.wait(first["id"]))["status"] == "succeeded"
    await heartbeats_pass(api, me)
    assert (await api.get(f"runs/{waiting['id']}")).json()["status"] == "queued"

    resumed = await act(api, me, "resume")
    assert resumed["status"] == "ready"
    done = await api.wait(waiting["id"])
    assert done["status"] == "succeeded" and done["worker"] == me
    assert (await act(api, me, "resume"))["status"] == "ready"


async def test_a_worker_of_another_kind_heartbeats_goes_offline_and_its_runs_are_settled(
    api: Api, jobext_app: Any
) -> None:
    db = jobext_app.db
    me = jobext_app.supervisor.server_id
    stats = {"memory": {"physical": {"free": 1, "total": 2}}}
    other = await register_worker(db, dask_spec("tcp://10.0.0.7:40001"), stats=stats)
    listed = await workers(api, kind="dask")
    assert [w["id"] for w in listed["items"]] == [other]
    shown = listed["items"][0]
    assert (shown["status"], shown["host"], shown["slots"], shown["pid"]) == (
        "ready",
        "dask-host-1",
        4,
        None,
    )
    assert shown["stats"] == stats and shown["cpu_cores"] == 8
    assert (await workers(api, kind="local"))["items"][0]["id"] == me
    assert (await workers(api, search="10.0.0.7"))["total"] == 1

    # Signed off: offline at once; steering it is refused; a heartbeat brings it back.
    await sign_off_worker(db, other)
    gone = await worker(api, other)
    assert gone["status"] == "offline" and gone["offline_at"]
    for action in ("drain", "resume"):
        refused = await api.post(f"workers/{other}/{action}")
        assert refused.code == 409, refused
        assert "offline" in refused.json()["message"]
    assert await heartbeat_worker(db, other, stats={"memory": {}}, slots=6) is True
    back = await worker(api, other)
    assert (back["status"], back["slots"], back["stats"]) == ("ready", 6, {"memory": {}})
    assert await heartbeat_worker(db, other) is False

    # A run it holds (this server is drained, so the run waits until the Dask worker takes it).
    await act(api, me, "drain")
    await api.job("loop", "jobs_lib:loop")
    run = await api.run("loop", {"seconds": 60})
    await db.run(
        lambda s: s.execute(
            update(Run).where(Run.id == run["id"]).values(status="running", worker=other)
        )
    )
    assert (await worker(api, other))["runs"] == [run["id"]]

    # Its heartbeat stops: after OFFLINE_AFTER_S it is offline, and its run is settled.
    async def offline() -> dict[str, Any] | None:
        shown = await worker(api, other)
        return shown if shown["status"] == "offline" else None

    await eventually_async(offline, timeout=30, message="the Dask worker to go offline")
    settled = await api.wait(run["id"], "failed")
    assert "the Dask worker running it" in settled["error"], settled
    assert other in settled["error"] and "tcp://10.0.0.7:40001" in settled["error"]
    assert (await worker(api, me))["status"] == "draining"  # this one lives on
    assert (await workers(api, status="offline"))["total"] == 1
    assert (await workers(api, status="ready,draining"))["total"] == 1
    assert (await api.get("stats")).json()["workers"] == 1

    with pytest.raises(NotFound, match="no worker"):
        await heartbeat_worker(db, str(uuid.uuid4()))


async def test_the_feed_tells_of_workers(api: Api, jobext_app: Any, jp_fetch: Any) -> None:
    me = jobext_app.supervisor.server_id
    chunks: list[bytes] = []
    follow = asyncio.ensure_future(
        jp_fetch(*API.split("/"), "events", streaming_callback=chunks.append, request_timeout=60)
    )

    def seen() -> list[dict[str, Any]]:
        out = []
        for block in b"".join(chunks).decode().split("\n\n"):
            lines = [line for line in block.split("\n") if line and not line.startswith(":")]
            fields = dict(line.split(": ", 1) for line in lines)
            if fields.get("event") == "worker":
                out.append(json.loads(fields["data"]))
        return out

    try:
        await eventually_async(lambda: chunks, timeout=10)  # connected
        await act(api, me, "drain")
        await eventually_async(lambda: any(w["status"] == "draining" for w in seen()), timeout=10)
        # Heartbeats keep the stats live while anyone follows.
        await eventually_async(lambda: len({w["last_seen"] for w in seen()}) >= 3, timeout=30)
        assert {w["id"] for w in seen()} == {me}
    finally:
        follow.cancel()


@pytest.mark.parametrize(
    ("path", "params", "code", "field"),
    [
        ("workers", {"status": "busy"}, 400, "status"),
        ("workers", {"status": ","}, 400, "status"),
        ("workers", {"kind": "k8s"}, 400, "kind"),
        ("workers", {"sort": "pid"}, 400, "sort"),
        ("workers", {"per_page": "0"}, 400, "per_page"),
        ("workers/nope", None, 404, None),
        ("workers/0d473670-6502-48c8-8e0f-0003baba6fc3", None, 404, None),  # no such worker
    ],
)
async def test_bad_requests_say_why(
    api: Api, path: str, params: dict[str, str] | None, code: int, field: str | None
) -> None:
    reply = await api.get(path, params=params)
    assert reply.code == code, reply
    assert reply.json().get("field") == field, reply


async def test_actions_on_unknown_workers_and_the_actions_table(api: Api) -> None:
    for action in ("drain", "resume"):
        reply = await api.post(f"workers/{uuid.uuid4()}/{action}")
        assert reply.code == 404 and reply.json()["reason"] == "not_found", reply
    assert (await api.post("workers/x/block")).code == 404  # no such route
    table = (await api.get("openapi.json")).json()["x-jobext-actions"]["worker"]
    assert table == {
        "drain": {"ready": "draining", "draining": "draining"},
        "resume": {"draining": "ready", "ready": "ready"},
    }


def test_the_old_name_of_the_offline_timeout_is_still_read() -> None:
    old = Config()
    old.JobExtApp.dead_server_after_s = 7.0
    assert JobExtApp(config=old).worker_offline_after_s == 7.0
    new = Config()
    new.JobExtApp.worker_offline_after_s = 9.0
    assert JobExtApp(config=new).worker_offline_after_s == 9.0


async def test_workers_offline_long_enough_are_forgotten(api: Api, jobext_app: Any) -> None:
    db = jobext_app.db
    me = jobext_app.supervisor.server_id
    gone = await register_worker(db, dask_spec("tcp://10.0.0.8:1"))
    await sign_off_worker(db, gone)
    live = await register_worker(db, dask_spec("tcp://10.0.0.9:1"))
    assert await jobext_app.workers.forget_offline(utcnow() - dt.timedelta(days=1)) == []
    assert await jobext_app.workers.forget_offline(utcnow() + dt.timedelta(seconds=1)) == [gone]
    assert (await api.get(f"workers/{gone}")).code == 404
    assert {w["id"] for w in (await workers(api))["items"]} == {me, live}
