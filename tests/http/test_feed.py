"""``GET /events``, the server-wide feed that keeps the panel's lists live: runs, jobs and
batches as they change."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from conftest import API, Api
from waiting import eventually_async


def _events(chunks: list[bytes]) -> list[dict[str, Any]]:
    out = []
    for block in b"".join(chunks).decode().split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in block.split("\n") if line and not line.startswith(":")
        )
        if "data" in fields:
            out.append({**fields, "data": json.loads(fields["data"])})
    return out


async def test_jobs_and_their_batches_appear_change_and_go(api: Api, jp_fetch: Any) -> None:
    chunks: list[bytes] = []
    follow = asyncio.ensure_future(
        jp_fetch(*API.split("/"), "events", streaming_callback=chunks.append, request_timeout=60)
    )

    def seen(kind: str) -> list[Any]:
        return [e["data"] for e in _events(chunks) if e["event"] == kind]

    await eventually_async(lambda: chunks, timeout=10)  # connected
    await api.job("fed", "jobs_lib:noop", description="first")
    await api.patch("jobs/fed", {"description": "second"})
    batch = (await api.post("jobs/fed/batches", {"concurrent": 2, "start": False})).json()
    assert (await api.delete("jobs/fed")).code == 204
    await eventually_async(lambda: {"name": "fed", "deleted": True} in seen("job"), timeout=10)
    jobs = seen("job")
    assert [j.get("description") for j in jobs[:2]] == ["first", "second"]
    assert all(j["name"] == "fed" for j in jobs)
    # Its batches went with it (a batch of a deleted job could never run).
    assert {"id": batch["id"], "deleted": True} in seen("batch")
    assert (await api.call("GET", f"batches/{batch['id']}")).code == 404
    ids = [e["id"] for e in _events(chunks)]
    assert len(set(ids)) == len(ids)
    follow.cancel()  # the feed never ends


async def test_removed_runs_leave_the_lists(api: Api, jp_fetch: Any) -> None:
    chunks: list[bytes] = []
    follow = asyncio.ensure_future(
        jp_fetch(*API.split("/"), "events", streaming_callback=chunks.append, request_timeout=60)
    )

    def deleted() -> list[Any]:
        return [
            e["data"]["id"]
            for e in _events(chunks)
            if e["event"] == "run" and e["data"].get("deleted") is True
        ]

    await eventually_async(lambda: chunks, timeout=10)  # connected
    await api.job("gone", "jobs_lib:noop", max_concurrent=5, queue_when_busy=True)
    runs = [(await api.run("gone"))["id"] for _ in range(4)]
    for run_id in runs:
        await api.wait(run_id)
    # One run by id, the other three by a filter.
    assert (await api.delete(f"runs/{runs[0]}")).code == 204
    await eventually_async(lambda: deleted() == runs[:1], timeout=10)
    reply = await api.call("DELETE", "runs", params={"job": "gone"})
    assert reply.code == 200, reply.body
    assert reply.json()["deleted"] == 3
    await eventually_async(lambda: sorted(deleted()) == sorted(runs), timeout=10)
    assert {e["data"].get("deleted") for e in _events(chunks) if e["event"] == "run"} == {
        None,
        True,
    }, "a removed run is announced as {id, deleted: true}, the others as whole runs"
    follow.cancel()
