"""The Dask executor without a Jupyter server: a real scheduler and two worker processes, real
job processes, and a recorder (which also grants claims) in place of the supervisor."""

from __future__ import annotations

import contextlib
import os
import textwrap
import uuid as uuid_mod
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from waiting import eventually_async

from bench.dask_cluster import Cluster
from jobext.executors import Outcome, RunSpec
from jobext.executors.base import LogLine
from jobext.executors.dask import DaskExecutor

JOBS = """
import os, sys, time
import jobext

def hello(name="world"):
    jobext.progress(0.5, "half")
    print("hello", name)
    print("oops", file=sys.stderr)
    jobext.result_path(".txt").write_text("result of " + name)

def lines(count=100_000):
    for i in range(count):
        print(f"line {i}")

def paced(count=200, pause=0.01):
    for i in range(count):
        print(f"line {i}", flush=True)
        time.sleep(pause)

def big_result(mb=9):
    block = bytes(range(256)) * 4096
    with open(jobext.result_path(".bin"), "wb") as out:
        for _ in range(mb):
            out.write(block)

def looping(seconds=60):
    print("looping", os.getpid(), flush=True)
    end = time.time() + seconds
    i = 0
    while time.time() < end:
        jobext.checkpoint()
        time.sleep(0.05)
        i += 1
    print("done looping")

def stubborn(seconds=120):
    import signal
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    print("stubborn", os.getpid(), flush=True)
    time.sleep(seconds)
"""


class Recorder:
    """What the supervisor would hear; grants each run's first claim, refuses later ones."""

    def __init__(self) -> None:
        self.logs: dict[int, list[LogLine]] = {}
        self.messages: dict[int, list[dict[str, Any]]] = {}
        self.exits: dict[int, Outcome] = {}
        self.claims: dict[int, list[str]] = {}

    def on_logs(self, run_id: int, lines: list[LogLine]) -> None:
        self.logs.setdefault(run_id, []).extend(lines)

    async def log_room(self) -> None:
        pass

    def on_message(self, run_id: int, message: dict[str, Any]) -> None:
        self.messages.setdefault(run_id, []).append(message)

    def on_exit(self, run_id: int, outcome: Outcome) -> None:
        assert run_id not in self.exits, "an exit reported twice"
        self.exits[run_id] = outcome

    async def claim_attempt(self, run_id: int, worker: str) -> bool:
        self.claims.setdefault(run_id, []).append(worker)
        return len(self.claims[run_id]) == 1

    def text(self, run_id: int, stream: str = "stdout") -> list[str]:
        return [t for s, _, t in self.logs.get(run_id, []) if s == stream]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    cluster = Cluster(tmp_path_factory.mktemp("dask"), workers=2, slots=2)
    try:
        cluster.wait_for_workers()
        yield cluster
    finally:
        cluster.close()


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "daskjobs.py").write_text(textwrap.dedent(JOBS))
    return tmp_path


@contextlib.asynccontextmanager
async def connected(cluster: Cluster, **options: Any) -> AsyncIterator[DaskExecutor]:
    """A Dask executor on the cluster, with a topic of its own; its runs killed at the end."""
    executor = DaskExecutor(
        address=cluster.address, topic=f"jobext-test-{uuid_mod.uuid4().hex}", **options
    )
    await executor.connect()
    try:
        yield executor
    finally:
        for run_id in executor.running():
            executor.kill(run_id)
        await executor.wait_all(10.0)
        await executor.close()


_ids = iter(range(1, 1_000_000))


def spec(workdir: Path, target: str, args: Any = None, kind: str = "python") -> RunSpec:
    return RunSpec(
        run_id=next(_ids),
        uuid=str(uuid_mod.uuid4()),
        job="j",
        kind=kind,
        target=target,
        args=args if args is not None else {},
        result_dir=workdir / "results" / "run",
        cwd=str(workdir),
    )


async def finish(
    executor: DaskExecutor, events: Recorder, run: RunSpec, timeout: float = 60
) -> Outcome:
    await executor.start(run, events)
    return await eventually_async(lambda: events.exits.get(run.run_id), timeout=timeout)


async def test_a_python_job_reports_logs_progress_and_its_result_file(
    cluster: Cluster, workdir: Path
) -> None:
    async with connected(cluster) as executor:
        events = Recorder()
        run = spec(workdir, "daskjobs:hello", {"name": "dask"})
        outcome = await finish(executor, events, run)
        assert outcome.end is not None and outcome.end["status"] == "succeeded", outcome
        assert events.text(run.run_id) == ["hello dask"]
        assert events.text(run.run_id, "stderr") == ["oops"]
        kinds = [m["t"] for m in events.messages[run.run_id]]
        assert "progress" in kinds and "result" in kinds
        result = next(m for m in events.messages[run.run_id] if m["t"] == "result")
        # The path names the server's copy, which arrived before the exit was reported.
        assert Path(result["path"]) == run.result_dir / "result.txt"
        assert (run.result_dir / "result.txt").read_text() == "result of dask"
        assert len(events.claims[run.run_id]) == 1


async def test_a_long_log_arrives_complete_and_in_order(cluster: Cluster, workdir: Path) -> None:
    async with connected(cluster) as executor:
        events = Recorder()
        run = spec(workdir, "daskjobs:lines", {"count": 100_000})
        outcome = await finish(executor, events, run, timeout=120)
        assert outcome.end is not None and outcome.end["status"] == "succeeded"
        assert events.text(run.run_id) == [f"line {i}" for i in range(100_000)]


