"""The Dask executor: runs execute on a ``distributed`` cluster, through the relay on each worker.

Each run is one relay task (:func:`jobext.executors.dask.relay.relay`) submitted with the key
``jobext-<uuid>``, a ``jobext-slots`` resource when workers declare one, and the worker a batch
pinned it to. The relay asks this executor to claim its attempt before it starts the process;
the claim is made in the database by the supervisor
(:class:`~jobext.executors.dask.attempts.AttemptClaims`), so a task Dask runs twice (a worker
died, a task was resubmitted) never starts the run's process twice.

Events come as numbered batches on this server's topic, put in order by
:class:`~jobext.executors.dask.remote_runs.RelayedRuns`. A watch loop, every ``poll_s`` while
runs are live, subscribes again after the client reconnected, asks each worker with live runs
how far their events went, and notices workers that left the cluster: their runs end as failed,
and the supervisor retries them by their job's rules.

**Workers.** Given the database, the executor keeps the cluster's workers as jobext's workers
(:class:`~jobext.executors.dask.fleet.DaskFleet`): the watch loop polls the scheduler's list
every ``poll_s`` from the server's start, registers the workers that joined, heartbeats them,
signs off those that left. A run is placed only on workers that take runs (not draining), or on
the one a batch pinned it to; while none does, it waits here. The claim names the Dask worker's
id, which becomes the run's ``worker``; a claim refused because the worker was drained
meanwhile sends the run to another worker (a new task, key ``jobext-<uuid>-<n>``).

When a run's process ends, its result files are copied from the worker into the run's result
directory on this server before the exit is reported.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid as uuid_mod
from collections.abc import Callable
from pathlib import Path
from typing import Any

from distributed import Client

from jobext.db.engine import Database
from jobext.executors.base import Executor, ExecutorEvents, Outcome, RunSpec
from jobext.executors.dask import relay as remote
from jobext.executors.dask.attempts import Attempts
from jobext.executors.dask.fleet import DaskFleet
from jobext.executors.dask.remote_runs import RelayedRuns, RemoteRun

log = logging.getLogger(__name__)

CHUNK_BYTES = 4 * 1024 * 1024


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
        self.settings = {"max_log_bytes": max_log_bytes, "claim_timeout_s": claim_timeout_s}
        self.client: Any = None
        self.cluster: Any = None
        self._connecting: asyncio.Lock | None = None
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
        #: The runs this executor relays, and their events.
        self.relayed = RelayedRuns(
            client=lambda: self.client, spawn=self._spawn, chunk_bytes=chunk_bytes
        )
        #: Claims of the relays answered, commands delivered.
        self.attempts = Attempts(
            client=lambda: self.client,
            fleet=self.fleet,
            read_identity=self._read_identity,
            submit=self._submit,
            end=self.relayed.end,
            spawn=self._spawn,
        )

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
        run = RemoteRun(spec, events)
        run.payload = payload
        self.relayed.add(run)
        await self._submit(run)
        self._wake_watch.set()
        return None

    async def _submit(self, run: RemoteRun) -> None:
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
                    self.relayed.end(
                        run, Outcome(None, {"t": "end", "status": "failed", "error": error})
                    )
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
        run = self.relayed.by_id.get(run_id)
        if run is not None and run.worker is None and not run.claiming:
            # Not started anywhere yet: it never will be.
            self._spawn(self._cancel(run))
            return
        self._steer(run_id, "stop")

    def kill(self, run_id: int) -> None:
        run = self.relayed.by_id.get(run_id)
        if run is not None and run.worker is None and not run.claiming:
            self._spawn(self._cancel(run))
            return
        self._steer(run_id, "kill")
        if run is not None:
            self.kill_leftovers(run.spec.uuid)

    def kill_leftovers(self, uuid: str) -> None:
        self._spawn(self._kill_everywhere(uuid))

    def running(self) -> list[int]:
        return list(self.relayed.by_id)

    async def wait_all(self, timeout: float) -> None:
        waiters: list[asyncio.Future[Any]] = [
            asyncio.ensure_future(r.done.wait()) for r in self.relayed.by_id.values()
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
        run = self.relayed.by_uuid.get(message.get("u", ""))
        if run is None:
            if message.get("t") == "claim":
                # A run this server does not relay (ended, or never its own): refuse it.
                self._spawn(
                    self.attempts.answer(message["w"], message["u"], "refuse", "not running")
                )
            return
        if message.get("t") == "claim":
            self.attempts.on_claim(run, message["w"])
        elif message.get("t") == "b":
            self.relayed.take_batch(run, message)

    def _steer(self, run_id: int, command: str) -> None:
        run = self.relayed.by_id.get(run_id)
        if run is not None:
            self.attempts.steer(run, command)

    async def _follow_task(self, run: RemoteRun, future: Any) -> None:
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
                self.relayed.end(run, Outcome(None, end))
        elif result.get("refused"):
            error = f"the Dask worker did not start it: {result['refused']}"
            self.relayed.end(run, Outcome(None, {"t": "end", "status": "failed", "error": error}))

    async def _cancel(self, run: RemoteRun) -> None:
        if run.future is not None:
            await run.future.cancel()
        if run.worker is None and not run.claiming:
            end = {"t": "end", "status": "stopped", "error": "stopped before it started"}
            self.relayed.end(run, Outcome(None, end))

    async def _kill_everywhere(self, uuid: str) -> None:
        client = await self.connect()
        with contextlib.suppress(Exception):
            await client.run(remote.kill_leftovers, uuid, on_error="return")

    # ------------------------------------------------------------------ the watch

    async def _watch_loop(self) -> None:
        while True:
            if not self.relayed.by_id and self.fleet is None:
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
            for waiting in [r for r in self.relayed.by_id.values() if r.waiting]:
                await self._submit(waiting)
        await self.relayed.check(client, workers)
