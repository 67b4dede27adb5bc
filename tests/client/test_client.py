"""``jobext.client`` against a live server: every method, the error paths, event streams that
resume with ``Last-Event-ID``, and finding the server from inside a kernel.

The server runs in this process and event loop, so every blocking client call runs in a
thread (``asyncio.to_thread``); the test coroutine keeps the loop serving.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from waiting import eventually_async

from jobext.client import (
    BadRequest,
    Conflict,
    JobextError,
    JobsClient,
    NoServer,
    NotFound,
    discovery,
    find_server,
)


@pytest.fixture
def client(
    jobext_app: Any, http_server: Any, jp_serverapp: Any, jp_http_port: int, jp_base_url: str
) -> JobsClient:
    """A client of the test server (``http_server`` makes it listen on ``jp_http_port``)."""
    url = f"http://127.0.0.1:{jp_http_port}{jp_base_url}"
    return JobsClient(url=url, token=jp_serverapp.identity_provider.token)


def run_in_thread(fn: Any, *args: Any, **kwargs: Any) -> Any:
    return asyncio.to_thread(fn, *args, **kwargs)


async def wait_status(client: JobsClient, run_id: int, *statuses: str) -> dict[str, Any]:
    return await run_in_thread(client.runs.wait, run_id, statuses or None, timeout=30)  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------- jobs


async def test_jobs_register_list_get_update_stats_delete(client):
    jobs = client.jobs
    job = await run_in_thread(
        jobs.register, "hello", "python", "jobs_lib:hello", default_args={"n": 1}
    )
    assert job["name"] == "hello" and job["default_args"] == {"n": 1}
    await run_in_thread(jobs.register, "other", "python", "jobs_lib:noop", description="x")

    everything = await run_in_thread(jobs.list, sort="name")
    assert [j["name"] for j in everything["items"]] == ["hello", "other"]
    assert everything["total"] == 2
    found = await run_in_thread(jobs.list, "hello")
    assert [j["name"] for j in found["items"]] == ["hello"]
    second_page = await run_in_thread(jobs.list, page=1, per_page=1, sort="name")
    assert [j["name"] for j in second_page["items"]] == ["other"]
    assert (second_page["page"], second_page["per_page"], second_page["total"]) == (1, 1, 2)

    detail = await run_in_thread(jobs.get, "hello")
    assert detail["stats"]["total"] == 0 and "latest_run" in detail
    changed = await run_in_thread(jobs.update, "hello", description="greets")
    assert changed["description"] == "greets"

    run = await run_in_thread(client.runs.enqueue, "hello")
    await wait_status(client, run["id"])
    stats = await run_in_thread(jobs.stats, "hello")
    assert stats["total"] == 1 and stats["succeeded"] == 1
    assert stats["latest_run"]["id"] == run["id"]

    await run_in_thread(jobs.delete, "hello")
    with pytest.raises(NotFound) as missing:
        await run_in_thread(jobs.get, "hello")
    assert missing.value.status == 404 and missing.value.reason == "not_found"
    await run_in_thread(jobs.delete, "hello", missing_ok=True)  # no error
    with pytest.raises(NotFound):
        await run_in_thread(jobs.delete, "hello")


async def test_errors_carry_status_message_reason_and_field(client):
    with pytest.raises(BadRequest) as bad:
        await run_in_thread(client.jobs.register, "x", "python", "")
    assert bad.value.status == 400
    assert bad.value.field == "target"
    assert bad.value.reason == "invalid"
    assert "target" in bad.value.message
    assert str(bad.value).startswith("400 ")

    with pytest.raises(BadRequest) as kind:
        await run_in_thread(client.jobs.register, "x", "cobol", "main")
    assert kind.value.field == "kind"

    await run_in_thread(client.jobs.register, "x", "python", "jobs_lib:noop")
    with pytest.raises(Conflict) as taken:
        await run_in_thread(client.jobs.register, "x", "python", "jobs_lib:noop")
    assert taken.value.status == 409

    with pytest.raises(NotFound) as unknown:
        await run_in_thread(client.runs.get, 4242)
    assert unknown.value.status == 404 and "4242" in unknown.value.message

    with pytest.raises(BadRequest) as status:
        await run_in_thread(client.runs.history, status="sleeping")
    assert status.value.field == "status"

    # All of them are JobextError.
    assert issubclass(BadRequest, JobextError) and issubclass(Conflict, JobextError)


async def test_unreachable_server_raises_no_server():
    lonely = JobsClient(url="http://127.0.0.1:9/", token="t", timeout=2)
    with pytest.raises(NoServer):
        await run_in_thread(lonely.stats)


def test_a_stream_that_cannot_reconnect_gives_up_with_no_server():
    lonely = JobsClient(url="http://127.0.0.1:9/", token="t", timeout=2)
    stream = lonely.runs.follow(1, retries=1)
    with pytest.raises(NoServer, match="2 failures in a row"):
        next(stream)
    assert stream.closed and stream.reconnects == 1


# ---------------------------------------------------------------------------- runs


async def test_enqueue_get_logs_and_history_filters(client):
    await run_in_thread(
        client.jobs.register, "hello", "python", "jobs_lib:hello", default_args={"n": 3}
    )
    await run_in_thread(client.jobs.register, "fail", "python", "jobs_lib:fail")
    first = await run_in_thread(client.runs.enqueue, "hello", {"name": "ann"})
    assert first["status"] == "queued" and first["args"] == {"name": "ann", "n": 3}
    done = await wait_status(client, first["id"])
    assert done["status"] == "succeeded"
    failed = await wait_status(client, (await run_in_thread(client.runs.enqueue, "fail"))["id"])
    assert failed["status"] == "failed"

    got = await run_in_thread(client.runs.get, first["id"])
    assert got["uuid"] == first["uuid"] and got["status"] == "succeeded"

    page = await run_in_thread(client.runs.logs, first["id"], 0, 2)
    assert [line["text"] for line in page["items"]] == ["hello ann 0", "hello ann 1"]
    assert page["more"] is True
    rest = await run_in_thread(client.runs.logs, first["id"], after=page["next_after"])
    assert rest["items"][0]["text"] == "hello ann 2"
    lines = await run_in_thread(client.runs.log_lines, first["id"])
    assert lines[:3] == ["hello ann 0", "hello ann 1", "hello ann 2"]

    history = client.runs.history
    assert [r["id"] for r in (await run_in_thread(history))["items"]] == [failed["id"], first["id"]]
    assert [r["id"] for r in (await run_in_thread(history, sort="id"))["items"]] == [
        first["id"],
        failed["id"],
    ]
    assert [r["id"] for r in (await run_in_thread(history, job="hello"))["items"]] == [first["id"]]
    assert (await run_in_thread(history, status="FAILED"))["total"] == 1
    assert (await run_in_thread(history, status=["succeeded", "failed"]))["total"] == 2
    assert (await run_in_thread(history, status="IN_PROGRESS"))["total"] == 0
    assert (await run_in_thread(history, uuid=first["uuid"]))["items"][0]["id"] == first["id"]
    assert (await run_in_thread(history, user=first["user"]))["total"] == 2
    assert (await run_in_thread(history, schedule=999))["total"] == 0
    today = dt.date.today()
    now = dt.datetime.now(dt.timezone.utc)
    assert (await run_in_thread(history, from_=now - dt.timedelta(hours=1)))["total"] == 2
    assert (await run_in_thread(history, to=now - dt.timedelta(hours=1)))["total"] == 0
    assert (await run_in_thread(history, from_=today - dt.timedelta(days=1), to="20990101"))[
        "total"
    ] == 2
    paged = await run_in_thread(history, page=1, per_page=1)
    assert [r["id"] for r in paged["items"]] == [first["id"]] and paged["total"] == 2


async def test_controls_stop_pause_resume_restart_remove(client):
    await run_in_thread(
        client.jobs.register,
        "loop",
        "python",
        "jobs_lib:loop",
        default_args={"seconds": 30.0},
        max_concurrent=2,
    )
    runs = client.runs
    run = await run_in_thread(runs.enqueue, "loop")
    await wait_status(client, run["id"], "running")
    with pytest.raises(Conflict) as busy:
        await run_in_thread(runs.remove, run["id"])
    assert busy.value.reason == "in_progress"

    assert (await run_in_thread(runs.pause, run["id"]))["status"] == "pausing"
    await wait_status(client, run["id"], "paused")
    assert (await run_in_thread(runs.resume, run["id"]))["status"] == "running"
    assert (await run_in_thread(runs.stop, run["id"]))["status"] == "stopping"
    stopped = await wait_status(client, run["id"])
    assert stopped["status"] == "stopped"

    with pytest.raises(Conflict) as illegal:
        await run_in_thread(runs.pause, run["id"])
    assert illegal.value.status == 409 and illegal.value.reason == "illegal_transition"

    again = await run_in_thread(runs.restart, run["id"])
    assert again["restarted_from"] == run["id"] and again["trigger"] == "restart"
    with pytest.raises(Conflict):
        await run_in_thread(runs.restart, run["id"])  # restarted already
    await wait_status(client, again["id"], "running")
    forced = await run_in_thread(runs.stop, again["id"], force=True)
    assert forced["status"] == "stopped"

    await run_in_thread(runs.remove, run["id"])
    with pytest.raises(NotFound):
        await run_in_thread(runs.get, run["id"])
    with pytest.raises(NotFound):
        await run_in_thread(runs.remove, run["id"])


async def test_wait_for_a_status_and_timeouts(client):
    await run_in_thread(client.jobs.register, "loop", "python", "jobs_lib:loop")
    run = await run_in_thread(client.runs.enqueue, "loop", {"seconds": 1.0})
    running = await run_in_thread(client.runs.wait, run["id"], "running", timeout=30)
    assert running["status"] == "running"
    with pytest.raises(TimeoutError):
        await run_in_thread(client.runs.wait, run["id"], "paused", timeout=0.3)
    with pytest.raises(JobextError, match="ended succeeded"):
        await run_in_thread(client.runs.wait, run["id"], "paused", timeout=30)
    final = await run_in_thread(client.runs.wait, run["id"])
    assert final["status"] == "succeeded"


# ---------------------------------------------------------------------------- results


async def test_results_bytes_head_frame_and_download(client, tmp_path):
    tmp_path = tmp_path / "downloads"
    tmp_path.mkdir()
    await run_in_thread(client.jobs.register, "export", "python", "jobs_lib:write_result")
    await run_in_thread(client.jobs.register, "noop", "python", "jobs_lib:noop")
    run = await wait_status(
        client, (await run_in_thread(client.runs.enqueue, "export", {"rows": 4}))["id"]
    )
    assert run["result"]["filename"] == f"export-{run['id']}.csv"

    body = await run_in_thread(client.runs.result_bytes, run["id"])
    assert body == b"id,name\n0,row 0\n1,row 1\n2,row 2\n3,row 3\n"
    assert await run_in_thread(client.runs.result_head, run["id"], 8) == body[:8]
    assert client.runs.result_url(run["id"]).endswith(f"/jobext/api/v1/runs/{run['id']}/result")
    assert await run_in_thread(client.runs.has_result, run["id"]) is True
    assert await run_in_thread(client.runs.has_result, run["id"], fmt="html") is False

    frame = await run_in_thread(client.runs.result_frame, run["id"])
    assert list(frame.columns) == ["id", "name"]
    assert frame["name"].tolist() == ["row 0", "row 1", "row 2", "row 3"]

    saved = await run_in_thread(client.runs.download, run["id"], tmp_path)
    assert saved == tmp_path / f"export-{run['id']}.csv"
    assert saved.read_bytes() == body
    named = await run_in_thread(client.runs.download, run["id"], tmp_path / "mine.csv")
    assert named.read_bytes() == body
    assert not list(tmp_path.glob("*.part"))

    empty = await wait_status(client, (await run_in_thread(client.runs.enqueue, "noop"))["id"])
    assert await run_in_thread(client.runs.has_result, empty["id"]) is False
    with pytest.raises(NotFound) as none:
        await run_in_thread(client.runs.result_bytes, empty["id"])
    assert none.value.reason == "no_result"
    with pytest.raises(NotFound):
        await run_in_thread(client.runs.download, empty["id"], tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"export-{run['id']}.csv", "mine.csv"]


def test_result_frame_without_pandas_says_so(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_pandas(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "pandas":
            raise ImportError("no pandas here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pandas)
    with pytest.raises(ImportError, match="pip install pandas"):
        JobsClient(url="http://127.0.0.1:9/").runs.result_frame(1)  # before any request


# ---------------------------------------------------------------------------- events


def _ids(events: list[dict[str, Any]]) -> list[int]:
    return [e["id"] for e in events]


async def test_follow_yields_every_event_once_and_ends_with_close(client):
    await run_in_thread(client.jobs.register, "hello", "python", "jobs_lib:hello")
    run = await run_in_thread(client.runs.enqueue, "hello", {"n": 3})
    events = await run_in_thread(lambda: list(client.runs.follow(run["id"])))
    assert _ids(events) == list(range(1, len(events) + 1))
    assert events[-1]["event"] == "close" and events[-1]["data"]["status"] == "succeeded"
    assert [e["data"]["text"] for e in events if e["event"] == "log"][:3] == [
        "hello world 0",
        "hello world 1",
        "hello world 2",
    ]
    assert {"state", "progress", "log", "close"} <= {e["event"] for e in events}

    # From a Last-Event-ID on: exactly what followed it.
    later = await run_in_thread(lambda: list(client.runs.follow(run["id"], last_event_id=4)))
    assert _ids(later) == _ids(events)[4:]
    assert later == events[4:]
    # Only some types (close always comes).
    logs = await run_in_thread(lambda: list(client.runs.follow(run["id"], types=["log"])))
    assert {e["event"] for e in logs} == {"log", "close"}


async def test_follow_resumes_a_dropped_connection_with_last_event_id(client):
    await run_in_thread(client.jobs.register, "loop", "python", "jobs_lib:loop")
    run = await run_in_thread(client.runs.enqueue, "loop", {"seconds": 1.5, "tick": 0.05})
    stream = client.runs.follow(run["id"])
    drops: list[int] = []

    def consume() -> list[dict[str, Any]]:
        seen = []
        for event in stream:
            seen.append(event)
            if len(seen) in (4, 12):
                # The connection drops mid-stream (as a proxy or a network hiccup would do it).
                assert stream.response is not None
                stream.response.close()
                drops.append(event["id"])
        return seen

    events = await run_in_thread(consume)
    assert drops == [4, 12]
    assert stream.reconnects == 2
    ids = _ids(events)
    assert ids == list(range(1, len(ids) + 1)), "an event was missed or seen twice"
    assert events[-1]["event"] == "close" and events[-1]["data"]["status"] == "succeeded"
    ticks = [
        e["data"]["text"] for e in events if e["event"] == "log" and "tick" in e["data"]["text"]
    ]
    assert ticks == [f"tick {i}" for i in range(1, len(ticks) + 1)]
    assert len(ticks) >= 10
    stored = await run_in_thread(client.runs.log_lines, run["id"])
    assert [t for t in stored if t.startswith("tick")] == ticks


async def test_closing_a_stream_from_another_thread_ends_it_at_once(client):
    await run_in_thread(client.jobs.register, "loop", "python", "jobs_lib:loop")
    run = await run_in_thread(client.runs.enqueue, "loop", {"seconds": 30.0, "tick": 1.0})
    await wait_status(client, run["id"], "running")
    stream = client.runs.follow(run["id"])
    first = threading.Event()
    seen: list[dict[str, Any]] = []

    def consume() -> None:
        for event in stream:
            seen.append(event)
            first.set()

    reader = threading.Thread(target=consume, daemon=True)
    reader.start()
    while not first.is_set():
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.3)  # the reader now blocks in recv(): a tick comes once a second
    started = time.monotonic()
    stream.close()
    while reader.is_alive() and time.monotonic() - started < 5:
        await asyncio.sleep(0.02)
    assert not reader.is_alive()
    assert time.monotonic() - started < 1.0
    assert stream.closed and seen and seen[-1]["event"] != "close"
    await run_in_thread(client.runs.stop, run["id"], force=True)


# ---------------------------------------------------------------------------- schedules


async def test_schedules_crud_pause_resume_preview_fires(client):
    schedules = client.schedules
    await run_in_thread(client.jobs.register, "noop", "python", "jobs_lib:noop")
    with pytest.raises(BadRequest) as cron:
        await run_in_thread(schedules.create, "noop", "61 * * * *")
    assert cron.value.field == "cron"
    with pytest.raises(BadRequest) as zone:
        await run_in_thread(schedules.create, "noop", "0 6 * * *", "Mars/Olympus")
    assert zone.value.field == "timezone"
    with pytest.raises(BadRequest) as job:
        await run_in_thread(schedules.create, "nope", "0 6 * * *")
    assert job.value.field == "job"

    made = await run_in_thread(
        schedules.create,
        "noop",
        "0 6 * * mon-fri",
        "Europe/Berlin",
        misfire="once",
        overlap="allow",
        description="weekday mornings",
    )
    assert made["active"] is True and len(made["next_fire_times"]) > 0
    assert (made["misfire"], made["overlap"]) == ("once", "allow")
    sid = made["id"]
    assert (await run_in_thread(schedules.get, sid))["cron"] == "0 6 * * mon-fri"
    assert [s["id"] for s in (await run_in_thread(schedules.list, "noop"))["items"]] == [sid]
    assert (await run_in_thread(schedules.list, "other"))["total"] == 0
    assert (await run_in_thread(schedules.list, active=False))["total"] == 0

    changed = await run_in_thread(schedules.update, sid, cron="30 7 * * *")
    assert changed["cron"] == "30 7 * * *"
    paused = await run_in_thread(schedules.pause, sid)
    assert paused["active"] is False and paused["next_fire_times"] == []
    assert (await run_in_thread(schedules.list, active=False))["total"] == 1
    assert (await run_in_thread(schedules.resume, sid))["active"] is True

    preview = await run_in_thread(
        schedules.preview, "30 2 * * *", "Europe/Berlin", after="2026-10-23", count=4
    )
    assert preview["local_times"] == [
        "2026-10-23T02:30:00+02:00",
        "2026-10-24T02:30:00+02:00",
        "2026-10-25T02:30:00+02:00",
        "2026-10-26T02:30:00+01:00",
    ]
    with pytest.raises(BadRequest) as bad_preview:
        await run_in_thread(schedules.preview, "nonsense")
    assert bad_preview.value.field == "cron"

    fires = await run_in_thread(schedules.fires, sid)
    assert fires["items"] == [] and fires["total"] == 0

    await run_in_thread(schedules.delete, sid)
    with pytest.raises(NotFound):
        await run_in_thread(schedules.get, sid)


async def test_a_schedule_fires_and_logs_its_runs(client):
    await run_in_thread(client.jobs.register, "noop", "python", "jobs_lib:noop")
    made = await run_in_thread(client.schedules.create, "noop", "* * * * * ?", "UTC")

    async def schedule_runs() -> Any:
        return (await run_in_thread(client.runs.history, schedule=made["id"]))["items"]

    runs = await eventually_async(
        schedule_runs, timeout=15, interval=0.2, message="a run of the schedule"
    )
    assert runs and runs[0]["trigger"] == "schedule"
    await run_in_thread(client.schedules.pause, made["id"])
    fires = (await run_in_thread(client.schedules.fires, made["id"]))["items"]
    assert any(f["outcome"] == "started" and f["run_id"] for f in fires)


# ---------------------------------------------------------------------------- server


async def test_stats_connections_openapi(client, jp_base_url):
    stats = await run_in_thread(client.stats)
    assert {"jobs", "schedules", "workers", "runs"} <= set(stats)
    assert await run_in_thread(client.connections) == []
    spec = await run_in_thread(client.openapi)
    assert spec["openapi"].startswith("3.")
    assert client.base_path == jp_base_url
    assert client.api.endswith(f"{jp_base_url}jobext/api/v1")


# ---------------------------------------------------------------------------- discovery


def test_find_server_prefers_the_environment(monkeypatch):
    monkeypatch.setenv("JOBEXT_URL", "http://example.test:8888/lab-base/")
    monkeypatch.setenv("JOBEXT_TOKEN", "secret")
    assert find_server() == ("http://example.test:8888/lab-base/", "secret")
    made = JobsClient()
    assert made.api == "http://example.test:8888/lab-base/jobext/api/v1"
    assert made.token == "secret" and made.base_path == "/lab-base/"
    # Explicit arguments win; a URL without a trailing slash gets one.
    explicit = JobsClient(url="http://other.test/x", token="t")
    assert (explicit.url, explicit.token) == ("http://other.test/x/", "t")


def test_find_server_picks_the_newest_server_whose_root_holds_the_cwd(monkeypatch, tmp_path):
    monkeypatch.delenv("JOBEXT_URL", raising=False)
    monkeypatch.delenv("JOBEXT_TOKEN", raising=False)
    project = tmp_path / "project"
    (project / "notebooks").mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    servers = [
        {"pid": 1, "url": "http://h:1/", "token": "old", "root_dir": str(project)},
        {"pid": 2, "url": "http://h:2/", "token": "new", "root_dir": str(project)},
        {"pid": 3, "url": "http://h:3/", "token": "newest-other", "root_dir": str(elsewhere)},
    ]
    import jupyter_server.serverapp

    monkeypatch.setattr(jupyter_server.serverapp, "list_running_servers", lambda: iter(servers))
    monkeypatch.setattr(discovery, "_runtime_mtime", lambda info: float(info["pid"]))
    assert find_server(project / "notebooks") == ("http://h:2/", "new")
    assert find_server(elsewhere) == ("http://h:3/", "newest-other")
    # Outside every root dir: the newest server of all.
    assert find_server(Path("/")) == ("http://h:3/", "newest-other")

    monkeypatch.setattr(jupyter_server.serverapp, "list_running_servers", lambda: iter([]))
    with pytest.raises(NoServer, match="JOBEXT_URL"):
        find_server(project)
