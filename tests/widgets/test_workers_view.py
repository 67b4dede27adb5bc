"""``WorkersView`` and the client's ``workers`` against a live server, in this process (the
server runs in this event loop, so the client and the widget are used from threads)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from waiting import eventually_async

from jobext.client import Conflict, JobsClient, NotFound
from jobext.states import WorkerKind
from jobext.widgets import WorkersView
from jobext.workers.heartbeats import WorkerSpec, register_worker, sign_off_worker
from jobext.workers.host import Host


@pytest.fixture
def client(
    jobext_app: Any, http_server: Any, jp_serverapp: Any, jp_http_port: int, jp_base_url: str
) -> JobsClient:
    url = f"http://127.0.0.1:{jp_http_port}{jp_base_url}"
    return JobsClient(url=url, token=jp_serverapp.identity_provider.token)


def enabled(view: WorkersView, worker_id: str) -> set[str]:
    buttons = view.rows[worker_id].buttons
    return {name for name, button in buttons.items() if not button.disabled}


async def test_client_workers_round_trip(client: JobsClient, jobext_app: Any) -> None:
    me = jobext_app.supervisor.server_id

    def work() -> None:
        (worker,) = client.workers.list()["items"]
        assert worker["id"] == me and worker["status"] == "ready"
        assert client.workers.get(me)["stats"]["memory"]["physical"]["total"] > 0
        assert client.workers.drain(me)["status"] == "draining"
        assert client.workers.list(status=["draining", "offline"])["total"] == 1
        assert client.workers.list(kind="dask")["total"] == 0
        assert client.workers.resume(me)["status"] == "ready"
        client.jobs.register("hello", "python", "jobs_lib:hello")
        run = client.runs.wait(client.runs.enqueue("hello")["id"])
        assert [r["id"] for r in client.workers.runs(me)["items"]] == [run["id"]]
        assert client.runs.history(worker=me)["total"] == 1
        assert client.stats()["workers"] == 1
        with pytest.raises(NotFound):
            client.workers.get("no-such-worker")

    await asyncio.to_thread(work)


async def test_workers_view_shows_workers_and_drains_them(
    client: JobsClient, jobext_app: Any
) -> None:
    me = jobext_app.supervisor.server_id
    host = Host("dask-host-1", "dask-host-1", "Linux", "6.1", "x86_64", 8)
    stats = {
        "memory": {"physical": {"free": 2 * 2**30, "total": 8 * 2**30}},
        "cpu": {"process": {"load": 0.25, "time_s": 3.0}, "system": {"load": 0.5}},
    }
    other = await register_worker(
        jobext_app.db, WorkerSpec(WorkerKind.DASK, "tcp://10.0.0.7:1", host, 4), stats=stats
    )
    view = await asyncio.to_thread(WorkersView, client=client, interval=0.3)
    try:
        assert set(view.rows) == {me, other}
        assert enabled(view, me) == {"drain"} and enabled(view, other) == {"drain"}
        cells = " ".join(c.value for c in view.rows[other].cells)
        assert "tcp://10.0.0.7:1" in cells and "dask-host-1" in cells
        assert "50% (own 25%)" in cells and "6.0 of 8.0 GiB" in cells
        assert "2 workers, 2 ready" in view.summary.value

        await asyncio.to_thread(view.rows[me].buttons["drain"].click)
        assert "drain: " in view.notice.value and "is draining" in view.notice.value
        assert enabled(view, me) == {"resume"}
        await asyncio.to_thread(view.rows[me].buttons["resume"].click)
        assert enabled(view, me) == {"drain"}

        # Another client drains: the view follows; an offline worker offers nothing.
        await asyncio.to_thread(client.workers.drain, other)
        await sign_off_worker(jobext_app.db, other)

        async def followed() -> bool:
            return enabled(view, other) == set() and "offline" in view.rows[other].cells[1].value

        await eventually_async(followed, timeout=30, message="the view to show it offline")
        with pytest.raises(Conflict):
            await asyncio.to_thread(view.act, other, "resume")

        # Filtered to ready workers only: the offline one leaves the grid.
        await asyncio.to_thread(setattr, view.status_filter, "value", "ready")
        assert set(view.rows) == {me}
        assert len(view.grid.children) == 2 * 9
    finally:
        await asyncio.to_thread(view.close)
