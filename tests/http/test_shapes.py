"""The response models (issue 8) against what a real server answers: every kind of object the API
returns has exactly the keys of its model and validates against it, strictly, so the serializers
(``run_json`` & co., plain dicts for speed) and the models that the OpenAPI document is generated
from cannot drift apart; and every ``$ref`` of the document names a schema it holds."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from conftest import Api
from pydantic import BaseModel
from waiting import eventually_async

from jobext.apps.shapes import App, AppDeleted, AppDeployment, AppStats
from jobext.batches.shapes import (
    Batch,
    BatchDeleted,
    BatchDetail,
    BatchesDeleted,
    BatchListItem,
)
from jobext.http.openapi import openapi_document
from jobext.http.shapes import Connections, Error, Stats
from jobext.jobs.shapes import Job, JobDeleted, JobDetail, JobStats
from jobext.runs.shapes import (
    EnqueueRequest,
    LogPage,
    Progress,
    Run,
    RunDeleted,
    RunProgress,
    RunsDeleted,
    Truncated,
)
from jobext.schedules.shapes import Fire, Preview, Schedule, ScheduleDeleted
from jobext.shapes import Page
from jobext.states import BatchStatus, RunStatus
from jobext.workers.shapes import Worker, WorkerDeleted

APP = '''
import jobext


@jobext.job(schedule="0 6 * * *", timezone="Europe/Berlin", args={"day": "x"})
def load(day: str = ""):
    """Load a day."""
    return day


@jobext.job
def extract():
    return 1
'''


def conforms(model: type[BaseModel], obj: Any, *, absent: tuple[str, ...] = ()) -> None:
    """``obj`` (a reply's JSON) has exactly the keys of ``model`` (but ``absent``) and validates
    against it strictly: no key it does not declare, no string where a number belongs."""
    assert isinstance(obj, dict), obj
    assert set(obj) == set(model.model_fields) - set(absent), (model.__name__, obj)
    model.model_validate_json(json.dumps(obj), strict=True)


def conforms_page(model: type[BaseModel], page: Any, count: int | None = None) -> None:
    """A page of ``model`` items, each with exactly the model's keys."""
    conforms(Page[model], page)  # type: ignore[valid-type]
    assert len(page["items"]) == count if count is not None else page["items"], page
    for item in page["items"]:
        conforms(model, item, absent=tuple((set(model.model_fields) - set(item)) & OPTIONAL))


#: Keys a reply leaves out in some cases (a batch without iterations has no percent_complete).
OPTIONAL = {"percent_complete"}


def sse(body: bytes) -> list[tuple[str, Any]]:
    """The ``(event, data)`` pairs of an event stream."""
    out = []
    for block in body.decode().split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in block.split("\n") if line and not line.startswith(":")
        )
        if "data" in fields:
            out.append((fields["event"], json.loads(fields["data"])))
    return out


async def _has_items(api: Api, path: str) -> bool:
    return bool((await api.get(path)).json()["items"])


def refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(refs(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(refs(v) for v in node))
    return set()


def test_every_ref_of_the_document_resolves() -> None:
    document = openapi_document("/jobext/api/v1")
    schemas = document["components"]["schemas"]
    prefix = "#/components/schemas/"
    assert all(r.startswith(prefix) for r in refs(document))
    assert {r[len(prefix) :] for r in refs(document)} <= set(schemas)


def test_every_json_request_body_refers_to_its_input_model() -> None:
    """A body is described once, in ``components.schemas`` from its input model, and referred
    to (an inline copy drifts from the model that parses it)."""
    document = openapi_document("/jobext/api/v1")
    bodies = {
        f"{method.upper()} {route}": operation["requestBody"]["content"]["application/json"]
        for route, item in document["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "requestBody" in operation
    }
    assert all(set(body["schema"]) == {"$ref"} for body in bodies.values()), bodies
    enqueue = bodies["POST /jobs/{name}/runs"]["schema"]["$ref"]
    assert enqueue == "#/components/schemas/EnqueueRequest"
    schema = document["components"]["schemas"]["EnqueueRequest"]
    assert set(schema["properties"]) == set(EnqueueRequest.model_fields)
    assert schema["additionalProperties"] is False


@pytest.fixture
def jobext_config() -> dict[str, Any]:
    return {
        "kernel_pool_size": 0,
        "connections": {"warehouse": "postgresql+psycopg://reader:s3cret@db.example:5433/wh"},
    }


async def test_every_reply_has_exactly_the_keys_of_its_model(
    api: Api, jobext_app: Any, jp_root_dir: Path
) -> None:
    # Jobs, and runs with and without a result, followed as an event stream.
    job = await api.job("shaped", "jobs_lib:hello", description="shapes", default_args={"n": 2})
    conforms(Job, job)
    conforms(Job, (await api.patch("jobs/shaped", {"retries": 1})).json())
    await api.job("results", "jobs_lib:write_result")
    followed = await api.post("jobs/shaped/runs", {"follow": True})
    assert followed.code == 201, followed
    events = sse(followed.body)
    kinds = {kind for kind, _ in events}
    assert {"state", "progress", "log", "close"} <= kinds, kinds
    for kind, data in events:
        model = {"state": Run, "close": Run, "progress": Progress, "truncated": Truncated}.get(kind)
        if model is Progress:
            Progress.model_validate_json(json.dumps(data), strict=True)
        elif model is not None:
            conforms(model, data)
    run = events[-1][1]
    assert run["status"] == "succeeded" and run["result"] is None
    with_result = await api.wait((await api.run("results"))["id"])
    assert with_result["status"] == "succeeded" and with_result["result"], with_result
    conforms(Run, with_result)
    conforms(Run, (await api.get(f"runs/{run['id']}")).json())
    conforms_page(Run, (await api.get("runs")).json(), 2)
    conforms_page(Run, (await api.get("jobs/shaped/runs")).json(), 1)
    conforms(LogPage, (await api.get(f"runs/{run['id']}/logs")).json())
    conforms(LogPage, (await api.get(f"runs/{run['id']}/logs", params={"tail": 1})).json())
    detail = (await api.get("jobs/shaped")).json()
    conforms(JobDetail, detail)
    assert detail["latest_run"] is not None
    conforms(JobStats, (await api.get("jobs/shaped/stats")).json())
    conforms_page(Job, (await api.get("jobs")).json(), 2)

    # Schedules and their log: one that fires every second until it fired once.
    made = await api.post("schedules", {"job": "shaped", "cron": "* * * * * ?"})
    assert made.code == 201, made
    schedule = made.json()
    conforms(Schedule, schedule)
    conforms_page(Schedule, (await api.get("schedules")).json(), 1)
    fires_path = f"schedules/{schedule['id']}/fires"
    await eventually_async(
        lambda: _has_items(api, fires_path), timeout=30, message="the schedule to fire"
    )
    paused = (await api.post(f"schedules/{schedule['id']}/pause")).json()
    conforms(Schedule, paused)
    assert paused["next_fire_times"] == []
    fires = (await api.get(fires_path)).json()
    conforms_page(Fire, fires)
    for fire in fires["items"]:
        if fire["run_id"] is not None:
            await api.wait(fire["run_id"])
    preview = await api.post("schedules/preview", {"cron": "30 2 * * *", "count": 2})
    conforms(Preview, preview.json())

    # Batches: with iterations (percent_complete) and without (no percent_complete).
    made = await api.post("jobs/results/batches", {"concurrent": 2, "start": False})
    assert made.code == 201, made
    conforms(BatchDetail, made.json())
    endless = await api.post(
        "jobs/results/batches", {"concurrent": 1, "iterations": None, "start": False}
    )
    conforms(BatchDetail, endless.json(), absent=("percent_complete",))
    conforms(BatchDetail, (await api.get(f"batches/{made.json()['id']}")).json())
    conforms_page(BatchListItem, (await api.get("batches")).json(), 2)
    conforms_page(BatchListItem, (await api.get("jobs/results/batches")).json(), 2)

    # Workers: this server's local executor, once it heartbeated with its host's stats.
    workers = (await api.get("workers")).json()
    conforms_page(Worker, workers, 1)
    worker_id = workers["items"][0]["id"]
    conforms(Worker, (await api.get(f"workers/{worker_id}")).json())
    conforms(Worker, (await api.post(f"workers/{worker_id}/drain")).json())
    conforms(Worker, (await api.post(f"workers/{worker_id}/resume")).json())

    # Apps.
    (jp_root_dir / "shaped_app.py").write_text(textwrap.dedent(APP))
    deployed = await api.post("apps", {"name": "shaped-app", "module": "shaped_app"})
    assert deployed.code == 201, deployed
    conforms(AppDeployment, deployed.json())
    conforms(App, (await api.get("apps/shaped-app")).json())
    conforms_page(App, (await api.get("apps")).json(), 1)
    app_stats = (await api.get("apps/shaped-app/stats")).json()
    conforms(AppStats, app_stats)
    assert set(app_stats["runs"]) == {s.value for s in RunStatus}
    redeployed = await api.call("PUT", "apps/shaped-app", {})
    assert redeployed.code == 200, redeployed
    conforms(AppDeployment, redeployed.json())

    # Server-wide.
    stats = (await api.get("stats")).json()
    conforms(Stats, stats)
    assert set(stats["runs"]) == {s.value for s in RunStatus}
    assert set(stats["batches"]) == {s.value for s in BatchStatus}
    connections = (await api.get("connections")).json()
    conforms(Connections, connections)
    assert len(connections["items"]) == 1
    bad = await api.post("jobs", {"name": "x", "kind": "python", "target": "m:f", "retries": -1})
    assert bad.code == 400
    conforms(Error, bad.json())
    assert bad.json()["field"] == "retries"
    missing = await api.get("runs/999999")
    assert missing.code == 404
    conforms(Error, missing.json(), absent=("field",))

    # Deletes.
    deleted = await api.delete("runs", params={"job": "shaped"})
    conforms(RunsDeleted, deleted.json())
    conforms(BatchesDeleted, (await api.delete("jobs/results/batches")).json())
    assert (await api.delete("apps/shaped-app")).code == 204
    assert (await api.delete(f"schedules/{schedule['id']}")).code == 204
    assert (await api.delete("jobs/shaped")).code == 204

    # Every event of the server-wide feed so far, by kind.
    feed: dict[str, tuple[type[BaseModel], ...]] = {
        "run": (Run, RunDeleted),
        "progress": (RunProgress,),
        "job": (Job, JobDeleted),
        "batch": (Batch, BatchDeleted),
        "worker": (Worker, WorkerDeleted),
        "schedule": (Schedule, ScheduleDeleted),
        "app": (App, AppDeleted),
    }
    seen: set[tuple[str, str]] = set()
    for change in jobext_app.hub.feed.since(0):
        data = json.loads(change.data)
        whole, *gone = feed[change.kind]
        deleted = data.get("deleted") is True
        if change.kind == "progress":
            # Its keys are those the job reported, all but ``id`` optional.
            assert "id" in data
            RunProgress.model_validate_json(change.data, strict=True)
        elif deleted:
            conforms(gone[0], data)
        else:
            conforms(whole, data, absent=tuple((set(whole.model_fields) - set(data)) & OPTIONAL))
        seen.add((change.kind, "deleted" if deleted else "whole"))
    assert {
        ("run", "whole"),
        ("run", "deleted"),
        ("progress", "whole"),
        ("job", "whole"),
        ("job", "deleted"),
        ("batch", "whole"),
        ("batch", "deleted"),
        ("worker", "whole"),
        ("schedule", "whole"),
        ("schedule", "deleted"),
        ("app", "whole"),
        ("app", "deleted"),
    } <= seen, seen
