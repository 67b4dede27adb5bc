"""Permissions: every jobext endpoint is guarded by jupyter_server's Authorizer (resource
``jobext``): reading needs ``read``; enqueue and restart need ``execute``; every other change
needs ``write``. A refused call answers 403 with a JSON message and changes nothing. The user who
causes a run is recorded on it.

All tests run one server with :class:`authorizers.SwitchableAuthorizer`; the data is set up with
everything allowed, then the allowed actions are switched on the class.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from typing import Any

import pytest
from authorizers import JOBEXT_RESOURCE, SwitchableAuthorizer
from conftest import Api, Reply, parse_sse

from jobext.http.routes import ROUTES

ALL_ACTIONS = {"read", "write", "execute"}
#: Fields of a run that no refused request may change (progress of a running run may move).
STABLE_RUN_FIELDS = (
    "id",
    "uuid",
    "job",
    "kind",
    "args",
    "status",
    "trigger",
    "user",
    "created_at",
    "started_at",
    "ended_at",
    "exit_code",
    "error",
    "attempt",
    "restarted_from",
    "restarted_as",
    "result",
)


@pytest.fixture
def jobext_config() -> dict[str, Any]:
    # Room for two live loop runs plus whatever the allowed calls enqueue.
    return {"max_workers": 4}


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    SwitchableAuthorizer.reset()
    config = copy.deepcopy(jp_server_config)
    config["ServerApp"]["authorizer_class"] = SwitchableAuthorizer
    # With this off, jupyter_server warns (JupyterServerAuthWarning, an error under pytest's
    # filterwarnings) about any extension handler method that is not @web.authenticated.
    config["ServerApp"]["allow_unauthenticated_access"] = False
    # jupyter_server_terminals has such a method (TermSocket.get): keep it out of these servers.
    config["ServerApp"]["terminals_enabled"] = False
    yield config
    SwitchableAuthorizer.reset()


# --------------------------------------------------------------------------- helpers


@dataclasses.dataclass
class Data:
    """What the fully allowed setup created."""

    done: dict[str, Any]  # a succeeded run of "report" with a result file
    failed: dict[str, Any]  # a failed run of "broken"
    running: dict[str, Any]  # a running run of "looper"
    paused: dict[str, Any]  # a paused run of "sleeper"
    worker: str  # the id of the server's worker


async def setup_data(api: Api) -> Data:
    SwitchableAuthorizer.allowed_actions = None
    await api.job("report", "jobs_lib:write_result", description="writes a CSV")
    await api.job("broken", "jobs_lib:fail")
    await api.job("looper", "jobs_lib:loop")
    await api.job("sleeper", "jobs_lib:loop")
    done = await api.run("report", {"rows": 2})
    failed = await api.run("broken")
    running = await api.run("looper", {"seconds": 60})
    paused = await api.run("sleeper", {"seconds": 60})
    done = await api.wait(done["id"], "succeeded")
    failed = await api.wait(failed["id"], "failed")
    await api.wait(running["id"], "running")
    await api.wait(paused["id"], "running")
    assert (await api.post(f"runs/{paused['id']}/pause")).code == 200
    paused = await api.wait(paused["id"], "paused")
    running = await api.wait(running["id"], "running")
    assert done["result"] is not None, done
    await api.wait_log(failed["id"], "about to fail")
    worker = (await api.get("workers")).json()["items"][0]["id"]
    return Data(done=done, failed=failed, running=running, paused=paused, worker=worker)


async def cleanup(api: Api, data: Data) -> None:
    SwitchableAuthorizer.allowed_actions = None
    for run in (data.running, data.paused):
        await api.post(f"runs/{run['id']}/stop", params={"force": "true"})


async def snapshot(api: Api) -> dict[str, Any]:
    """Jobs and runs as they are now (read with everything allowed, then switched back)."""
    saved = SwitchableAuthorizer.allowed_actions
    SwitchableAuthorizer.allowed_actions = None
    try:
        jobs = await api.get("jobs", params={"per_page": "1000"})
        runs = await api.get("runs", params={"per_page": "1000"})
    finally:
        SwitchableAuthorizer.allowed_actions = saved
    assert jobs.code == 200 and runs.code == 200, (jobs, runs)
    return {
        "jobs": jobs.json()["items"],
        "runs": [{k: r[k] for k in STABLE_RUN_FIELDS} for r in runs.json()["items"]],
    }


@dataclasses.dataclass
class Call:
    method: str
    path: str
    action: str  # the action jobext must ask the authorizer for
    body: Any = None
    params: dict[str, str] | None = None
    headers: dict[str, str] | None = None

    def __str__(self) -> str:
        query = f"?{self.params}" if self.params else ""
        return f"{self.method} {self.path}{query}"

    async def send(self, api: Api) -> Reply:
        kwargs: dict[str, Any] = {"params": self.params, "headers": dict(self.headers or {})}
        if self.method in ("POST", "PATCH"):
            return await api.call(self.method, self.path, self.body, **kwargs)
        return await api.call(self.method, self.path, **kwargs)


def read_calls(d: Data) -> list[Call]:
    done = d.done["id"]
    return [
        Call("GET", "jobs", "read"),
        Call("GET", "jobs", "read", params={"search": "report"}),
        Call("GET", "jobs/report", "read"),
        Call("GET", "jobs/report/stats", "read"),
        Call("GET", "jobs/report/runs", "read"),
        Call("GET", "runs", "read"),
        Call("GET", "runs", "read", params={"status": "IN_PROGRESS"}),
        Call("GET", f"runs/{done}", "read"),
        Call("GET", f"runs/{d.running['id']}", "read"),
        Call("GET", f"runs/{d.failed['id']}/logs", "read"),
        Call("GET", f"runs/{d.failed['id']}/logs", "read", params={"follow": "true"}),
        Call("GET", f"runs/{done}/events", "read"),
        Call("GET", f"runs/{done}/result", "read"),
        Call("HEAD", f"runs/{done}/result", "read"),
        Call("GET", "workers", "read"),
        Call("GET", f"workers/{d.worker}", "read"),
        Call("GET", "stats", "read"),
        Call("GET", "openapi.json", "read"),
    ]


def execute_calls(d: Data) -> list[Call]:
    """Enqueue and restart: each would succeed if it were allowed."""
    return [
        Call("POST", "jobs/report/runs", "execute", body={"args": {"rows": 1}}),
        Call("POST", "jobs/report/runs", "execute", body={"follow": True}),
        Call(
            "POST",
            "jobs/report/runs",
            "execute",
            body={},
            headers={"Accept": "text/event-stream"},
        ),
        Call("POST", f"runs/{d.failed['id']}/restart", "execute"),
    ]


def write_calls(d: Data) -> list[Call]:
    """Every other change: each would succeed if it were allowed."""
    return [
        Call(
            "POST",
            "jobs",
            "write",
            body={"name": "intruder", "kind": "python", "target": "jobs_lib:noop"},
        ),
        Call("PATCH", "jobs/report", "write", body={"description": "defaced"}),
        Call("DELETE", "jobs/broken", "write"),
        Call("POST", f"runs/{d.running['id']}/stop", "write"),
        Call("POST", f"runs/{d.running['id']}/stop", "write", params={"force": "true"}),
        Call("POST", f"runs/{d.running['id']}/pause", "write"),
        Call("POST", f"runs/{d.paused['id']}/resume", "write"),
        Call("DELETE", f"runs/{d.done['id']}", "write"),
        Call("DELETE", f"runs/{d.failed['id']}", "write"),
        Call("POST", f"workers/{d.worker}/drain", "write"),
        Call("POST", f"workers/{d.worker}/resume", "write"),
    ]


def assert_forbidden(reply: Reply, call: Call) -> None:
    assert reply.code == 403, f"{call}: {reply}"
    if call.method == "HEAD":
        return  # a HEAD reply has no body
    body = reply.json()
    assert isinstance(body, dict), f"{call}: {reply}"
    assert isinstance(body.get("message"), str) and body["message"], f"{call}: {reply}"
    assert "text/event-stream" not in reply.headers.get("Content-Type", ""), f"{call}: {reply}"


async def send_checked(api: Api, call: Call) -> Reply:
    """Send ``call`` and check the authorizer was asked exactly once, for the right action."""
    before = len(SwitchableAuthorizer.calls)
    reply = await call.send(api)
    asked = SwitchableAuthorizer.calls[before:]
    assert [(a, r) for _, _, a, r in asked] == [(call.action, JOBEXT_RESOURCE)], (
        f"{call}: the authorizer was asked {asked}"
    )
    assert asked[0][0] == call.method, asked
    return reply


def assert_read_ok(reply: Reply, call: Call, d: Data) -> None:
    assert reply.code == 200, f"{call}: {reply}"
    content_type = reply.headers.get("Content-Type", "")
    if call.path.endswith("/result"):
        assert reply.headers["Content-Length"] == str(d.done["result"]["size"])
        if call.method == "GET":
            assert reply.body.startswith(b"id,name\n"), reply
        return
    if call.path.endswith("/events") or (call.params or {}).get("follow"):
        assert content_type.startswith("text/event-stream"), f"{call}: {content_type}"
        events = parse_sse(reply.body)
        assert events[-1]["event"] == "close", events[-3:]
        assert events[-1]["data"]["status"] in ("succeeded", "failed")
        if call.path.endswith("/logs"):
            assert any("about to fail" in e["data"]["text"] for e in events[:-1]), events
        return
    if call.path.endswith("/logs"):
        assert any("about to fail" in item["text"] for item in reply.json()["items"])
        return
    assert content_type.startswith("application/json"), f"{call}: {content_type}"
    body = reply.json()
    if call.path in ("jobs", "runs", "jobs/report/runs"):
        assert body["total"] >= 1 and body["items"], f"{call}: {body}"


# --------------------------------------------------------------------------- tests


async def test_handlers_are_authenticated_and_server_starts(jp_serverapp: Any, api: Api) -> None:
    """No jobext verb method lacks @web.authenticated: the server started with
    ``allow_unauthenticated_access = False`` (which makes jupyter_server warn about such methods,
    an error here) and jupyter_server's own check finds nothing to complain about."""
    web_app = jp_serverapp.web_app
    assert web_app.settings["allow_unauthenticated_access"] is False
    missing = []
    for pattern, handler in ROUTES:
        missing.extend(web_app._check_handler_auth(pattern, handler))
    assert missing == []
    # And the authenticated server really answers jobext calls.
    reply = await api.get("stats")
    assert reply.code == 200, reply