async def test_a_large_result_is_streamed_back_in_chunks(cluster: Cluster, workdir: Path) -> None:
    async with connected(cluster, chunk_bytes=1 << 20) as executor:
        events = Recorder()
        run = spec(workdir, "daskjobs:big_result", {"mb": 9})
        outcome = await finish(executor, events, run)
        assert outcome.end is not None and outcome.end["status"] == "succeeded"
        data = (run.result_dir / "result.bin").read_bytes()
        assert data == (bytes(range(256)) * 4096) * 9

        # The worker forgets the run and deletes its copy.
        def gone() -> bool:
            return not list(cluster.tmp.glob(f"worker-*/**/jobext/{run.uuid}"))

        await eventually_async(gone, message="the worker's copy to be deleted")


async def test_pause_resume_and_graceful_stop_reach_the_process(
    cluster: Cluster, workdir: Path
) -> None:
    async with connected(cluster) as executor:
        events = Recorder()
        run = spec(workdir, "daskjobs:looping", {"seconds": 60})
        await executor.start(run, events)
        await eventually_async(lambda: events.text(run.run_id), message="the job to start")
        executor.pause(run.run_id)
        await eventually_async(
            lambda: any(m["t"] == "paused" for m in events.messages.get(run.run_id, [])),
            message="the job to pause",
        )
        executor.resume(run.run_id)
        await eventually_async(
            lambda: any(m["t"] == "resumed" for m in events.messages.get(run.run_id, [])),
            message="the job to resume",
        )
        executor.stop(run.run_id)
        outcome = await eventually_async(lambda: events.exits.get(run.run_id))
        assert outcome.end is not None and outcome.end["status"] == "stopped"


async def test_force_stop_kills_a_job_that_ignores_sigterm(cluster: Cluster, workdir: Path) -> None:
    async with connected(cluster) as executor:
        events = Recorder()
        run = spec(workdir, "daskjobs:stubborn")
        await executor.start(run, events)
        started = await eventually_async(
            lambda: events.text(run.run_id), message="the job to start"
        )
        pid = int(started[0].split()[1])
        executor.stop(run.run_id)
        executor.kill(run.run_id)
        outcome = await eventually_async(lambda: events.exits.get(run.run_id))
        assert outcome.returncode == -9
        await eventually_async(lambda: not _alive(pid), message=f"process {pid} to be gone")


async def test_a_shell_job_pauses_by_signal_and_stops(cluster: Cluster, workdir: Path) -> None:
    async with connected(cluster) as executor:
        events = Recorder()
        run = spec(workdir, "echo begun; sleep 60", kind="shell", args="")
        await executor.start(run, events)
        await eventually_async(lambda: events.text(run.run_id), message="the shell job to start")
        executor.pause(run.run_id)
        await eventually_async(
            lambda: any(m["t"] == "paused" for m in events.messages.get(run.run_id, [])),
            message="the shell job to be paused",
        )
        executor.stop(run.run_id)
        outcome = await eventually_async(lambda: events.exits.get(run.run_id))
        assert outcome.end is None or outcome.end.get("status") != "succeeded"


async def test_a_second_attempt_of_a_run_is_refused(cluster: Cluster, workdir: Path) -> None:
    async with connected(cluster) as executor:

        class RefuseAll(Recorder):
            async def claim_attempt(self, run_id: int, worker: str) -> bool:
                await super().claim_attempt(run_id, worker)
                return False

        events = RefuseAll()
        run = spec(workdir, "daskjobs:hello")
        outcome = await finish(executor, events, run)
        assert outcome.end is not None and outcome.end["status"] == "failed"
        assert not events.logs.get(run.run_id), "the process must not have started"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0]
    except OSError:
        return False
    return state != "Z"


async def test_lost_batches_are_filled_from_the_workers_spool(
    cluster: Cluster, workdir: Path
) -> None:
    async with connected(cluster) as executor:
        take = executor._on_event
        dropped: list[int] = []

        def lossy(event: tuple[float, Any]) -> None:
            message = event[1]
            # Every third batch never arrives, the last ones included.
            if message.get("t") == "b" and message["s"] % 3 == 0:
                dropped.append(message["s"])
                return
            take(event)

        executor._on_event = lossy  # type: ignore[method-assign]
        executor._subscribe(executor.client)
        events = Recorder()
        run = spec(workdir, "daskjobs:paced", {"count": 200})
        outcome = await finish(executor, events, run, timeout=120)
        assert dropped, "no batch was dropped: the test proves nothing"
        assert outcome.end is not None and outcome.end["status"] == "succeeded"
        assert events.text(run.run_id) == [f"line {i}" for i in range(200)]


async def test_a_client_that_reconnects_subscribes_again_and_catches_up(
    cluster: Cluster, workdir: Path
) -> None:
    async with connected(cluster) as executor:
        events = Recorder()
        run = spec(workdir, "daskjobs:looping", {"seconds": 4})
        await executor.start(run, events)
        await eventually_async(lambda: events.text(run.run_id), message="the job to start")
        # The scheduler connection drops: distributed reconnects, and forgets the topic.
        await executor.client.scheduler_comm.comm.close()
        outcome = await eventually_async(lambda: events.exits.get(run.run_id), timeout=60)
        assert outcome.end is not None and outcome.end["status"] == "succeeded", outcome
        assert events.text(run.run_id)[-1] == "done looping"
