"""The event hub without a server: numbering by the database, batching, replay in pages, slow
followers, and two servers writing to one run's stream."""

from __future__ import annotations

import asyncio
import json

import pytest
from waiting import eventually_async

from jobext.db.engine import Database
from jobext.db.tables import Job, Run
from jobext.runs import followers
from jobext.runs.event_rows import stored_tops
from jobext.runs.events import EventHub


def _new_run(db: Database) -> int:
    with db.writing() as session:
        if session.get(Job, "j") is None:
            session.add(Job(name="j", kind="python", target="m:f"))
        run = Run(job="j", kind="python")
        session.add(run)
        session.flush()
        assert run.id is not None
        return run.id


@pytest.fixture
def db(tmp_path):
    database = Database.open(f"sqlite:///{tmp_path / 'hub.db'}")
    yield database
    database.dispose()


@pytest.fixture
def hub(db):
    return EventHub(db)


def _lines(n, start=0):
    return [("stdout", None, f"line {i}") for i in range(start, start + n)]


async def _all(sub, count, timeout=5.0):
    seen = []
    while len(seen) < count:
        batch = await sub.get(timeout)
        assert batch, f"stalled after {len(seen)}"
        seen += batch
    return seen


async def test_events_are_numbered_when_written(hub, db):
    run = _new_run(db)
    hub.emit_logs(run, _lines(3), None)
    hub.emit_json(run, "state", {"status": "running"})
    assert await hub.read_after(run, 0) == []  # nothing is numbered or visible before a flush
    await hub.flush()
    assert [e.seq for e in await hub.read_after(run, 2)] == [3, 4]
    logs = await hub.read_after(run, 0, type="log")
    assert [e.text for e in logs] == ["line 0", "line 1", "line 2"]
    hub.emit_logs(run, _lines(1, 3), None)  # numbering goes on from what is stored
    await hub.flush()
    assert (await hub.read_after(run, 4))[0].seq == 5


async def test_several_runs_are_numbered_each_from_its_own_top(hub, db):
    first, second, third = _new_run(db), _new_run(db), _new_run(db)
    hub.emit_logs(first, _lines(5), None)
    hub.emit_logs(second, _lines(2), None)
    await hub.flush()
    # One flush for all three: each goes on from its own top, the third (no events) from 1.
    for run in (first, second, third):
        hub.emit_logs(run, _lines(1), None)
    await hub.flush()
    assert [(await hub.read_after(r, 0))[-1].seq for r in (first, second, third)] == [6, 3, 1]
    with db.reading() as session:
        tops = stored_tops(session, [first, second, third, third + 1000])
    assert tops == {first: 6, second: 3, third: 1}  # a run that does not exist is left out


async def test_events_of_a_removed_run_are_dropped(hub, db):
    run = _new_run(db)
    hub.emit_logs(run, _lines(2), None)
    hub.emit_logs(run + 1000, _lines(2), None)  # no such run
    await hub.flush()
    assert [e.seq for e in await hub.read_after(run, 0)] == [1, 2]
    assert await hub.read_after(run + 1000, 0) == []


async def test_a_follower_replays_then_follows_live_once_in_order(hub, db):
    run = _new_run(db)
    hub.emit_logs(run, _lines(5), None)
    await hub.flush()
    sub = hub.subscribe(run, after=3)
    hub.emit_logs(run, _lines(5, 5), None)
    flush = asyncio.create_task(hub.flush())
    got = await _all(sub, 7)
    await flush
    assert [e.seq for e in got] == [4, 5, 6, 7, 8, 9, 10]
    hub.emit_logs(run, _lines(2, 10), None)
    await hub.flush()
    assert [e.seq for e in await sub.get(1.0)] == [11, 12]
    assert await sub.get(0.01) == []
    sub.close()
    assert hub.subscriber_count(run) == 0


async def test_falling_behind_during_a_read_loses_nothing(hub, db):
    """A flush handed out while a follower reads from the database drops the follower's
    queue: the read, taken before that commit, must not count as caught up."""
    run = _new_run(db)
    hub.emit_logs(run, _lines(2), None)
    await hub.flush()
    sub = hub.subscribe(run)
    read_after = hub.read_after

    async def overtaken(run_id, after, **kw):
        events = await read_after(run_id, after, **kw)
        if after == 0:
            hub.emit_logs(run, _lines(3, 2), None)
            await hub.flush()
        return events

    hub.read_after = overtaken
    assert [e.seq for e in await _all(sub, 5)] == [1, 2, 3, 4, 5]
    sub.close()