async def test_unauthenticated_request_is_refused(api: Api) -> None:
    for call in (
        Call("GET", "jobs", "read"),
        Call("POST", "jobs", "write", body={"name": "x", "kind": "python", "target": "a.b"}),
    ):
        reply = await api.call(call.method, call.path, call.body, headers={"Authorization": ""})
        assert reply.code in (401, 403), f"{call}: {reply}"
    assert (await api.get("jobs")).json()["total"] == 0


async def test_each_endpoint_asks_for_its_action(api: Api) -> None:
    """With nothing allowed, every endpoint answers 403 with a JSON message after asking the
    authorizer exactly once, on resource ``jobext``, for the action the contract names."""
    d = await setup_data(api)
    before = await snapshot(api)
    SwitchableAuthorizer.allowed_actions = set()
    try:
        for call in read_calls(d) + execute_calls(d) + write_calls(d):
            reply = await send_checked(api, call)
            assert_forbidden(reply, call)
        after = await snapshot(api)
        assert after == before
    finally:
        await cleanup(api, d)


async def test_read_only_reads_everything_and_changes_nothing(api: Api) -> None:
    d = await setup_data(api)
    before = await snapshot(api)
    SwitchableAuthorizer.allowed_actions = {"read"}
    try:
        for call in read_calls(d):
            reply = await send_checked(api, call)
            assert_read_ok(reply, call, d)
        for call in execute_calls(d) + write_calls(d):
            reply = await send_checked(api, call)
            assert_forbidden(reply, call)
        # Nothing changed: every job and run is still there, as it was; no run was created.
        after = await snapshot(api)
        assert after == before
        names = {j["name"] for j in after["jobs"]}
        assert names == {"report", "broken", "looper", "sleeper"}
        assert (await api.get(f"runs/{d.running['id']}")).json()["status"] == "running"
        assert (await api.get(f"runs/{d.paused['id']}")).json()["status"] == "paused"
        failed = (await api.get(f"runs/{d.failed['id']}")).json()
        assert failed["restarted_as"] is None
        job = (await api.get("jobs/report")).json()
        assert job["description"] == "writes a CSV"
        assert job["stats"]["total"] == 1
    finally:
        await cleanup(api, d)


