"""jobext never holds the Jupyter server's event loop for long (issue 8): not during a log flood
followed over SSE, not during a burst of 300 enqueues, not while deleting a job with big logs.

Every test uses the ``loop_stalls`` fixture (tests/conftest.py), which fails it when the loop was
held over 250 ms and names the functions that held it. The tests' own client work runs on the
same loop, so they keep it light: SSE bodies are collected as raw chunks and parsed in a thread.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import pytest
from conftest import API, Api
from loopwatch import LoopWatch
from waiting import eventually_async

FLOOD_LINES = 100_000
BIG_LINES = 150_000
BURST = 300
TIMEOUT = 300.0


async def follow(jp_fetch: Any, run_id: int) -> bytes:
    """The whole SSE body of ``GET /runs/{id}/events`` (the server ends it after ``close``)."""
    chunks: list[bytes] = []
    await jp_fetch(
        *API.split("/"),
        "runs",
        str(run_id),
        "events",
        streaming_callback=chunks.append,
        request_timeout=TIMEOUT,
    )
    return b"".join(chunks)


def log_lines_and_close(body: bytes) -> tuple[list[int], dict[str, Any] | None]:
    """The ``i`` of each ``line {i}`` log event in order, and the ``close`` event's data."""
    numbers = [int(n) for n in re.findall(rb'"text": "line (\d+)"', body)]
    close = re.search(rb"event: close\ndata: (.*)\n", body)
    return numbers, json.loads(close.group(1)) if close else None


@pytest.mark.parametrize("jobext_config", [{"max_workers": 2}])
async def test_a_log_flood_followed_over_sse(
    api: Api, jp_fetch: Any, loop_stalls: LoopWatch, jobext_config: Any
) -> None:
    """One job prints 100,000 lines while 3 SSE clients follow it; then a 4th replays it all."""
    await api.job("flood", "jobs_lib:many_lines", max_concurrent=1)
    with loop_stalls.phase("flood followed by 3 SSE clients"):
        run = await api.run("flood", {"count": FLOOD_LINES})
        bodies = await asyncio.gather(*(follow(jp_fetch, run["id"]) for _ in range(3)))
    with loop_stalls.phase("SSE replay of the finished run"):
        bodies.append(await follow(jp_fetch, run["id"]))
    for body in bodies:
        numbers, close = await asyncio.to_thread(log_lines_and_close, body)
        assert numbers == list(range(FLOOD_LINES)), (len(numbers), numbers[:3], numbers[-3:])
        assert close is not None and close["status"] == "succeeded", close


@pytest.mark.parametrize("jobext_config", [{"max_workers": 2}])
async def test_a_burst_of_300_runs(api: Api, loop_stalls: LoopWatch, jobext_config: Any) -> None:
    """300 runs enqueued at once by 8 concurrent clients, until all have succeeded."""
    await api.job("noop", "jobs_lib:noop", max_concurrent=1000, queue_when_busy=True)
    clients = asyncio.Semaphore(8)

    async def enqueue() -> int:
        async with clients:
            return int((await api.run("noop"))["id"])

    with loop_stalls.phase("300 enqueues"):
        ids = await asyncio.gather(*(enqueue() for _ in range(BURST)))
    assert len(set(ids)) == BURST

    async def none_in_progress() -> bool:
        page = await api.get("runs", params={"job": "noop", "status": "IN_PROGRESS"})
        return page.json()["total"] == 0

    with loop_stalls.phase("300 runs executing"):
        await eventually_async(
            none_in_progress, timeout=TIMEOUT, interval=0.2, message="the burst to end"
        )
    done = (await api.get("runs", params={"job": "noop", "status": "succeeded"})).json()
    assert done["total"] == BURST, done["total"]


@pytest.mark.parametrize("jobext_config", [{"max_workers": 2}])
async def test_deleting_a_job_with_big_logs(
    api: Api, loop_stalls: LoopWatch, jobext_config: Any
) -> None:
    """Two runs of 150,000 lines each, then ``DELETE /jobs/{name}`` removes them with their
    logs."""
    await api.job("big", "jobs_lib:many_lines", max_concurrent=2)
    with loop_stalls.phase("two 150,000-line runs"):
        runs = [await api.run("big", {"count": BIG_LINES}) for _ in range(2)]
        for run in runs:
            ended = await api.wait(run["id"], timeout=TIMEOUT)
            assert ended["status"] == "succeeded", ended
    # The logs are all stored before the delete.
    for run in runs:
        tail = await api.get(f"runs/{run['id']}/logs", params={"after": BIG_LINES - 10})
        assert tail.json()["items"][-1]["text"] == f"line {BIG_LINES - 1}", tail
    with loop_stalls.phase("DELETE /jobs/big"):
        reply = await api.delete("jobs/big", timeout=TIMEOUT)
    assert reply.code == 204, reply
    assert (await api.get("jobs/big")).code == 404
    for run in runs:
        assert (await api.get(f"runs/{run['id']}")).code == 404


@pytest.fixture
def python_switch_interval() -> Any:
    """Python's default thread switch interval until the test ends (set before the server)."""
    import sys

    before = sys.getswitchinterval()
    sys.setswitchinterval(0.005)
    yield
    sys.setswitchinterval(before)


@pytest.mark.parametrize("jobext_config", [{"switch_interval_s": 0.002}])
async def test_the_loop_waits_less_for_the_interpreter_lock(
    python_switch_interval: Any, api: Api, jobext_config: Any
) -> None:
    """The database and file work runs on threads: the server's thread switch interval is
    lowered (never raised) so that the loop gets the interpreter lock back sooner."""
    import sys

    assert sys.getswitchinterval() == pytest.approx(0.002)
