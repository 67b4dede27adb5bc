"""The Dask executor: runs execute on a ``distributed`` cluster, through the relay on each worker.

Each run is one relay task (:func:`jobext.executors.dask.relay.relay`) submitted with the key
``jobext-<uuid>``, a ``jobext-slots`` resource when workers declare one, and the worker a batch
pinned it to. The relay asks this executor to claim its attempt before it starts the process;
the claim is made in the database by the supervisor (:class:`AttemptClaims`), so a task Dask
runs twice (a worker died, a task was resubmitted) never starts the run's process twice.

Events come as numbered batches on this server's topic (``Client.subscribe_topic``); a batch
that comes early is held until the ones before it arrive, and a gap is filled from the worker's
spool (``replay``). A watch loop, every ``poll_s`` while runs are live, subscribes again after
the client reconnected, asks each worker with live runs how far their events went (so batches
lost on the way, the last ones included, are fetched), and notices workers that left the
cluster: their runs end as failed ("the Dask worker ... is gone"), and the supervisor retries
them by their job's rules.

**Workers.** Given the database, the executor keeps the cluster's workers as jobext's workers
(:class:`~jobext.executors.dask.fleet.DaskFleet`): the watch loop polls the scheduler's list
every ``poll_s`` from the server's start, registers the workers that joined, heartbeats them,
signs off those that left. A run is placed only on workers that take runs (not draining), or on
the one a batch pinned it to; while none does, it waits here. The claim names the Dask worker's
id, which becomes the run's ``worker``; a claim refused because the worker was drained
meanwhile sends the run to another worker (a new task, key ``jobext-<uuid>-<n>``).

When a run's process ends, its result files are copied from the worker in chunks of
``chunk_bytes`` (``read_chunk``, written off the event loop) into the run's result directory on
this server before the exit is reported; then the worker forgets the run (``release``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid as uuid_mod
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from distributed import Client

from jobext.db.engine import Database
from jobext.executors.base import Executor, ExecutorEvents, Outcome, RunSpec
from jobext.executors.dask import relay as remote
from jobext.executors.dask.fleet import DaskFleet
from jobext.executors.dask.results import copy_result

log = logging.getLogger(__name__)

CHUNK_BYTES = 4 * 1024 * 1024


class AttemptClaims(Protocol):
    """What the relay's claim needs from the supervisor: the database's word."""

    async def claim_attempt(self, run_id: int, worker: str) -> bool:
        """``worker``: the Dask worker's id (its address when the executor has no database)."""


class _Remote:
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


