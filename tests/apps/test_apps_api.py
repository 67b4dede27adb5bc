"""Apps through a real server (issue 10): deploying a module, redeploying it after the code
changed (one job changed, one removed, one added), import errors, duplicate names and bad
options changing nothing, a folder app with a notebook whose schedule declared in code fires,
the jobs and schedules an app owns refusing direct edits, and deleting an app."""

from __future__ import annotations

import itertools
import json
import os
import textwrap
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest
from conftest import Api
from waiting import eventually_async

SHOP_V1 = '''
"""The shop's jobs."""
import jobext


@jobext.job
def extract(rows: int = 1):
    """Read the orders."""
    print(f"extract {rows}")
    return rows


@jobext.job(retries=1, default_args={"n": 2})
def transform(n: int = 0):
    return n * 2


@jobext.job(name="shop-load", schedule="0 6 * * *", timezone="Europe/Berlin", args={"day": "x"})
def load(day: str = ""):
    return day


def helper():  # not a job
    return None
'''

SHOP_V2 = '''
"""The shop's jobs, version 2: transform changed, load removed, publish added."""
import jobext


@jobext.job
def extract(rows: int = 1):
    """Read the orders."""
    print(f"extract {rows}")
    return rows


@jobext.job(retries=3, default_args={"n": 2}, schedule="30 7 * * mon-fri")
def transform(n: int = 0):
    return n * 2


@jobext.job(description="Send the report", timeout_s=60)
def publish():
    print("published")
'''

TASKS = '''
import jobext


@jobext.job(schedule="* * * * * ?", max_concurrent=5)
def tick():
    """Fires every second."""
    print("tick ran", flush=True)
'''

_mtimes = itertools.count(int(time.time()) + 10)


