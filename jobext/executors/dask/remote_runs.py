"""The runs a Dask executor relays, and their events.

Events come as numbered batches on this server's topic (``Client.subscribe_topic``); a batch
that comes early is held until the ones before it arrive, and a gap is filled from the worker's
spool (``replay``). The executor's watch asks each worker with live runs how far their events
went (so batches lost on the way, the last ones included, are fetched), and a run whose worker
left the cluster ends as failed ("the Dask worker ... is gone").

When a run's process ends, its result files are copied from the worker in chunks of
``chunk_bytes`` (``read_chunk``, written off the event loop) into the run's result directory on
this server before the exit is reported; then the worker forgets the run (``release``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jobext.executors.base import ExecutorEvents, Outcome, RunSpec
from jobext.executors.dask import relay as remote
from jobext.executors.dask.results import copy_result

log = logging.getLogger(__name__)


class RemoteRun:
    """A run this executor relays."""

    def __init__(self, spec: RunSpec, events: ExecutorEvents):
        self.spec = spec
        self.events = events
        self.future: Any = None
        self.payload: dict[str, Any] = {}
        #: The address of the worker whose attempt was granted (None until then).
        self.worker: str | None = None
        self.claiming = False
        self.next_seq = 1
        self.ahead: dict[int, dict[str, Any]] = {}
        self.replaying = False
        self.seen_seq = 0
        self.exit: list[Any] | None = None
        self.finishing: asyncio.Task[None] | None = None
        self.done = asyncio.Event()
        #: Commands sent before the attempt was granted, applied once it is.
        self.pending: list[str] = []
        #: Relay tasks submitted so far (one, unless a drained worker sent it elsewhere).
        self.attempts = 0
        #: No worker takes it now: submitted once one does.
        self.waiting = False


class RelayedRuns:
    """The runs an executor relays, by run id and by uuid: their events applied in order, their
    end reported once."""

    def __init__(
        self,
        *,
        client: Callable[[], Any],
        spawn: Callable[[Any], None],
        chunk_bytes: int,
    ):
        #: The executor's client now (it reconnects).
        self._client = client
        self._spawn = spawn
        self.chunk_bytes = chunk_bytes
        self.by_id: dict[int, RemoteRun] = {}
        self.by_uuid: dict[str, RemoteRun] = {}

    def add(self, run: RemoteRun) -> None:
        self.by_id[run.spec.run_id] = run
        self.by_uuid[run.spec.uuid] = run

    def take_batch(self, run: RemoteRun, batch: dict[str, Any]) -> None:
        seq = int(batch["s"])
        if seq < run.next_seq:
            return
        run.ahead[seq] = batch
        while run.next_seq in run.ahead:
            self._apply(run, run.ahead.pop(run.next_seq))
            run.next_seq += 1
        if run.ahead and not run.replaying:
            self._spawn(self.replay(run))

    async def replay(self, run: RemoteRun) -> None:
        """Fetch from the worker's spool the batches this server has not seen."""
        if run.worker is None or run.replaying:
            return
        run.replaying = True
        try:
            reply = await self._client().run(
                remote.replay, run.spec.uuid, run.next_seq - 1, workers=[run.worker]
            )
            for batch in reply.get(run.worker) or []:
                self.take_batch(run, batch)
        except Exception as exc:
            log.info("jobext: replay of run %s failed: %s", run.spec.uuid, exc)
        finally:
            run.replaying = False

    def _apply(self, run: RemoteRun, batch: dict[str, Any]) -> None:
        run_id = run.spec.run_id
        for event in batch["e"]:
            kind = event[0]
            if kind == "l":
                run.events.on_logs(run_id, [(s, level, text) for s, level, text in event[1]])
            elif kind == "m":
                message = event[1]
                if message.get("t") == "result" and message.get("path"):
                    # The file will be copied here before the run's end is reported.
                    name = Path(str(message["path"])).name
                    message = {**message, "path": str(run.spec.result_dir / name)}
                run.events.on_message(run_id, message)
            elif kind == "x" and run.finishing is None:
                run.exit = event
                run.finishing = asyncio.ensure_future(self._finish(run, event))

    async def _finish(self, run: RemoteRun, exit_event: list[Any]) -> None:
        _, returncode, end, files = exit_event
        try:
            assert run.worker is not None or not files
            for name, size in files:
                await copy_result(
                    self._client(),
                    str(run.worker),
                    run.spec.uuid,
                    name,
                    int(size),
                    run.spec.result_dir,
                    self.chunk_bytes,
                )
        except Exception as exc:
            log.warning("jobext: run %s: result files not copied: %s", run.spec.uuid, exc)
            line = ("jobext", "ERROR", f"the result files could not be copied from {run.worker}")
            run.events.on_logs(run.spec.run_id, [line])
        self.end(run, Outcome(returncode, end))
        if run.worker is not None:
            with contextlib.suppress(Exception):
                await self._client().run(remote.release, run.spec.uuid, workers=[run.worker])

    def end(self, run: RemoteRun, outcome: Outcome) -> None:
        """Report the run's end (once) and forget it."""
        if run.done.is_set():
            return
        run.done.set()
        self.by_id.pop(run.spec.run_id, None)
        self.by_uuid.pop(run.spec.uuid, None)
        run.events.on_exit(run.spec.run_id, outcome)

    async def check(self, client: Any, workers: dict[str, dict[str, Any]]) -> None:
        """Ask each worker with live runs how far their events went (replaying what was lost);
        runs on workers that left the cluster, or that lost the run, end as failed."""
        by_worker: dict[str, list[RemoteRun]] = {}
        for run in list(self.by_id.values()):
            if run.worker is None:
                continue
            if run.worker not in workers:
                self.worker_gone(run)
            else:
                by_worker.setdefault(run.worker, []).append(run)
        for address, runs in by_worker.items():
            reply = await client.run(
                remote.status, [r.spec.uuid for r in runs], workers=[address], on_error="return"
            )
            known = reply.get(address)
            if not isinstance(known, dict):
                continue
            for run in runs:
                state = known.get(run.spec.uuid)
                if state is None:
                    if run.exit is None:
                        self.worker_gone(run, "lost the run")
                    continue
                behind = state["seq"] >= run.next_seq
                if behind and state["seq"] == run.seen_seq and not run.replaying:
                    self._spawn(self.replay(run))
                run.seen_seq = state["seq"]

    def worker_gone(self, run: RemoteRun, what: str = "is gone") -> None:
        if run.finishing is not None:
            return
        error = f"the Dask worker {run.worker} running it {what}"
        run.events.on_logs(run.spec.run_id, [("jobext", "ERROR", error)])
        self.end(run, Outcome(None, {"t": "end", "status": "failed", "error": error}))