class DaskExecutor(Executor):
    """Runs each job as a ``jobext.job.runner`` process on a Dask worker."""

    name = "dask"
    #: The runs' processes are not on this host: no server-side kernel pool, nor local paths.
    remote = True

    def __init__(
        self,
        *,
        address: str | None = None,
        cluster_factory: Callable[[], Any] | None = None,
        topic: str | None = None,
        max_log_bytes: int | None = None,
        slot_resource: str = "jobext-slots",
        poll_s: float = 1.0,
        chunk_bytes: int = CHUNK_BYTES,
        claim_timeout_s: float = 120.0,
        db: Database | None = None,
        heartbeat_s: float = 5.0,
    ):
        if not address and cluster_factory is None:
            raise ValueError("the Dask executor needs a scheduler address or a cluster factory")
        self.address = address
        self.cluster_factory = cluster_factory
        #: This server's topic: the relays of its runs publish their events there.
        self.topic = topic or f"jobext-{uuid_mod.uuid4().hex[:12]}"
        self.slot_resource = slot_resource
        self.poll_s = poll_s
        self.chunk_bytes = chunk_bytes
        self.settings = {"max_log_bytes": max_log_bytes, "claim_timeout_s": claim_timeout_s}
        self.client: Any = None
        self.cluster: Any = None
        self._connecting: asyncio.Lock | None = None
        self._runs: dict[int, _Remote] = {}
        self._by_uuid: dict[str, _Remote] = {}
        self._watch: asyncio.Task[None] | None = None
        self._wake_watch = asyncio.Event()
        self._comm: Any = None
        self._workers: dict[str, dict[str, Any]] = {}
        self._tasks: set[asyncio.Future[Any]] = set()
        #: The cluster's workers as rows of ``jobext_worker`` (with a database only).
        self.fleet = (
            DaskFleet(db, slot_resource=slot_resource, heartbeat_s=heartbeat_s)
            if db is not None
            else None
        )
        self._identity: dict[str, Any] = {}

    # ------------------------------------------------------------------ the client

    async def connect(self) -> Any:
        """The asynchronous client on this event loop, connected (once) and subscribed."""
        if self.client is not None:
            return self.client
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:
            if self.client is not None:
                return self.client
            address: Any = self.address
            if self.cluster_factory is not None:
                made = self.cluster_factory()
                if asyncio.iscoroutine(made):
                    made = await made
                if isinstance(made, str):
                    address = made
                else:
                    self.cluster = made
                    address = made
            client = await Client(  # type: ignore[no-untyped-call]
                address, asynchronous=True, set_as_default=False
            )
            await client.register_plugin(remote.RelayPlugin(), name=remote.PLUGIN)
            self._subscribe(client)
            self.client = client
            self._watch = asyncio.get_running_loop().create_task(self._watch_loop())
            if self.fleet is not None:
                await self.fleet.sync(client, await self._read_identity(client))
        return client

    def open(self) -> None:
        """Connect to the scheduler now (not at the first run), so that its workers are listed
        from the start; a cluster the factory makes is still made at the first run."""
        if self.address and self.fleet is not None:
            self._spawn(self.connect())

    def placeable_workers(self) -> set[str]:
        return self.fleet.open_ids() if self.fleet is not None else set()

    def _subscribe(self, client: Any) -> None:
        self._comm = client.scheduler_comm
        client.subscribe_topic(self.topic, self._on_event)

    async def workers(self) -> dict[str, dict[str, Any]]:
        """The scheduler's workers: address → identity (name, resources, metrics, ...)."""
        await self._read_identity(await self.connect())
        return self._workers

    async def _read_identity(self, client: Any) -> dict[str, Any]:
        identity: dict[str, Any] = await client.scheduler.identity(n_workers=-1)
        self._identity = identity
        self._workers = dict(identity.get("workers", {}))
        return identity

    # ------------------------------------------------------------------ the interface

    async def start(self, spec: RunSpec, events: ExecutorEvents) -> int | None:
        await self.connect()
        payload = spec.payload()
        payload["cwd"] = spec.cwd
        if spec.kind == "notebook" and spec.options.get("path"):
            options = dict(payload["options"])
            options["notebook_text"] = await asyncio.to_thread(
                Path(options["path"]).read_text, encoding="utf-8"
            )
            options["kernel"] = None
            payload["options"] = options
        if not self._workers:
            await self.workers()
        run = _Remote(spec, events)
        run.payload = payload
        self._runs[spec.run_id] = run
        self._by_uuid[spec.uuid] = run
        await self._submit(run)
        self._wake_watch.set()
        return None

    async def _submit(self, run: _Remote) -> None:
        """Submit the run's relay task to the workers that take runs (the one it is pinned
        to); while none does, it waits (the watch submits it)."""
        spec = run.spec
        workers: list[str] | None = [spec.worker] if spec.worker else None
        if self.fleet is not None:
            closed = await self.fleet.read_closed()
            if spec.worker:
                address = self.fleet.address_of(spec.worker)
                if address is None:
                    error = f"its Dask worker {spec.worker} is not in the cluster"
                    self._end(run, Outcome(None, {"t": "end", "status": "failed", "error": error}))
                    return
                workers = [address] if spec.worker not in closed else []
            else:
                # Unrestricted while every worker takes runs: workers that join may take it.
                workers = self.fleet.open_addresses() if closed else None
            if workers == []:
                run.waiting = True
                return
        declared = any(
            self.slot_resource in (w.get("resources") or {}) for w in self._workers.values()
        )
        run.waiting = False
        run.attempts += 1
        key = f"jobext-{spec.uuid}" + (f"-{run.attempts}" if run.attempts > 1 else "")
        run.future = self.client.submit(
            remote.relay,
            run.payload,
            self.topic,
            self.settings,
            key=key,
            pure=False,
            resources={self.slot_resource: 1} if declared else None,
            workers=workers,
            allow_other_workers=False,
        )
        self._spawn(self._follow_task(run, run.future))

    def pause(self, run_id: int) -> None:
        self._steer(run_id, "pause")

    def resume(self, run_id: int) -> None:
        self._steer(run_id, "resume")

    def stop(self, run_id: int) -> None:
        run = self._runs.get(run_id)
        if run is not None and run.worker is None and not run.claiming:
            # Not started anywhere yet: it never will be.
            self._spawn(self._cancel(run))
            return
        self._steer(run_id, "stop")

    def kill(self, run_id: int) -> None:
        run = self._runs.get(run_id)
        if run is not None and run.worker is None and not run.claiming:
            self._spawn(self._cancel(run))
            return
        self._steer(run_id, "kill")
        if run is not None:
            self.kill_leftovers(run.spec.uuid)

    def kill_leftovers(self, uuid: str) -> None:
        self._spawn(self._kill_everywhere(uuid))

    def running(self) -> list[int]:
        return list(self._runs)

    async def wait_all(self, timeout: float) -> None:
        waiters: list[asyncio.Future[Any]] = [
            asyncio.ensure_future(r.done.wait()) for r in self._runs.values()
        ]
        waiters += list(self._tasks)
        if waiters:
            await asyncio.wait(waiters, timeout=timeout)
        for waiter in waiters:
            if not waiter.done():
                waiter.cancel()

    async def close(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5.0)
        if self.client is not None:
            with contextlib.suppress(Exception):
                self.client.unsubscribe_topic(self.topic)
            await self.client.close()
            self.client = None
        if self.cluster is not None:
            closing = self.cluster.close()
            if asyncio.iscoroutine(closing) or asyncio.isfuture(closing):
                await closing
            self.cluster = None

    # ------------------------------------------------------------------ events

    def _spawn(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("jobext: Dask executor task failed", exc_info=task.exception())

    def _on_event(self, event: tuple[float, Any]) -> None:
        message = event[1]
        if not isinstance(message, dict):
            return
        run = self._by_uuid.get(message.get("u", ""))
        if run is None:
            if message.get("t") == "claim":
                # A run this server does not relay (ended, or never its own): refuse it.
                self._spawn(self._answer(message["w"], message["u"], "refuse", "not running"))
            return
        if message.get("t") == "claim":
            if not run.claiming and run.worker is None:
                run.claiming = True
                self._spawn(self._claim(run, message["w"]))
            elif run.worker is not None and run.worker != message["w"]:
                self._spawn(self._answer(message["w"], run.spec.uuid, "refuse", "claimed"))
            elif run.worker is not None:
                # The grant was lost on the way: the same attempt asks again.
                self._spawn(self._answer(run.worker, run.spec.uuid, "grant"))
        elif message.get("t") == "b":
            self._take_batch(run, message)

    async def _claim(self, run: _Remote, worker: str) -> None:
        claims = getattr(run.events, "claim_attempt", None)
        worker_id = await self._worker_id(worker)
        granted = True if claims is None else await claims(run.spec.run_id, worker_id)
        if run.done.is_set():
            granted = False
        if not granted and self.fleet is not None and worker_id in await self.fleet.read_closed():
            # Drained (or gone) since the task was submitted: another worker starts it.
            run.claiming = False
            await self._answer(worker, run.spec.uuid, "refuse", "the worker takes no new runs")
            if not run.done.is_set():
                await self._submit(run)
            return
        if granted:
            run.worker = worker
            run.claiming = False
            await self._answer(worker, run.spec.uuid, "grant")
            for command in run.pending:
                await self._answer(worker, run.spec.uuid, command)
            run.pending.clear()
            return
        run.claiming = False
        await self._answer(worker, run.spec.uuid, "refuse", "the run is no longer to be started")
        if run.worker is None:
            end = {"t": "end", "status": "failed", "error": "the run was not started"}
            self._end(run, Outcome(None, end))

    async def _worker_id(self, address: str) -> str:
        """The id of the Dask worker at ``address`` (registered now if it was not yet); its
        address when there is no database."""
        if self.fleet is None:
            return address
        if self.fleet.id_of(address) is None:
            await self.fleet.sync(self.client, await self._read_identity(self.client))
        return self.fleet.id_of(address) or address

    async def _answer(
        self, worker: str, uuid: str, command: str, argument: str | None = None
    ) -> bool:
        try:
            reply = await self.client.run(
                remote.control, uuid, command, argument, workers=[worker], on_error="return"
            )
        except Exception as exc:
            log.info("jobext: %s to run %s on %s not delivered: %s", command, uuid, worker, exc)
            return False
        return reply.get(worker) is True

    def _steer(self, run_id: int, command: str) -> None:
        run = self._runs.get(run_id)
        if run is None:
            return
        if run.worker is None:
            run.pending.append(command)
            return
        self._spawn(self._answer(run.worker, run.spec.uuid, command))

    def _take_batch(self, run: _Remote, batch: dict[str, Any]) -> None:
        seq = int(batch["s"])
        if seq < run.next_seq:
            return
        run.ahead[seq] = batch
        while run.next_seq in run.ahead:
            self._apply(run, run.ahead.pop(run.next_seq))
            run.next_seq += 1
        if run.ahead and not run.replaying:
            self._spawn(self._replay(run))

    async def _replay(self, run: _Remote) -> None:
        """Fetch from the worker's spool the batches this server has not seen."""
        if run.worker is None or run.replaying:
            return
        run.replaying = True
        try:
            reply = await self.client.run(
                remote.replay, run.spec.uuid, run.next_seq - 1, workers=[run.worker]
            )
            for batch in reply.get(run.worker) or []:
                self._take_batch(run, batch)
        except Exception as exc:
            log.info("jobext: replay of run %s failed: %s", run.spec.uuid, exc)
        finally:
            run.replaying = False

    def _apply(self, run: _Remote, batch: dict[str, Any]) -> None:
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

    async def _finish(self, run: _Remote, exit_event: list[Any]) -> None:
        _, returncode, end, files = exit_event
        try:
            assert run.worker is not None or not files
            for name, size in files:
                await copy_result(
                    self.client,
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
        self._end(run, Outcome(returncode, end))
        if run.worker is not None:
            with contextlib.suppress(Exception):
                await self.client.run(remote.release, run.spec.uuid, workers=[run.worker])

    def _end(self, run: _Remote, outcome: Outcome) -> None:
        """Report the run's end (once) and forget it."""
        if run.done.is_set():
            return
        run.done.set()
        self._runs.pop(run.spec.run_id, None)
        self._by_uuid.pop(run.spec.uuid, None)
        run.events.on_exit(run.spec.run_id, outcome)

    async def _follow_task(self, run: _Remote, future: Any) -> None:
        """Await the relay task: a refused or failed attempt of a run never granted ends it
        (unless the run was sent elsewhere meanwhile: a task of its own follows that).

        Once an attempt was granted, the run's end comes from its events or the watch: the task
        may be cancelled meanwhile (the client reconnected) while the process goes on."""
        from distributed.client import FutureCancelledError

        try:
            result = await future
        except FutureCancelledError:
            result = {"cancelled": True}
        except Exception as exc:
            result = {"refused": f"the Dask cluster could not run it: {type(exc).__name__}: {exc}"}
        if run.done.is_set() or run.worker is not None or run.claiming or run.future is not future:
            return
        if result.get("cancelled"):
            if self.client is not None and self.client.status == "running":
                end = {"t": "end", "status": "stopped", "error": "stopped before it started"}
                self._end(run, Outcome(None, end))
        elif result.get("refused"):
            error = f"the Dask worker did not start it: {result['refused']}"
            self._end(run, Outcome(None, {"t": "end", "status": "failed", "error": error}))

    async def _cancel(self, run: _Remote) -> None:
        if run.future is not None:
            await run.future.cancel()
        if run.worker is None and not run.claiming:
            end = {"t": "end", "status": "stopped", "error": "stopped before it started"}
            self._end(run, Outcome(None, end))

    async def _kill_everywhere(self, uuid: str) -> None:
        client = await self.connect()
        with contextlib.suppress(Exception):
            await client.run(remote.kill_leftovers, uuid, on_error="return")

    # ------------------------------------------------------------------ the watch

    async def _watch_loop(self) -> None:
        while True:
            if not self._runs and self.fleet is None:
                self._wake_watch.clear()
                await self._wake_watch.wait()
            await asyncio.sleep(self.poll_s)
            try:
                await self._check()
            except Exception as exc:
                log.info("jobext: Dask watch: %s", exc)

    async def _check(self) -> None:
        client = self.client
        if client is None or client.status != "running":
            return
        if client.scheduler_comm is not self._comm:
            # Reconnected: topics are not re-subscribed by distributed itself.
            self._subscribe(client)
        workers = await self.workers()
        if self.fleet is not None:
            await self.fleet.sync(client, self._identity)
            for waiting in [r for r in self._runs.values() if r.waiting]:
                await self._submit(waiting)
        by_worker: dict[str, list[_Remote]] = {}
        for run in list(self._runs.values()):
            if run.worker is None:
                continue
            if run.worker not in workers:
                self._worker_gone(run)
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
                        self._worker_gone(run, "lost the run")
                    continue
                behind = state["seq"] >= run.next_seq
                if behind and state["seq"] == run.seen_seq and not run.replaying:
                    self._spawn(self._replay(run))
                run.seen_seq = state["seq"]

    def _worker_gone(self, run: _Remote, what: str = "is gone") -> None:
        if run.finishing is not None:
            return
        error = f"the Dask worker {run.worker} running it {what}"
        run.events.on_logs(run.spec.run_id, [("jobext", "ERROR", error)])
        self._end(run, Outcome(None, {"t": "end", "status": "failed", "error": error}))
