"""The worker's end of the Dask executor: a worker plugin and the relay task.

The plugin (:class:`RelayPlugin`, registered on every worker by the server's client) holds the
registry of the runs that this worker executes, and a :class:`~jobext.executors.LocalExecutor`
running on the worker's event loop: each run is the usual ``python -m jobext.job.runner``
process (forked by the fork server where it can), with its log budget, process group and
leftover sweep exactly as on the Jupyter server's own host.

The relay task (:func:`relay`, one Dask task per run) asks the server to claim the attempt in the
database (``claim`` on the server's topic; the answer comes back through :func:`control`),
starts the process only once granted, and returns when the process has ended. What the process
reports becomes numbered batches (``{"t": "b", "u": uuid, "s": seq, "e": [events]}``) published
with ``Worker.log_event`` on the server's topic every ``FLUSH_S`` seconds or once ``FLUSH_BYTES``
have gathered, and appended to a spool file on the worker so that a batch the server missed can
be sent again (:func:`replay`). Events: ``["l", [[stream, level, text], ...]]`` log lines,
``["m", message]`` a message of the job, ``["x", returncode, end, files]`` the exit, with the
names and sizes of the result files left in the run's result directory.

The server steers the process with ``Client.run`` on this worker: :func:`control` (grant, refuse,
pause, resume, stop, kill, retarget), :func:`status`, :func:`replay`, :func:`read_chunk` (result
files, in chunks) and :func:`release` (forget the run and delete its files); :func:`describe`
gives the worker's host and its stats (psutil, sampled off the worker's loop) for its row in
``GET /workers``. Nothing here touches the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import secrets
import shutil
import threading
import time
from pathlib import Path
from typing import Any

from distributed import WorkerPlugin, get_worker

from jobext.executors.base import LogLine, Outcome, RunSpec
from jobext.executors.local import LocalExecutor
from jobext.executors.sweep import kill_run_processes
from jobext.workers.host import Host, HostSampler

PLUGIN = "jobext"
FLUSH_S = 0.05
FLUSH_BYTES = 512 * 1024
#: How often a claim is sent again while the server has not answered.
CLAIM_RESEND_S = 5.0
#: An ended run whose server never released it is deleted after this long.
KEEP_ENDED_S = 3600.0


class WorkerRun:
    """One run on this worker: its events, numbered and spooled, and its claim."""

    def __init__(self, plugin: RelayPlugin, uuid: str, topic: str, directory: Path):
        self.plugin = plugin
        self.uuid = uuid
        self.topic = topic
        self.dir = directory
        self.local_id = 0
        self.seq = 0
        self.pending: list[list[Any]] = []
        self.pending_bytes = 0
        self.timer: asyncio.TimerHandle | None = None
        self.offsets: list[int] = []
        self.spool = open(directory / "events.jsonl", "ab+")  # noqa: SIM115 (kept open)
        self.answer: str | None = None
        self.answered = threading.Event()
        self.ended = threading.Event()
        self.ended_at: float | None = None
        self.returncode: int | None = None

    # ExecutorEvents of the worker's LocalExecutor, on the worker's event loop.

    def on_logs(self, run_id: int, lines: list[LogLine]) -> None:
        self._add(["l", [list(line) for line in lines]], sum(len(t) + 16 for _, _, t in lines))

    async def log_room(self) -> None:
        pass  # the spool on disk takes what the server has not fetched yet

    def on_message(self, run_id: int, message: dict[str, Any]) -> None:
        self._add(["m", message], 256)

    def on_exit(self, run_id: int, outcome: Outcome) -> None:
        results = self.dir / "results"
        files = (
            [[p.name, p.stat().st_size] for p in sorted(results.iterdir()) if p.is_file()]
            if results.is_dir()
            else []
        )
        self.returncode = outcome.returncode
        self._add(["x", outcome.returncode, outcome.end, files], 0)
        self.flush()
        self.ended_at = time.monotonic()
        self.ended.set()

    def _add(self, event: list[Any], size: int) -> None:
        self.pending.append(event)
        self.pending_bytes += size
        if self.pending_bytes >= FLUSH_BYTES:
            self.flush()
        elif self.timer is None:
            self.timer = asyncio.get_running_loop().call_later(FLUSH_S, self.flush)

    def flush(self) -> None:
        """Number, spool and publish what gathered."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if not self.pending:
            return
        self.seq += 1
        batch = {"t": "b", "u": self.uuid, "s": self.seq, "e": self.pending}
        self.pending, self.pending_bytes = [], 0
        self.offsets.append(self.spool.seek(0, os.SEEK_END))
        self.spool.write(json.dumps(batch, ensure_ascii=False).encode() + b"\n")
        self.spool.flush()
        self.plugin.publish(self.topic, batch)

    def batches_after(self, seq: int) -> list[dict[str, Any]]:
        """The spooled batches numbered above ``seq``."""
        if seq >= len(self.offsets):
            return []
        self.spool.seek(self.offsets[max(seq, 0)])
        return [json.loads(line) for line in self.spool.read().splitlines()]

    def close(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
        with contextlib.suppress(OSError):
            self.spool.close()


class RelayPlugin(WorkerPlugin):
    """The registry of this worker's runs and the executor that runs their processes."""

    name = PLUGIN
    idempotent = True

    def __init__(self) -> None:
        self.runs: dict[str, WorkerRun] = {}
        self.executor: LocalExecutor | None = None
        self.worker: Any = None
        self.root = Path()
        self._ids = 0
        self.sampler: HostSampler | None = None
        self.host: Host | None = None

    def setup(self, worker: Any) -> None:
        self.worker = worker
        self.root = Path(worker.local_directory) / "jobext"
        self.root.mkdir(parents=True, exist_ok=True)

    async def teardown(self, worker: Any) -> None:
        # The worker is closing: no process of a run may outlive it.
        if self.executor is not None:
            for run_id in self.executor.running():
                self.executor.kill(run_id)
            await self.executor.wait_all(5.0)
            await self.executor.close()
        for run in self.runs.values():
            run.close()

    def publish(self, topic: str, message: dict[str, Any]) -> None:
        self.worker.log_event(topic, message)

    def sweep(self) -> None:
        """Forget ended runs nobody released within ``KEEP_ENDED_S``."""
        now = time.monotonic()
        for uuid, run in list(self.runs.items()):
            if run.ended_at is not None and now - run.ended_at > KEEP_ENDED_S:
                self.release(uuid)

    def release(self, uuid: str) -> bool:
        run = self.runs.pop(uuid, None)
        if run is None:
            return False
        run.close()
        shutil.rmtree(run.dir, ignore_errors=True)
        return True

    # -- in the relay task's thread

    def relay(
        self, payload: dict[str, Any], topic: str, settings: dict[str, Any]
    ) -> dict[str, Any]:
        uuid = payload["uuid"]
        if uuid in self.runs:
            return {"refused": "this worker holds the run already"}
        self.sweep()
        directory = self.root / uuid
        directory.mkdir(parents=True, exist_ok=True)
        run = WorkerRun(self, uuid, topic, directory)
        self.runs[uuid] = run
        key = secrets.token_hex(4)
        claim = {
            "t": "claim",
            "u": uuid,
            "w": self.worker.address,
            "n": str(self.worker.name),
            "k": key,
        }
        deadline = time.monotonic() + float(settings.get("claim_timeout_s", 120.0))
        while run.answer is None and time.monotonic() < deadline:
            self.publish(run.topic, claim)
            run.answered.wait(CLAIM_RESEND_S)
        if run.answer != "grant":
            self.release(uuid)
            return {"refused": run.answer or "the server did not answer the claim"}
        spec = self._local_spec(payload, run)
        loop = self.worker.loop.asyncio_loop
        future = asyncio.run_coroutine_threadsafe(self._start(spec, run, settings), loop)
        try:
            future.result()
        except BaseException as exc:
            end = {"t": "end", "status": "failed", "error": f"could not start the job: {exc}"}
            loop.call_soon_threadsafe(run.on_exit, 0, Outcome(None, end))
        run.ended.wait()
        return {"seq": run.seq, "returncode": run.returncode, "worker": self.worker.address}

    def _local_spec(self, payload: dict[str, Any], run: WorkerRun) -> RunSpec:
        """The run as this worker executes it: results in its own directory, the server's
        working directory where this worker has it, a notebook from the text the server sent."""
        options = dict(payload.get("options") or {})
        text = options.pop("notebook_text", None)
        if text is not None:
            path = run.dir / "notebook" / Path(options["path"]).name
            path.parent.mkdir(exist_ok=True)
            path.write_text(text, encoding="utf-8")
            options["path"] = str(path)
            options["kernel"] = None
        cwd = payload["cwd"] if os.path.isdir(payload["cwd"]) else str(run.dir)
        self._ids += 1
        run.local_id = self._ids
        return RunSpec(
            run_id=run.local_id,
            uuid=payload["uuid"],
            job=payload["job"],
            kind=payload["kind"],
            target=payload["target"],
            args=payload["args"],
            result_dir=run.dir / "results",
            cwd=cwd,
            options=options,
            batch=payload.get("batch"),
        )

    async def _start(self, spec: RunSpec, run: WorkerRun, settings: dict[str, Any]) -> None:
        if self.executor is None:
            self.executor = LocalExecutor()
        self.executor.max_log_bytes = settings.get("max_log_bytes")
        await self.executor.start(spec, run)

    # -- on the worker's event loop (Client.run)

    def control(self, uuid: str, command: str, argument: str | None = None) -> bool:
        run = self.runs.get(uuid)
        if run is None:
            return False
        if command in ("grant", "refuse"):
            run.answer = command if command == "grant" else (argument or "refused")
            run.answered.set()
            return True
        if command == "retarget" and argument:
            run.topic = argument
            return True
        executor = self.executor
        if executor is None or run.local_id not in executor.running():
            return False
        steer = {
            "pause": executor.pause,
            "resume": executor.resume,
            "stop": executor.stop,
            "kill": executor.kill,
        }.get(command)
        if steer is None:
            return False
        steer(run.local_id)
        return True


def _plugin(dask_worker: Any) -> RelayPlugin:
    plugin: RelayPlugin = dask_worker.plugins[PLUGIN]
    return plugin


def relay(payload: dict[str, Any], topic: str, settings: dict[str, Any]) -> dict[str, Any]:
    """The Dask task of one run: claim, start the process, relay its events until it ends.

    Returns ``{"seq", "returncode", "worker"}``, or ``{"refused": reason}`` when the server did
    not grant this attempt (another attempt claimed the run, or it is no longer running).
    """
    return _plugin(get_worker()).relay(payload, topic, settings)


def control(uuid: str, command: str, argument: str | None = None, dask_worker: Any = None) -> bool:
    """Steer run ``uuid`` on this worker; False when the worker holds no such process."""
    return _plugin(dask_worker).control(uuid, command, argument)


def status(uuids: list[str], dask_worker: Any = None) -> dict[str, dict[str, Any]]:
    """``{uuid: {"seq": last batch number, "ended": bool}}`` of the runs this worker holds."""
    runs = _plugin(dask_worker).runs
    return {u: {"seq": runs[u].seq, "ended": runs[u].ended.is_set()} for u in uuids if u in runs}


def replay(uuid: str, after: int, dask_worker: Any = None) -> list[dict[str, Any]]:
    """The batches of run ``uuid`` numbered above ``after``, read back from the spool."""
    run = _plugin(dask_worker).runs.get(uuid)
    return run.batches_after(after) if run is not None else []


async def read_chunk(
    uuid: str, name: str, offset: int, size: int, dask_worker: Any = None
) -> bytes | None:
    """``size`` bytes at ``offset`` of result file ``name`` of run ``uuid`` (None: no file)."""
    run = _plugin(dask_worker).runs.get(uuid)
    if run is None or "/" in name or name.startswith("."):
        return None
    path = run.dir / "results" / name

    def read() -> bytes | None:
        try:
            with open(path, "rb") as handle:
                handle.seek(offset)
                return handle.read(size)
        except OSError:
            return None

    return await asyncio.to_thread(read)


def release(uuid: str, dask_worker: Any = None) -> bool:
    """Forget run ``uuid`` and delete its files on this worker."""
    return _plugin(dask_worker).release(uuid)


async def kill_leftovers(uuid: str) -> int:
    """SIGKILL every process on this worker's host that carries run ``uuid``."""
    return await asyncio.to_thread(kill_run_processes, uuid)


async def describe(dask_worker: Any = None) -> dict[str, Any]:
    """This worker's host (``Host`` fields) and its stats now (``HostSampler``: the machine,
    and the worker's process tree with its runs' processes)."""
    plugin = _plugin(dask_worker)

    def sample() -> dict[str, Any]:
        if plugin.sampler is None or plugin.host is None:
            plugin.host = Host.this()
            plugin.sampler = HostSampler()
        return {"host": dataclasses.asdict(plugin.host), "stats": plugin.sampler.sample()}

    return await asyncio.to_thread(sample)