async def test_read_execute_can_enqueue_and_restart_only(api: Api) -> None:
    d = await setup_data(api)
    SwitchableAuthorizer.allowed_actions = {"read", "execute"}
    try:
        before = await snapshot(api)
        for call in write_calls(d):
            reply = await send_checked(api, call)
            assert_forbidden(reply, call)
        assert await snapshot(api) == before

        enqueue = Call("POST", "jobs/report/runs", "execute", body={"args": {"rows": 1}})
        reply = await send_checked(api, enqueue)
        assert reply.code == 201, reply
        new_run = reply.json()
        assert new_run["job"] == "report" and new_run["args"] == {"rows": 1}
        assert (await api.wait(new_run["id"], "succeeded"))["records_written"] == 1

        follow = Call("POST", "jobs/report/runs", "execute", body={"follow": True})
        reply = await send_checked(api, follow)
        assert reply.code == 201, reply
        assert parse_sse(reply.body)[-1]["data"]["status"] == "succeeded"

        restart = Call("POST", f"runs/{d.failed['id']}/restart", "execute")
        reply = await send_checked(api, restart)
        assert reply.code == 201, reply
        restarted = reply.json()
        assert restarted["restarted_from"] == d.failed["id"]
        assert restarted["trigger"] == "restart"
        assert (await api.get(f"runs/{d.failed['id']}")).json()["restarted_as"] == restarted["id"]
        await api.wait(restarted["id"])

        # The earlier refusals still hold after the allowed calls.
        for call in write_calls(d):
            assert_forbidden(await send_checked(api, call), call)
        jobs = {j["name"]: j for j in (await snapshot(api))["jobs"]}
        assert set(jobs) == {"report", "broken", "looper", "sleeper"}
        assert jobs["report"]["description"] == "writes a CSV"
        assert (await api.get(f"runs/{d.running['id']}")).json()["status"] == "running"
        assert (await api.get(f"runs/{d.paused['id']}")).json()["status"] == "paused"
        assert (await api.get(f"runs/{d.done['id']}")).code == 200
    finally:
        await cleanup(api, d)


