"""``JobsClient.apps`` against a live server: deploy, list, get, redeploy, stats, delete, and an
import error raised as ``BadRequest``."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import pytest

from jobext.client import BadRequest, JobsClient, NotFound

EXAMPLE = Path(__file__).parent.parent.parent / "notebooks" / "shop_app.py"

MODULE = """
import jobext


@jobext.job(schedule="0 6 * * *", retries=1)
def nightly():
    print("nightly")
"""


@pytest.fixture
def jobext_config() -> dict[str, Any]:
    return {"kernel_pool_size": 0}


@pytest.fixture
def client(
    jobext_app: Any, http_server: Any, jp_serverapp: Any, jp_http_port: int, jp_base_url: str
) -> JobsClient:
    url = f"http://127.0.0.1:{jp_http_port}{jp_base_url}"
    return JobsClient(url=url, token=jp_serverapp.identity_provider.token)


async def test_apps_through_the_client(client: JobsClient, jp_root_dir: Path) -> None:
    (jp_root_dir / "client_app.py").write_text(MODULE)
    apps = client.apps
    app = await asyncio.to_thread(apps.deploy, "nightly", "client_app")
    assert app["changes"]["added"] == ["nightly.nightly"]
    assert [j["schedule"]["cron"] for j in app["jobs"]] == ["0 6 * * *"]
    listed = await asyncio.to_thread(apps.list)
    assert [a["name"] for a in listed["items"]] == ["nightly"]
    assert (await asyncio.to_thread(apps.get, "nightly"))["module"] == "client_app"
    jobs = await asyncio.to_thread(client.jobs.list, app="nightly")
    assert [j["name"] for j in jobs["items"]] == ["nightly.nightly"]

    (jp_root_dir / "client_app.py").write_text(MODULE + "\nraise RuntimeError('no database')\n")
    with pytest.raises(BadRequest) as refused:
        await asyncio.to_thread(apps.redeploy, "nightly")
    assert refused.value.field == "module"
    assert "RuntimeError: no database" in refused.value.message
    assert (await asyncio.to_thread(apps.get, "nightly"))["error"] == refused.value.message

    (jp_root_dir / "client_app.py").write_text(MODULE.replace("retries=1", "retries=2"))
    again = await asyncio.to_thread(apps.redeploy, "nightly")
    assert again["changes"]["updated"] == ["nightly.nightly"] and again["error"] is None
    stats = await asyncio.to_thread(apps.stats, "nightly")
    assert stats["jobs"] == 1 and stats["schedules"] == 1 and stats["workers"] >= 1
    assert (await asyncio.to_thread(client.stats))["apps"] == 1

    await asyncio.to_thread(apps.delete, "nightly", delete_runs=True)
    with pytest.raises(NotFound):
        await asyncio.to_thread(apps.get, "nightly")


async def test_the_example_app_deploys(client: JobsClient, jp_root_dir: Path) -> None:
    """``notebooks/shop_app.py``, the README's example."""
    shutil.copy(EXAMPLE, jp_root_dir / "shop_app.py")
    app = await asyncio.to_thread(client.apps.deploy, "shop", "shop_app")
    jobs = {j["name"]: j for j in app["jobs"]}
    assert sorted(jobs) == ["shop-cleanup", "shop.daily_report", "shop.import_orders"]
    assert jobs["shop.daily_report"]["schedule"]["timezone"] == "Europe/Berlin"
    assert jobs["shop-cleanup"]["schedule"]["cron"] == "@weekly"
    run = await asyncio.to_thread(client.runs.enqueue, "shop.daily_report", {"format": "csv"})
    final = await asyncio.to_thread(client.runs.wait, run["id"], timeout=30)
    assert final["status"] == "succeeded" and final["records_written"] == 2
