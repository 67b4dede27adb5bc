"""Job definitions through the REST API: register, list, search, sort, change, delete, stats."""

from __future__ import annotations

import pytest


async def test_register_and_get(api):
    job = await api.job("hello", "jobs_lib:hello", description="says hello", default_args={"n": 1})
    assert job["kind"] == "python"
    assert job["max_concurrent"] == 1
    assert job["restartable"] is True
    assert job["created_at"].endswith("Z")
    detail = (await api.get("jobs/hello")).json()
    assert detail["description"] == "says hello"
    assert detail["stats"]["total"] == 0
    assert detail["latest_run"] is None
    assert detail["next_run_at"] is None


async def test_location_header(api):
    reply = await api.post("jobs", {"name": "loc", "kind": "python", "target": "jobs_lib:noop"})
    assert reply.code == 201
    assert reply.headers["Location"].endswith("/jobext/api/v1/jobs/loc")


async def test_list_paginates_searches_and_sorts(api):
    for i in range(7):
        await api.job(f"job-{i}", "jobs_lib:noop", description="special" if i % 3 == 0 else "")
    page = (await api.get("jobs", params={"per_page": "3", "page": "1"})).json()
    assert page["total"] == 7
    assert [j["name"] for j in page["items"]] == ["job-3", "job-4", "job-5"]
    found = (await api.get("jobs", params={"search": "special"})).json()
    assert sorted(j["name"] for j in found["items"]) == ["job-0", "job-3", "job-6"]
    by_target = (await api.get("jobs", params={"search": "jobs_lib:noop"})).json()
    assert by_target["total"] == 7
    desc = (await api.get("jobs", params={"sort": "-name", "per_page": "2"})).json()
    assert [j["name"] for j in desc["items"]] == ["job-6", "job-5"]


async def test_search_treats_wildcards_literally(api):
    await api.job("a_b", "jobs_lib:noop")
    await api.job("axb", "jobs_lib:noop")
    found = (await api.get("jobs", params={"search": "a_b"})).json()
    assert [j["name"] for j in found["items"]] == ["a_b"]


async def test_patch_changes_fields(api):
    await api.job("p", "jobs_lib:noop")
    reply = await api.patch("jobs/p", {"description": "new", "max_concurrent": 3, "timeout_s": 5})
    assert reply.code == 200, reply
    job = reply.json()
    assert (job["description"], job["max_concurrent"], job["timeout_s"]) == ("new", 3, 5.0)
    assert job["updated_at"] >= job["created_at"]
    bad = await api.patch("jobs/p", {"target": "not a target"})
    assert bad.code == 400 and bad.json()["field"] == "target"
    assert (await api.get("jobs/p")).json()["target"] == "jobs_lib:noop"


async def test_delete_job_removes_its_runs(api, jobext_app):
    await api.job("d", "jobs_lib:write_result")
    run = await api.run("d")
    await api.wait(run["id"], "succeeded")
    result_dir = jobext_app.runs.results_dir / run["uuid"]
    assert result_dir.is_dir()
    assert (await api.delete("jobs/d")).code == 204
    assert (await api.get("jobs/d")).code == 404
    assert (await api.get(f"runs/{run['id']}")).code == 404
    assert not result_dir.exists()


async def test_delete_job_with_run_in_progress_is_refused(api):
    await api.job("busy", "jobs_lib:loop")
    run = await api.run("busy", {"seconds": 30})
    await api.wait(run["id"], "running")
    reply = await api.delete("jobs/busy")
    assert reply.code == 409
    assert "in progress" in reply.json()["message"]
    await api.post(f"runs/{run['id']}/stop", params={"force": "true"})


async def test_stats(api):
    await api.job("s", "jobs_lib:fail", max_concurrent=5)
    await api.job("ok", "jobs_lib:noop", max_concurrent=5)
    for _ in range(2):
        await api.wait((await api.run("s"))["id"])
    ok = await api.run("ok")
    await api.wait(ok["id"])
    stats = (await api.get("jobs/s/stats")).json()
    assert (stats["total"], stats["failed"], stats["succeeded"]) == (2, 2, 0)
    assert stats["latest_run"]["status"] == "failed"
    ok_stats = (await api.get("jobs/ok/stats")).json()
    assert ok_stats["average_duration_s"] is not None and ok_stats["average_duration_s"] >= 0
    overall = (await api.get("stats")).json()
    assert overall["jobs"] == 2
    assert overall["runs"]["failed"] == 2 and overall["runs"]["succeeded"] == 1
    assert overall["workers"] == 1


async def test_shell_jobs_can_be_disabled(api, jobext_app):
    jobext_app.jobs.allowed_kinds = frozenset({"python"})
    reply = await api.post("jobs", {"name": "sh", "kind": "shell", "target": "echo hi"})
    assert reply.code == 403
    assert reply.json()["field"] == "kind"


async def test_openapi_lists_every_route(api):
    doc = (await api.get("openapi.json")).json()
    assert doc["openapi"].startswith("3.")
    for path in (
        "/jobs",
        "/jobs/{name}",
        "/jobs/{name}/runs",
        "/runs/{run_id}/events",
        "/runs/{run_id}/result",
        "/runs/{run_id}/restart",
        "/stats",
    ):
        assert path in doc["paths"], path
    assert doc["servers"][0]["url"].endswith("/jobext/api/v1")


async def test_openapi_describes_every_route(api):
    import re

    from jobext.http.routes import API, ROUTES

    doc = (await api.get("openapi.json")).json()
    described = {re.sub(r"\{[^}]+\}", "{}", path) for path in doc["paths"]}
    for pattern, _ in ROUTES:
        path = pattern.removeprefix(f"/{API}").replace("([^/]+)", "{}")
        choices = re.search(r"\(([a-z|]+)\)", path)
        paths = (
            [path.replace(choices.group(0), c) for c in choices.group(1).split("|")]
            if choices
            else [path]
        )
        for one in paths:
            assert one in described, one


@pytest.mark.parametrize(
    "jobext_config",
    [
        {
            "connections": {
                "warehouse": "postgresql+psycopg://reader:s3cret@db.example:5433/wh",
                "local": "sqlite:////tmp/x.db",
            }
        }
    ],
)
async def test_connections_never_show_a_password(api, jobext_config):
    reply = await api.get("connections")
    assert reply.code == 200
    assert b"s3cret" not in reply.body and b"reader" not in reply.body
    items = {c["name"]: c for c in reply.json()["items"]}
    assert items["warehouse"] == {
        "name": "warehouse",
        "dialect": "postgresql",
        "driver": "psycopg",
        "host": "db.example",
        "port": 5433,
        "database": "wh",
    }
    assert items["local"]["dialect"] == "sqlite"


async def test_kinds_without_options_refuse_them(api):
    reply = await api.post(
        "jobs", {"name": "p", "kind": "python", "target": "jobs_lib:noop", "options": {"x": 1}}
    )
    assert reply.code == 400 and reply.json()["field"] == "options"