def write(path: Path, text: str) -> None:
    """Write a module with a new modification time each time: a rewrite within the same second
    and of the same size would otherwise be imported from its stale bytecode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    stamp = next(_mtimes)
    os.utime(path, (stamp, stamp))


@pytest.fixture
def jobext_config() -> dict[str, Any]:
    return {"kernel_pool_size": 0}


async def deploy(api: Api, **body: Any) -> dict[str, Any]:
    reply = await api.post("apps", body)
    assert reply.code == 201, reply
    return reply.json()  # type: ignore[no-any-return]


async def redeploy(api: Api, name: str, body: Any = None, **params: Any) -> Any:
    return await api.call("PUT", f"apps/{name}", body or {}, params=params or None)


async def job_names(api: Api, app: str) -> list[str]:
    reply = await api.get("jobs", params={"app": app, "sort": "name"})
    return [j["name"] for j in reply.json()["items"]]


async def test_deploy_then_redeploy_a_changed_module(
    api: Api, jp_root_dir: Path, jobext_app: Any
) -> None:
    write(jp_root_dir / "shop_app.py", SHOP_V1)
    app = await deploy(api, name="shop", module="shop_app")
    # GET /events hears of the app, its jobs and its schedule.
    events = {(c.kind, json.loads(c.data).get("name")) for c in jobext_app.hub.feed.since(0)}
    assert {("app", "shop"), ("job", "shop.extract"), ("schedule", None)} <= events
    assert app["changes"] == {
        "added": ["shop-load", "shop.extract", "shop.transform"],
        "updated": [],
        "removed": [],
        "unchanged": [],
    }
    assert app["module"] == "shop_app" and app["path"] is None
    assert app["files"] == ["shop_app.py"] and len(app["digest"]) == 64
    assert app["error"] is None and app["deployed_at"]
    jobs = {j["name"]: j for j in app["jobs"]}
    assert jobs["shop.extract"]["target"] == "shop_app:extract"
    assert jobs["shop.extract"]["description"] == "Read the orders."
    assert jobs["shop.extract"]["schedule"] is None
    load_schedule = jobs["shop-load"]["schedule"]
    assert load_schedule["cron"] == "0 6 * * *" and load_schedule["timezone"] == "Europe/Berlin"
    assert load_schedule["args"] == {"day": "x"} and load_schedule["active"]

    transform_v1 = (await api.get("jobs/shop.transform")).json()
    assert transform_v1["app"] == "shop" and transform_v1["retries"] == 1
    assert transform_v1["default_args"] == {"n": 2}
    assert await job_names(api, "shop") == ["shop-load", "shop.extract", "shop.transform"]
    listed = (await api.get("apps")).json()
    assert [a["name"] for a in listed["items"]] == ["shop"] and listed["total"] == 1

    # The jobs run as any job does; a run of the job that goes is kept by default.
    load_run = await api.run("shop-load", {"day": "monday"})
    extract_run = await api.run("shop.extract", {"rows": 3})
    assert (await api.wait(load_run["id"]))["status"] == "succeeded"
    assert (await api.wait(extract_run["id"]))["status"] == "succeeded"
    await api.wait_log(extract_run["id"], "extract 3")

    write(jp_root_dir / "shop_app.py", SHOP_V2)
    reply = await redeploy(api, "shop")
    assert reply.code == 200, reply
    after = reply.json()
    assert after["changes"] == {
        "added": ["shop.publish"],
        "updated": ["shop.transform"],
        "removed": ["shop-load"],
        "unchanged": ["shop.extract"],
    }
    assert after["digest"] != app["digest"]
    assert await job_names(api, "shop") == ["shop.extract", "shop.publish", "shop.transform"]
    transform = (await api.get("jobs/shop.transform")).json()
    assert transform["retries"] == 3
    # Changed in place, not replaced.
    assert transform["created_at"] == transform_v1["created_at"]
    assert transform["updated_at"] > transform_v1["updated_at"]
    publish = (await api.get("jobs/shop.publish")).json()
    assert publish["description"] == "Send the report" and publish["timeout_s"] == 60
    assert (await api.get("jobs/shop-load")).code == 404
    assert (await api.get(f"schedules/{load_schedule['id']}")).code == 404
    assert (await api.get(f"runs/{load_run['id']}")).json()["job"] == "shop-load"
    schedules = (await api.get("schedules", params={"job": "shop.transform"})).json()["items"]
    assert [(s["cron"], s["timezone"], s["app"]) for s in schedules] == [
        ("30 7 * * mon-fri", "UTC", "shop")
    ]

    # Unchanged code: nothing changes.
    again = (await redeploy(api, "shop")).json()
    assert again["changes"]["unchanged"] == ["shop.extract", "shop.publish", "shop.transform"]
    assert again["digest"] == after["digest"]

    stats = (await api.get("apps/shop/stats")).json()
    assert stats["jobs"] == 3 and stats["schedules"] == 1 and stats["workers"] >= 1
    assert stats["runs"]["succeeded"] == 1  # extract's; load's run is no longer the app's
    assert (await api.get("stats")).json()["apps"] == 1


async def test_broken_code_and_bad_declarations_change_nothing(api: Api, jp_root_dir: Path) -> None:
    module = jp_root_dir / "shop_app.py"
    write(module, SHOP_V1)
    first = await deploy(api, name="shop", module="shop_app")

    async def refused(text: str, *expected: str, code: int = 400) -> dict[str, Any]:
        write(module, text)
        reply = await redeploy(api, "shop")
        assert reply.code == code, reply
        body = reply.json()
        for part in expected:
            assert part in body["message"], body
        app = (await api.get("apps/shop")).json()
        assert app["digest"] == first["digest"] and app["jobs"] == first["jobs"]
        assert app["error"] == body["message"] and app["error_at"]
        return body  # type: ignore[no-any-return]

    broken = await refused(
        SHOP_V1 + "\nrows = {}\nrows['missing']\n", "KeyError: 'missing'", "shop_app.py:"
    )
    assert broken["field"] == "module" and broken["reason"] == "import_error"
    await refused("def broken(:\n", "SyntaxError", "shop_app.py:1")
    twice = await refused(
        SHOP_V1 + "\n@jobext.job(name='shop.extract')\ndef other():\n    pass\n",
        "'shop.extract'",
        "used twice",
        "shop_app.py:6",
    )
    assert twice["reason"] == "duplicate_job"
    await refused(
        SHOP_V1.replace("retries=1", "retries=-1"),
        "job 'shop.transform' at shop_app.py:",
        "retries: Input should be greater than or equal to 0",
    )
    await refused(SHOP_V1.replace("retries=1", "retry=1"), "retry: is not a known field")
    await refused(SHOP_V1.replace('"0 6 * * *"', '"61 6 * * *"'), "job 'shop-load'", "cron")
    await refused(
        SHOP_V1.replace("@jobext.job\ndef extract", "@jobext.job(args={'a': 1})\ndef extract"),
        "args",
    )
    await refused("import sys\nsys.exit(3)\n", "SystemExit: 3")

    # A job name that a job outside the app holds already: 409, and nothing changed either.
    await api.job("shop.publish", "jobs_lib:hello")
    conflict = await refused(SHOP_V2, "'shop.publish'", "POST /jobs", code=409)
    assert conflict["reason"] == "name_taken"
    assert (await api.get("jobs/shop.publish")).json()["app"] is None

    # Fixed: the error goes.
    write(module, SHOP_V1)
    fixed = await redeploy(api, "shop")
    assert fixed.code == 200, fixed
    assert fixed.json()["error"] is None and fixed.json()["changes"]["unchanged"]

    # A new app whose code does not import is not created.
    write(jp_root_dir / "broken_app.py", "import not_a_module_anywhere\n")
    reply = await api.post("apps", {"name": "broken", "module": "broken_app"})
    assert (
        reply.code == 400 and "No module named 'not_a_module_anywhere'" in reply.json()["message"]
    )
    assert (await api.get("apps/broken")).code == 404
    assert (await api.get("apps")).json()["total"] == 1


async def test_apps_own_their_jobs_and_schedules(api: Api, jp_root_dir: Path) -> None:
    write(jp_root_dir / "shop_app.py", SHOP_V1)
    app = await deploy(api, name="shop", module="shop_app")
    schedule_id = {j["name"]: j for j in app["jobs"]}["shop-load"]["schedule"]["id"]

    for reply in (
        await api.patch("jobs/shop.extract", {"retries": 4}),
        await api.delete("jobs/shop.extract"),
        await api.patch(f"schedules/{schedule_id}", {"cron": "0 7 * * *"}),
        await api.delete(f"schedules/{schedule_id}"),
    ):
        assert reply.code == 409, reply
        assert (
            reply.json()["reason"] == "managed_by_app"
            and "PUT /apps/shop" in reply.json()["message"]
        )
    # Pausing is operations, not code: allowed, and a redeployment keeps it paused.
    paused = await api.post(f"schedules/{schedule_id}/pause")
    assert paused.code == 200 and paused.json()["active"] is False
    await redeploy(api, "shop")
    assert (await api.get(f"schedules/{schedule_id}")).json()["active"] is False
    # A schedule made through the API for an app's job is the user's own.
    own = await api.post("schedules", {"job": "shop.extract", "cron": "@daily"})
    assert own.code == 201 and own.json()["app"] is None
    assert (await api.patch(f"schedules/{own.json()['id']}", {"cron": "@hourly"})).code == 200

    # A job to remove that has a run in progress: 409, nothing changes.
    slow = "\n@jobext.job\ndef slow():\n    print('slow started', flush=True)\n    jobext.checkpoint()\n    import time\n    time.sleep(60)\n"
    write(jp_root_dir / "shop_app.py", SHOP_V1 + slow)
    assert (await redeploy(api, "shop")).code == 200
    run = await api.run("shop.slow")
    await api.wait_log(run["id"], "slow started")  # its module imported before it changes
    write(jp_root_dir / "shop_app.py", SHOP_V1)
    busy = await redeploy(api, "shop")
    assert busy.code == 409 and busy.json()["reason"] == "in_progress", busy
    assert "shop.slow" in await job_names(api, "shop")
    assert (await api.delete("apps/shop")).code == 409
    await api.post(f"runs/{run['id']}/stop", params={"force": "true"})
    await api.wait(run["id"], "stopped")

    # Bad requests name their field.
    for body, field in (
        ({"name": "x"}, "module"),
        ({"name": "x", "module": "a", "path": "b"}, "path"),
        ({"name": "x", "module": "not a module"}, "module"),
        ({"name": "x", "path": "../outside"}, "path"),
        ({"name": "x", "path": "missing_folder"}, "path"),
        ({"name": "x y", "module": "shop_app"}, "name"),
        ({"name": "x", "module": "shop_app", "extra": 1}, "extra"),
    ):
        reply = await api.post("apps", body)
        assert (reply.code, reply.json().get("field")) == (400, field), (body, reply)
    assert (await api.post("apps", {"name": "shop", "module": "shop_app"})).code == 409
    assert (await redeploy(api, "nope")).code == 404
    assert (await api.get("apps/nope/stats")).code == 404
    assert (await api.delete("apps/nope")).code == 404
    assert (await api.call("PUT", "apps/shop", params={"delete_runs": "maybe"})).code == 400

    # Deleting the app deletes its jobs and its schedules, and here its runs too.
    gone = await api.delete("apps/shop", params={"delete_runs": "true"})
    assert gone.code == 204, gone
    assert await job_names(api, "shop") == []
    assert (await api.get(f"runs/{run['id']}")).code == 404
    assert (await api.get(f"schedules/{schedule_id}")).code == 404
    assert (await api.get(f"schedules/{own.json()['id']}")).code == 404
    assert (await api.get("apps")).json()["total"] == 0


async def test_a_folder_app_with_a_notebook_and_a_schedule_that_fires(
    api: Api, jp_root_dir: Path
) -> None:
    folder = jp_root_dir / "pipelines"
    write(folder / "tasks.py", TASKS)
    write(folder / "helpers" / "__init__.py", "")
    write(
        folder / "helpers" / "more.py",
        "import jobext\n\n\n@jobext.job\ndef helper_job():\n    return 1\n",
    )
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("print('report')")]
    notebook.metadata["jobext"] = {"name": "nightly-report", "schedule": "@daily", "retries": 2}
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    (folder / "reports").mkdir()
    nbformat.write(notebook, folder / "reports" / "nightly.ipynb")
    nbformat.write(nbformat.v4.new_notebook(), folder / "reports" / "scratch.ipynb")

    app = await deploy(api, name="pipelines", path="pipelines/")
    assert app["path"] == "pipelines" and app["module"] is None
    assert app["files"] == [
        "pipelines/helpers/__init__.py",
        "pipelines/helpers/more.py",
        "pipelines/reports/nightly.ipynb",
        "pipelines/tasks.py",
    ]
    jobs = {j["name"]: j for j in app["jobs"]}
    assert sorted(jobs) == ["nightly-report", "pipelines.helper_job", "pipelines.tick"]
    assert jobs["nightly-report"]["kind"] == "notebook"
    assert jobs["nightly-report"]["target"] == "pipelines/reports/nightly.ipynb"
    assert jobs["nightly-report"]["schedule"]["cron"] == "@daily"
    assert (await api.get("jobs/nightly-report")).json()["retries"] == 2
    tick = (await api.get("jobs/pipelines.tick")).json()
    assert tick["target"] == "tasks:tick" and tick["options"] == {"import_path": "pipelines"}
    assert tick["description"] == "Fires every second."
    # import_path is an option of any python job, checked as a folder under the root dir.
    outside = {"name": "x", "kind": "python", "target": "tasks:tick"}
    for bad in ("../", "pipelines/tasks.py", "/tmp"):
        reply = await api.post("jobs", {**outside, "options": {"import_path": bad}})
        assert (reply.code, reply.json()["field"]) == (400, "options"), reply

    # The schedule declared in code fires, and its runs import the folder's module.
    schedule_id = jobs["pipelines.tick"]["schedule"]["id"]

    async def a_fired_run() -> dict[str, Any] | None:
        runs = (await api.get("runs", params={"schedule": schedule_id})).json()["items"]
        done = [r for r in runs if r["status"] in ("succeeded", "failed")]
        return done[0] if done else None

    fired = await eventually_async(a_fired_run, message="a run fired by the app's schedule")
    assert fired["trigger"] == "schedule" and fired["status"] == "succeeded", fired
    await api.wait_log(fired["id"], "tick ran")
    await api.post(f"schedules/{schedule_id}/pause")

    # The notebook's metadata changed: its job follows.
    notebook.metadata["jobext"] = {"name": "nightly-report", "schedule": "0 2 * * *"}
    nbformat.write(notebook, folder / "reports" / "nightly.ipynb")
    after = (await redeploy(api, "pipelines")).json()
    assert after["changes"]["updated"] == ["nightly-report"]
    assert (await api.get("jobs/nightly-report")).json()["retries"] == 0

    async def idle() -> bool:
        stats = (await api.get("apps/pipelines/stats")).json()
        return sum(stats["runs"][s] for s in ("queued", "running", "stopping")) == 0

    await eventually_async(idle, message="the app's runs to end")
    assert (await api.delete("apps/pipelines")).code == 204
    assert (await api.get("runs", params={"schedule": schedule_id})).json()["total"] >= 1
