"""``BatchView`` and the client's ``batches`` against a live server, in this process (the server
runs in this event loop, so the client and the widget are used from threads)."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import pytest
from waiting import eventually_async

from jobext.client import Conflict, JobsClient
from jobext.widgets import BatchView

HERE = Path(__file__).parent


@pytest.fixture
def jp_root_dir(tmp_path: Path) -> Path:
    root = tmp_path / "root_dir"
    root.mkdir()
    shutil.copy(HERE.parent / "jobs_lib.py", root / "jobs_lib.py")
    shutil.copy(HERE.parent / "batches" / "batch_jobs.py", root / "batch_jobs.py")
    return root


@pytest.fixture
def client(
    jobext_app: Any, http_server: Any, jp_serverapp: Any, jp_http_port: int, jp_base_url: str
) -> JobsClient:
    url = f"http://127.0.0.1:{jp_http_port}{jp_base_url}"
    return JobsClient(url=url, token=jp_serverapp.identity_provider.token)


def enabled(view: BatchView) -> set[str]:
    return {name for name, button in view.buttons.items() if not button.disabled}


async def test_client_batches_round_trip(client: JobsClient) -> None:
    def work() -> dict[str, Any]:
        client.jobs.register("lane", "python", "batch_jobs:lane")
        made = client.batches.create("lane", 3, jobs_per_second=3, iterations=2)
        assert made["status"] == "starting"
        done = client.batches.wait(made["id"], "completed", timeout=60)
        runs = client.batches.runs(made["id"])["items"]
        assert len(runs) == 6 and {r["trigger"] for r in runs} == {"batch"}
        assert client.batches.list(job="lane", status=["completed"])["total"] == 1
        assert client.stats()["batches"]["completed"] == 1
        with pytest.raises(Conflict) as refused:
            client.batches.unpause(made["id"])
        assert "cannot unpause" in refused.value.message
        infinite = client.batches.create("lane", 1, iterations=None, start=False)
        assert "percent_complete" not in infinite
        assert client.batches.delete_all("lane") == 2
        return done

    done = await asyncio.to_thread(work)
    assert done["percent_complete"] == 100


async def test_batch_view_shows_the_batch_and_sends_directives(client: JobsClient) -> None:
    def make() -> tuple[BatchView, dict[str, Any]]:
        client.jobs.register("lane", "python", "batch_jobs:lane")
        made = client.batches.create("lane", 2, args={"seconds": 30}, start=False)
        return BatchView(made["id"], client=client, interval=0.3), made

    view, made = await asyncio.to_thread(make)
    try:
        assert view.status == "created"
        assert enabled(view) == {"start"}
        assert "pending" in view.counts.value and view.progress.value == 0
        assert view.grid.value.count("sub-job ") == 2
        await asyncio.to_thread(view.buttons["start"].click)
        assert "start: the batch is starting" in view.notice.value

        async def running() -> bool:
            return view.status == "running" and view.batch["concurrent_jobs"] == 2

        await eventually_async(running, timeout=60, message=lambda: f"running: {view.batch}")
        assert enabled(view) == {"start", "stop", "pause"}
        await asyncio.to_thread(view.buttons["stop"].click)

        async def stopped() -> bool:
            return view.status == "stopped"

        await eventually_async(stopped, timeout=60, message=lambda: f"stopped: {view.batch}")
        assert enabled(view) == {"start"}
        assert "stopped" in view.badge.value
        await asyncio.to_thread(view.delete_button.click)
        assert "deleted" in view.notice.value
        assert (await asyncio.to_thread(client.batches.list))["total"] == 0
    finally:
        await asyncio.to_thread(view.close)
    assert made["id"] == view.batch_id
