"""The event hub without a server: numbering, batching, replay, and slow subscribers."""

from __future__ import annotations

import asyncio

import pytest

from jobext.db.engine import Store
from jobext.runs import events as events_mod
from jobext.runs.events import EventHub


@pytest.fixture
def hub(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'hub.db'}")
    yield EventHub(store)
    store.dispose()


def _lines(n, start=0):
    return [("stdout", None, f"line {i}") for i in range(start, start + n)]


def test_numbering_and_flush(hub):
    hub.open_stream(1)
    hub.emit_logs(1, _lines(3), None)
    hub.emit_json(1, "state", {"status": "running"})
    assert [e.seq for e in hub.read_after(1, 0)] == [1, 2, 3, 4]  # from memory
    hub.flush()
    assert [e.seq for e in hub.read_after(1, 2)] == [3, 4]  # from the database
    assert [e.text for e in hub.read_after(1, 0, type="log")] == ["line 0", "line 1", "line 2"]
    hub.forget(1)
    hub.emit_logs(1, _lines(1, 3), None)  # numbering resumes from the database
    assert hub.read_after(1, 4)[0].seq == 5


def test_replay_spans_database_and_pending_batch(hub):
    hub.open_stream(7)
    hub.emit_logs(7, _lines(5), None)
    hub.flush()
    hub.emit_logs(7, _lines(5, 5), None)
    sub, replay = hub.subscribe(7, after=3)
    assert [e.seq for e in replay] == [4, 5, 6, 7, 8, 9, 10]
    assert sub.last_seq == 10
    sub.close()
    assert hub.subscriber_count(7) == 0


async def test_live_events_reach_subscribers_once_in_order(hub):
    hub.open_stream(2)
    sub, replay = hub.subscribe(2)
    assert replay == []
    hub.emit_logs(2, _lines(3), None)
    hub.emit_logs(2, _lines(2, 3), None)
    got = await sub.get(1.0) + await sub.get(1.0)
    assert [e.seq for e in got] == [1, 2, 3, 4, 5]
    assert await sub.get(0.01) == []
    sub.close()


async def test_a_slow_subscriber_catches_up_from_the_database(hub, monkeypatch):
    monkeypatch.setattr(events_mod, "MAX_QUEUED_EVENTS", 1000)
    hub.open_stream(3)
    sub, _ = hub.subscribe(3)
    for chunk in range(30):
        hub.emit_logs(3, _lines(100, chunk * 100), None)
        if chunk % 7 == 0:
            hub.flush()
    assert sub.lagging
    seen = []
    while len(seen) < 3000:
        batch = await sub.get(0.5)
        assert batch, f"stalled after {len(seen)}"
        seen += [e.seq for e in batch]
    assert seen == list(range(1, 3001))
    assert not sub.lagging
    hub.emit_logs(3, _lines(1, 3000), None)
    assert [e.seq for e in await sub.get(1.0)] == [3001]
    sub.close()


async def test_flusher_writes_in_the_background(hub):
    hub.start()
    hub.open_stream(4)
    hub.emit_logs(4, _lines(10), None)
    await asyncio.sleep(0.2)
    assert hub._pending == []
    await hub.stop()


@pytest.mark.parametrize(
    "text", ["plain", 'quote " and \\ backslash', "tab\tand \x01 control", "ünïcødé ✓ 🚀", ""]
)
def test_log_event_data_is_the_json_of_the_line(hub, text):
    import json

    hub.open_stream(9)
    for level, stream in ((None, "stdout"), ("WARNING", "log")):
        hub.emit_logs(9, [(stream, level, text)], None)
    for event in hub.read_after(9, 0):
        assert event.data() == json.dumps(event.log_json(), ensure_ascii=False)
        assert json.loads(event.data())["text"] == text


def test_two_servers_writing_one_stream_never_lose_events(tmp_path):
    """Another server may add to a run's stream (a stop request it received): clashing numbers
    are renumbered after the stored ones instead of being lost."""
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    a_store, b_store = Store.open(url), Store.open(url)
    a, b = EventHub(a_store), EventHub(b_store)
    try:
        a.open_stream(5)
        a.emit_logs(5, _lines(2), None)
        b.emit_logs(5, [("jobext", "INFO", "stop requested by bob")], None)
        a.emit_logs(5, _lines(2, 2), None)
        b.flush()  # b's event took seq 1
        a.flush()  # a's seq 1 clashes, and so on: renumbered after what is stored
        texts = [e.text for e in a.read_after(5, 0)]
        assert sorted(texts) == sorted(
            ["line 0", "line 1", "line 2", "line 3", "stop requested by bob"]
        )
        seqs = [e.seq for e in a.read_after(5, 0)]
        assert seqs == list(range(1, 6))
        assert texts[1:] == ["line 0", "line 1", "line 2", "line 3"]
    finally:
        a_store.dispose()
        b_store.dispose()