async def test_replay_reads_in_bounded_pages(hub, db, monkeypatch):
    monkeypatch.setattr(followers, "PAGE", 100)
    run = _new_run(db)
    hub.emit_logs(run, _lines(450), None)
    await hub.flush()
    sub = hub.subscribe(run)
    sizes = []
    while sub.lagging:
        sizes.append(len(await sub.get(1.0)))
    assert sizes == [100, 100, 100, 100, 50]
    sub.close()


async def test_a_slow_follower_catches_up_from_the_database(hub, db, monkeypatch):
    monkeypatch.setattr(followers, "MAX_QUEUED_EVENTS", 1000)
    run = _new_run(db)
    sub = hub.subscribe(run)
    assert await sub.get(0.01) == []  # caught up with an empty stream
    for chunk in range(30):
        hub.emit_logs(run, _lines(100, chunk * 100), None)
        if chunk % 7 == 0:
            await hub.flush()
    await hub.flush()
    assert sub.lagging
    seen = [e.seq for e in await _all(sub, 3000)]
    assert seen == list(range(1, 3001))
    assert not sub.lagging
    hub.emit_logs(run, _lines(1, 3000), None)
    await hub.flush()
    assert [e.seq for e in await sub.get(1.0)] == [3001]
    sub.close()


async def test_flusher_writes_in_the_background(hub, db):
    run = _new_run(db)
    hub.start()
    hub.emit_logs(run, _lines(10), None)
    await asyncio.sleep(0.3)
    assert hub._pending == []
    assert len(await hub.read_after(run, 0)) == 10
    await hub.stop()


@pytest.mark.parametrize(
    "text", ["plain", 'quote " and \\ backslash', "tab\tand \x01 control", "ünïcødé ✓ 🚀", ""]
)
async def test_log_event_data_is_the_json_of_the_line(hub, db, text):
    run = _new_run(db)
    for level, stream in ((None, "stdout"), ("WARNING", "log")):
        hub.emit_logs(run, [(stream, level, text)], None)
    await hub.flush()
    for event in await hub.read_after(run, 0):
        assert event.data() == json.dumps(event.log_json(), ensure_ascii=False)
        assert json.loads(event.data())["text"] == text


async def test_two_servers_writing_one_stream_never_clash(tmp_path):
    """Another server may add to a run's stream (a stop request it received): the database
    numbers every event, so nothing clashes and a follower on either server sees all of it."""
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    a_db, b_db = Database.open(url), Database.open(url)
    a, b = EventHub(a_db, poll_s=0.1), EventHub(b_db)
    try:
        run = _new_run(a_db)
        a.start()
        sub = a.subscribe(run)
        assert await sub.get(0.01) == []
        a.emit_logs(run, _lines(2), None)
        b.emit_logs(run, [("jobext", "INFO", "stop requested by bob")], None)
        await b.flush()  # b's event takes seq 1
        await a.flush()  # a's go after it: a's follower must not skip b's
        a.emit_logs(run, _lines(2, 2), None)
        await a.flush()
        texts = [e.text for e in await _all(sub, 5)]
        assert texts == ["stop requested by bob", "line 0", "line 1", "line 2", "line 3"]
        assert [e.seq for e in await a.read_after(run, 0)] == [1, 2, 3, 4, 5]
        sub.close()
    finally:
        await a.stop()
        a_db.dispose()
        b_db.dispose()


async def test_a_full_backlog_holds_the_readers_until_it_is_written(hub, db):
    from jobext.runs.events import MAX_PENDING

    run = _new_run(db)
    hub.emit_logs(run, _lines(MAX_PENDING - 1), None)
    await asyncio.wait_for(hub.room(), 1.0)  # room left: no wait
    hub.emit_logs(run, _lines(1, MAX_PENDING - 1), None)
    waiting = asyncio.ensure_future(hub.room())
    await asyncio.sleep(0.05)
    assert not waiting.done()  # a pipe reader waits here; the job's print waits behind it
    await hub.flush()
    await asyncio.wait_for(waiting, 1.0)
    assert len(await hub.read_after(run, 0, limit=MAX_PENDING + 1)) == MAX_PENDING


async def test_a_full_backlog_is_written_without_waiting_for_the_interval(db):
    from jobext.runs.events import MAX_PENDING

    hub = EventHub(db, flush_interval=30.0)
    hub.start()
    try:
        run = _new_run(db)
        hub.emit_logs(run, _lines(MAX_PENDING), None)
        await asyncio.wait_for(hub.room(), 5.0)  # taken by a flush long before 30 s

        async def stored() -> bool:
            return len(await hub.read_after(run, 0, limit=MAX_PENDING + 1)) == MAX_PENDING

        await eventually_async(stored, message="the backlog written")
    finally:
        await hub.stop()
