"""Fixtures: a real Jupyter server with jobext on a SQLite file of its own, and helpers to call it.

Each test gets a fresh server, database, results dir and root dir (holding ``jobs_lib.py``).
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from loopwatch import LoopWatch
from tornado.httpclient import HTTPClientError, HTTPResponse
from waiting import eventually_async

pytest_plugins = ("pytest_jupyter.jupyter_server",)

HERE = Path(__file__).parent
# The repository root, for ``bench.server``: the one launcher of real server subprocesses, shared
# by the tests and the benchmarks.
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))
API = "jobext/api/v1"


@pytest.fixture
def jobext_config() -> dict[str, Any]:
    """Overrides of ``c.JobExtApp``; a test may change it before the server starts."""
    return {}


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'jobext.db'}"


@pytest.fixture
def jp_server_config(tmp_path: Path, db_url: str, jobext_config: dict[str, Any]) -> dict[str, Any]:
    config = {
        "db_url": db_url,
        "results_dir": str(tmp_path / "results"),
        "max_workers": 2,
        "stop_grace_s": 3.0,
        "heartbeat_s": 0.5,
        **jobext_config,
    }
    return {
        "ServerApp": {"jpserver_extensions": {"jobext": True}},
        "JobExtApp": config,
    }


@pytest.fixture
def jp_root_dir(tmp_path: Path) -> Path:
    root = tmp_path / "root_dir"
    root.mkdir()
    shutil.copy(HERE / "jobs_lib.py", root / "jobs_lib.py")
    return root


@pytest.fixture
def jobext_app(jp_serverapp: Any, jp_asyncio_loop: Any) -> Any:
    """The started JobExtApp of the test server (pytest-jupyter does not start extensions)."""
    jp_asyncio_loop.run_until_complete(jp_serverapp.extension_manager.start_all_extensions())
    point = jp_serverapp.extension_manager.extensions["jobext"].extension_points["jobext"]
    return point.app


class Reply:
    def __init__(self, code: int, body: bytes, headers: Any):
        self.code = code
        self.body = body
        self.headers = headers

    def json(self) -> Any:
        return json.loads(self.body)

    def __repr__(self) -> str:
        return f"<Reply {self.code} {self.body[:300]!r}>"


class Api:
    """Calls the jobext REST API of the test server; never raises on an HTTP error."""

    def __init__(self, fetch: Callable[..., Awaitable[HTTPResponse]]):
        self._fetch = fetch

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 30.0,
    ) -> Reply:
        # A copy: jp_fetch adds the Authorization header to the dict it is given.
        kwargs: dict[str, Any] = {"method": method, "headers": dict(headers or {})}
        if params:
            kwargs["params"] = params
        if method in ("POST", "PATCH", "PUT"):
            kwargs["body"] = (
                raw if raw is not None else json.dumps(body if body is not None else {})
            )
            kwargs["allow_nonstandard_methods"] = True
        kwargs["request_timeout"] = timeout
        try:
            response = await self._fetch(*API.split("/"), *path.strip("/").split("/"), **kwargs)
        except HTTPClientError as exc:
            assert exc.response is not None, exc
            return Reply(exc.code, exc.response.body or b"", exc.response.headers)
        return Reply(response.code, response.body or b"", response.headers)

    async def get(self, path: str, **kw: Any) -> Reply:
        return await self.call("GET", path, **kw)

    async def post(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return await self.call("POST", path, body, **kw)

    async def patch(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return await self.call("PATCH", path, body, **kw)

    async def delete(self, path: str, **kw: Any) -> Reply:
        return await self.call("DELETE", path, **kw)

    async def job(
        self, name: str, target: str, kind: str = "python", **fields: Any
    ) -> dict[str, Any]:
        reply = await self.post("jobs", {"name": name, "kind": kind, "target": target, **fields})
        assert reply.code == 201, reply
        return reply.json()  # type: ignore[no-any-return]

    async def run(self, job: str, args: Any = None) -> dict[str, Any]:
        body = {} if args is None else {"args": args}
        reply = await self.post(f"jobs/{job}/runs", body)
        assert reply.code == 201, reply
        return reply.json()  # type: ignore[no-any-return]

    async def wait(self, run_id: int, *statuses: str, timeout: float = 30.0) -> dict[str, Any]:
        """Poll until the run is in one of ``statuses`` (any final status when none given)."""
        wanted = set(statuses) or {"succeeded", "failed", "stopped"}
        run: dict[str, Any] = {}

        async def arrived() -> dict[str, Any] | None:
            nonlocal run
            run = (await self.get(f"runs/{run_id}")).json()
            return run if run["status"] in wanted else None

        return await eventually_async(
            arrived,
            timeout=timeout,
            message=lambda: f"run {run_id} to be {wanted}; it is {run.get('status')}: {run}",
        )

    async def wait_log(self, run_id: int, text: str, timeout: float = 30.0) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []

        async def logged() -> list[dict[str, Any]] | None:
            nonlocal items
            items = (await self.get(f"runs/{run_id}/logs")).json()["items"]
            return items if any(text in item["text"] for item in items) else None

        return await eventually_async(
            logged,
            timeout=timeout,
            message=lambda: f"{text!r} in the log of run {run_id}: {items[-5:]}",
        )


@pytest.fixture
def api(jobext_app: Any, jp_fetch: Any) -> Api:
    return Api(jp_fetch)


LOOP_WATCH = pytest.StashKey[LoopWatch]()


@pytest.fixture
def loop_stalls(request: pytest.FixtureRequest, jobext_app: Any, jp_asyncio_loop: Any) -> Any:
    """Fails the test when the server's event loop is held over 250 ms while the test body runs.

    A probe task ticks every 20 ms on the server's loop; a watchdog thread samples the loop's
    stack while a tick is overdue, and the failure names the functions that held it. The test's
    own code runs on that loop too: keep its client work light. ``with loop_stalls.phase(name):``
    labels a part of the test in the report, which is printed for passing tests too (``-s``).
    """
    watch = LoopWatch(jp_asyncio_loop, limit=0.25)
    watch.start()
    request.node.stash[LOOP_WATCH] = watch
    yield watch
    watch.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    """Count the loop's stalls during the test body only, and fail the test on one."""
    watch = item.stash.get(LOOP_WATCH, None)
    if watch is None:
        return (yield)
    watch.arm()
    try:
        result = yield
    finally:
        watch.disarm()
        print(f"\n[{item.name}] {watch.report()}")
    watch.check()
    return result


def parse_sse(body: bytes) -> list[dict[str, Any]]:
    """Split an SSE body into ``{"id", "event", "data"}`` dicts (``data`` parsed as JSON)."""
    events = []
    for block in body.decode().split("\n\n"):
        if not block.strip() or block.startswith(":"):
            continue
        event: dict[str, Any] = {}
        for line in block.split("\n"):
            if line.startswith(":"):
                continue
            key, _, value = line.partition(": ")
            event[key] = value
        if "data" in event:
            event["data"] = json.loads(event["data"])
        if "id" in event:
            event["id"] = int(event["id"])
        events.append(event)
    return events