async def test_read_write_cannot_enqueue_or_restart(api: Api) -> None:
    d = await setup_data(api)
    SwitchableAuthorizer.allowed_actions = {"read", "write"}
    try:
        before = await snapshot(api)
        for call in execute_calls(d):
            reply = await send_checked(api, call)
            assert_forbidden(reply, call)
        assert await snapshot(api) == before
        assert (await api.get(f"runs/{d.failed['id']}")).json()["restarted_as"] is None

        # ... while "write" itself is granted: changes go through.
        patch = Call("PATCH", "jobs/report", "write", body={"description": "changed"})
        reply = await send_checked(api, patch)
        assert reply.code == 200, reply
        assert reply.json()["description"] == "changed"
        stop = Call("POST", f"runs/{d.running['id']}/stop", "write", params={"force": "true"})
        reply = await send_checked(api, stop)
        assert reply.code == 200, reply
        assert reply.json()["status"] == "stopped"
        register = Call(
            "POST",
            "jobs",
            "write",
            body={"name": "new", "kind": "python", "target": "jobs_lib:noop"},
        )
        assert (await send_checked(api, register)).code == 201
        # A stopped run may be restarted, but not without "execute".
        restart = Call("POST", f"runs/{d.running['id']}/restart", "execute")
        assert_forbidden(await send_checked(api, restart), restart)
        runs = (await api.get("runs", params={"per_page": "1000"})).json()
        assert runs["total"] == 4
    finally:
        await cleanup(api, d)


async def test_run_records_the_user_who_caused_it(api: Api, jp_fetch: Any) -> None:
    """The run's ``user`` is the name of whoever enqueued (or restarted) it.

    pytest-jupyter authenticates with a shared token, so jupyter_server's IdentityProvider makes
    up an anonymous user for each request and remembers it in the login cookie it sets: sending
    that cookie back keeps one identity across requests, the one ``GET /api/me`` reports.
    """
    me = await jp_fetch("api", "me")
    username = json.loads(me.body)["identity"]["username"]
    assert username
    cookie = "; ".join(c.split(";", 1)[0] for c in me.headers.get_list("Set-Cookie"))
    assert cookie, "the identity provider set no login cookie"
    as_me = {"Cookie": cookie}
    again = await jp_fetch("api", "me", headers=dict(as_me))
    assert json.loads(again.body)["identity"]["username"] == username

    SwitchableAuthorizer.allowed_actions = None
    reply = await api.post(
        "jobs", {"name": "broken", "kind": "python", "target": "jobs_lib:fail"}, headers=as_me
    )
    assert reply.code == 201, reply
    assert reply.json()["created_by"] == username
    reply = await api.post("jobs/broken/runs", {}, headers=as_me)
    assert reply.code == 201, reply
    run = reply.json()
    assert run["user"] == username
    assert run["trigger"] == "manual"
    failed = await api.wait(run["id"], "failed")
    assert failed["user"] == username

    # A restart by a user allowed only read+execute is recorded as theirs as well.
    SwitchableAuthorizer.allowed_actions = {"read", "execute"}
    reply = await api.post(f"runs/{run['id']}/restart", headers=as_me)
    assert reply.code == 201, reply
    restarted = reply.json()
    assert restarted["user"] == username
    await api.wait(restarted["id"])

    # Somebody else (a request without the cookie: another anonymous user) is told apart.
    reply = await api.post("jobs/broken/runs", {})
    assert reply.code == 201, reply
    other = reply.json()
    assert other["user"] and other["user"] != username
    await api.wait(other["id"])

    # And the history can be filtered by user.
    mine = (await api.get("runs", params={"user": username})).json()
    assert {r["id"] for r in mine["items"]} == {run["id"], restarted["id"]}
    theirs = (await api.get("runs", params={"user": other["user"]})).json()
    assert [r["id"] for r in theirs["items"]] == [other["id"]]
