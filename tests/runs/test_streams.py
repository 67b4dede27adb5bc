"""Server-Sent Events: enqueue-and-follow, replay with Last-Event-ID, live follow, log streams."""

from __future__ import annotations

import asyncio

from conftest import parse_sse


def _check_ids(events):
    ids = [e["id"] for e in events]
    assert ids == list(range(ids[0], ids[0] + len(ids))), ids


async def test_follow_on_enqueue_streams_everything_then_close(api):
    await api.job("hello", "jobs_lib:hello")
    reply = await api.post("jobs/hello/runs", {"args": {"n": 3}, "follow": True})
    assert reply.code == 201
    assert reply.headers["Content-Type"].startswith("text/event-stream")
    events = parse_sse(reply.body)
    _check_ids(events)
    kinds = [e["event"] for e in events]
    assert kinds[0] == "state" and events[0]["data"]["status"] == "queued"
    assert events[1]["event"] == "state" and events[1]["data"]["status"] == "running"
    assert kinds[-1] == "close" and kinds[-2] == "state"
    assert events[-1]["data"]["status"] == "succeeded"
    assert events[-1]["data"]["id"] == events[0]["data"]["id"]
    logs = [e["data"]["text"] for e in events if e["event"] == "log"]
    assert logs[:3] == ["hello world 0", "hello world 1", "hello world 2"]
    assert "progress" in kinds


async def test_accept_header_also_streams(api):
    await api.job("noop", "jobs_lib:noop")
    reply = await api.post("jobs/noop/runs", {}, headers={"Accept": "text/event-stream"})
    assert reply.code == 201
    assert parse_sse(reply.body)[-1]["event"] == "close"


async def test_replay_after_last_event_id_misses_nothing_and_repeats_nothing(api):
    await api.job("many", "jobs_lib:many_lines")
    run = await api.wait((await api.run("many", {"count": 500}))["id"])
    full = parse_sse((await api.get(f"runs/{run['id']}/events")).body)
    _check_ids(full)
    assert sum(1 for e in full if e["event"] == "log") == 500 + 0  # every line, once
    for cut in (1, 2, 37, len(full) - 3):
        tail = parse_sse(
            (await api.get(f"runs/{run['id']}/events", headers={"Last-Event-ID": str(cut)})).body
        )
        assert [e["id"] for e in tail if e["event"] != "close"] == [
            e["id"] for e in full if e["id"] > cut and e["event"] != "close"
        ]
        assert tail[-1]["event"] == "close"


async def test_live_follow_of_a_running_run_ends_with_close(api, jp_fetch):
    await api.job("loop", "jobs_lib:loop")
    run = await api.run("loop", {"seconds": 30, "tick": 0.02})
    await api.wait_log(run["id"], "tick 2")
    follow = asyncio.ensure_future(api.get(f"runs/{run['id']}/events", timeout=60))
    await api.wait_log(run["id"], "tick 10")
    await api.post(f"runs/{run['id']}/stop")
    reply = await follow
    events = parse_sse(reply.body)
    _check_ids(events)
    statuses = [e["data"]["status"] for e in events if e["event"] == "state"]
    assert statuses[-2:] == ["stopping", "stopped"]
    assert events[-1]["event"] == "close" and events[-1]["data"]["status"] == "stopped"
    ticks = [
        e["data"]["text"] for e in events if e["event"] == "log" and e["data"]["stream"] == "stdout"
    ]
    assert ticks == [f"tick {i}" for i in range(1, len(ticks) + 1)]


async def test_reconnect_while_running_continues_exactly(api):
    await api.job("loop", "jobs_lib:loop")
    run = await api.run("loop", {"seconds": 30, "tick": 0.01})
    await api.wait_log(run["id"], "tick 20")
    logs = (await api.get(f"runs/{run['id']}/logs")).json()["items"]
    last = logs[-1]["seq"]
    follow = asyncio.ensure_future(
        api.get(f"runs/{run['id']}/events", headers={"Last-Event-ID": str(last)}, timeout=60)
    )
    await asyncio.sleep(0.3)
    await api.post(f"runs/{run['id']}/stop")
    events = parse_sse((await follow).body)
    assert events[0]["id"] == last + 1
    _check_ids(events)
    everything = (await api.get(f"runs/{run['id']}/logs", params={"limit": 10000})).json()["items"]
    streamed = [e["data"]["seq"] for e in events if e["event"] == "log"]
    assert streamed == [line["seq"] for line in everything if line["seq"] > last]


async def test_logs_follow_streams_only_log_lines(api):
    await api.job("hello", "jobs_lib:hello")
    run = await api.wait((await api.run("hello", {"n": 2}))["id"])
    for kwargs in ({"params": {"follow": "true"}}, {"headers": {"Accept": "text/event-stream"}}):
        events = parse_sse((await api.get(f"runs/{run['id']}/logs", **kwargs)).body)
        assert {e["event"] for e in events} == {"log", "close"}
        assert [e["data"]["text"] for e in events if e["event"] == "log"][:2] == [
            "hello world 0",
            "hello world 1",
        ]


async def test_events_of_unknown_run_is_404(api):
    assert (await api.get("runs/424242/events")).code == 404
