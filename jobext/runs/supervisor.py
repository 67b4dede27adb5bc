"""The supervisor: claims queued runs (:mod:`jobext.runs.claims`) and starts them on the
executor, turns what their processes report into state changes (through the run manager),
enforces timeouts and stop grace periods, and steers processes to the status a request gave
their runs. It starts the server's heartbeat (:mod:`jobext.runs.upkeep`: its worker's row, the
runs it lost, retention). While the worker is draining it claims nothing.

Executor callbacks arrive on the event loop; whatever they need from the database is done in
tasks that await the database off the loop, one at a time per run, so a run's events keep their
order.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from sqlalchemy import update
from sqlmodel import Session

from jobext.db.tables import Job, Run
from jobext.errors import Conflict, JobExtError, NotFound
from jobext.executors import Executor, Outcome, RunSpec
from jobext.executors.base import LogLine
from jobext.kinds import registry as kinds
from jobext.runs.claims import claim_queued_runs
from jobext.runs.dispatch import ClaimAlong, Dispatcher
from jobext.runs.live import LiveRun
from jobext.runs.manager import RunManager
from jobext.runs.progress import ProgressReporter
from jobext.runs.retention import RetentionPacer
from jobext.runs.upkeep import Upkeep
from jobext.states import FINAL, RunStatus
from jobext.times import utcnow
from jobext.workers.heartbeats import accepts_runs
from jobext.workers.registry import WorkerRegistry

log = logging.getLogger(__name__)


class Supervisor:
    """Owns this server's running processes."""

    def __init__(
        self,
        runs: RunManager,
        executor: Executor,
        *,
        max_workers: int,
        cwd: str,
        stop_grace_s: float = 10.0,
        heartbeat_s: float = 5.0,
        dead_after_s: float = 60.0,
        retention_every_s: float = 600.0,
        host_name: str | None = None,
        worker_name: str | None = None,
    ):
        self.runs = runs
        self.db = runs.db
        self.hub = runs.hub
        self.executor = executor
        self.max_workers = max_workers
        self.cwd = cwd
        self.stop_grace_s = stop_grace_s
        self.dead_after_s = dead_after_s
        self.registry = WorkerRegistry(
            runs,
            executor,
            slots=max_workers,
            offline_after_s=dead_after_s,
            host_name=host_name,
            name=worker_name,
        )
        #: This server's worker id: the ``worker`` of the runs it claims.
        self.server_id = self.registry.worker_id
        self.live: dict[int, LiveRun] = {}
        self.dispatcher = Dispatcher(
            runs.db, claim=self._claim, free_slots=self.free_slots, launch=self._launch
        )
        self._tasks: list[asyncio.Task[Any]] = []
        self._chains: dict[int, asyncio.Task[Any]] = {}
        self.progress = ProgressReporter(runs.hub, runs.db, self.live)
        self.retention = RetentionPacer(runs)
        self.upkeep = Upkeep(self, heartbeat_s=heartbeat_s, retention_every_s=retention_every_s)
        runs.jobs.control = self

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Register this server's worker, settle what dead workers left, and start the loops."""
        await self.registry.register()
        await self.registry.settle_dead_workers()
        self.executor.open()
        self.hub.start()
        loop = asyncio.get_running_loop()
        self._tasks.append(loop.create_task(self.upkeep.loop()))
        self._tasks.append(loop.create_task(self.progress.loop()))
        self.wake()

    async def stop(self) -> None:
        """Stop every running job gracefully, flush their logs, and sign off."""
        self.dispatcher.close()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        for live in list(self.live.values()):
            live.shutdown = True
            live.applied = RunStatus.STOPPING
            self.runs.note(live.run_id, "the Jupyter server is shutting down; stopping")
            with contextlib.suppress(Conflict, NotFound):
                await self.runs.transition(live.run_id, RunStatus.STOPPING, action="stop")
            self.executor.stop(live.run_id)
        await self.executor.wait_all(self.stop_grace_s)
        for run_id in self.executor.running():
            self.executor.kill(run_id)
        await self.executor.wait_all(5.0)
        for chain in list(self._chains.values()):
            with contextlib.suppress(Exception):
                await chain
        await self.executor.close()
        await self.retention.close()
        await self.progress.save(force=True)
        await self.hub.stop()
        await self.registry.sign_off()

    # ------------------------------------------------------------------ dispatch

    def wake(self) -> None:
        """Look for startable queued runs soon (calls coalesce)."""
        self.dispatcher.wake()

    def claim_along(self) -> ClaimAlong | None:
        """A claim of queued runs to make inside another write transaction (an enqueue): see
        :meth:`Dispatcher.along`."""
        return self.dispatcher.along()

    def free_slots(self) -> int:
        return self.max_workers - len(self.live) - self.dispatcher.starting

    def held_runs(self) -> set[int]:
        """Runs this server holds a process for, or whose reported changes it is still
        recording: the database does not show yet what became of them."""
        return set(self.live) | set(self._chains)

    def _claim(
        self, session: Session, slots: int
    ) -> tuple[list[tuple[Run, Job]], dt.datetime | None]:
        # A run pinned to a worker (a batch's ``worker``) waits for that one: this server, or a
        # worker its executor places runs on (a Dask worker, which is not draining).
        return claim_queued_runs(
            session,
            self.db,
            server_id=self.server_id,
            pinned=self.executor.placeable_workers(),
            slots=slots,
        )

    async def _launch(self, run: Run, job: Job) -> None:
        assert run.id is not None
        self.runs.publish_state(run)
        live = LiveRun(run_id=run.id, uuid=run.uuid, kind=run.kind, job=run.job)
        self.live[run.id] = live
        self.progress.woken.set()
        env = self.runs.jobs.kind_env
        if getattr(self.executor, "remote", False):
            # The process runs on another host: the kernels pooled here are of no use to it.
            env = dataclasses.replace(env, kernels=None)
        try:
            # On the loop: a notebook's launch takes a kernel from the pool, which lives here.
            options = await kinds.launch_options(job, env, run.uuid)
            spec = RunSpec(
                run_id=run.id,
                uuid=run.uuid,
                job=run.job,
                kind=run.kind,
                target=job.target,
                args=run.args,
                result_dir=self.runs.results_dir / run.uuid,
                cwd=self.cwd,
                options=options,
                batch=(
                    {"batch_id": run.batch_id, "sub_job": run.sub_job, "iteration": run.iteration}
                    if run.batch_id is not None
                    else None
                ),
                worker=run.worker if run.worker != self.server_id else None,
            )
            await self.executor.start(spec, self)
        except Exception as exc:
            if not isinstance(exc, JobExtError):
                log.exception("jobext: could not start run %s", run.id)
            self.live.pop(run.id, None)
            kinds.finished(run.kind, run.uuid, env)
            await self._finish(
                run.id, run.job, RunStatus.FAILED, error=f"could not start the job: {exc}"
            )
            return
        if job.timeout_s:
            loop = asyncio.get_running_loop()
            live.timers.append(
                loop.call_later(job.timeout_s, self._on_timeout, run.id, job.timeout_s)
            )

    def _in_order(self, run_id: int, work: Coroutine[Any, Any, Any]) -> None:
        """Run ``work`` after the work already queued for ``run_id`` (keeps a run's state
        changes in the order its process reported them)."""
        previous = self._chains.get(run_id)

        async def chained() -> None:
            if previous is not None:
                with contextlib.suppress(Exception):
                    await previous
            try:
                await work
            except (Conflict, NotFound):
                pass
            except Exception:
                log.exception("jobext: run %s: could not record a change", run_id)
            finally:
                if self._chains.get(run_id) is task:
                    del self._chains[run_id]

        task = asyncio.get_running_loop().create_task(chained())
        self._chains[run_id] = task

    # ------------------------------------------------------------------ executor events

    async def claim_attempt(self, run_id: int, worker: str) -> bool:
        """Claim in the database the attempt of ``run_id`` that ``worker`` (a Dask worker's id)
        is about to start, and make it the run's ``worker``: granted only while the run is
        running, this server owns it, and the worker takes runs (not draining, not offline), so
        an attempt Dask makes again after this server was replaced never starts a second
        process, and a drained worker starts nothing."""
        if run_id not in self.live:
            return False

        def claim(session: Session) -> bool:
            if not accepts_runs(session, worker):
                return False
            claimed = session.execute(
                update(Run)
                .where(
                    Run.id == run_id,
                    Run.status == RunStatus.RUNNING.value,
                    Run.server == self.server_id,
                )
                .values(worker=worker, updated_at=utcnow())
                .returning(Run.id)
            ).first()
            return claimed is not None

        return await self.db.run(claim)

    def on_logs(self, run_id: int, lines: list[LogLine]) -> None:
        self.hub.emit_logs(run_id, lines, None)

    async def log_room(self) -> None:
        await self.hub.room()

    def on_message(self, run_id: int, message: dict[str, Any]) -> None:
        live = self.live.get(run_id)
        if live is None:
            return
        if message.get("t") == "paused":
            self._in_order(
                run_id,
                self.runs.transition(
                    run_id, RunStatus.PAUSED, action="pause", expect=RunStatus.PAUSING
                ),
            )
        elif message.get("t") == "log_truncated":
            self.hub.emit_json(run_id, "truncated", message)
        else:
            live.take(message)

    def on_exit(self, run_id: int, outcome: Outcome) -> None:
        live = self.live.pop(run_id, None)
        if live is None:
            return
        for timer in live.timers:
            timer.cancel()
        self._in_order(run_id, self._settle_exit(live, outcome))

    async def _settle_exit(self, live: LiveRun, outcome: Outcome) -> None:
        # The slot the run leaves is filled in the transaction that records its end: one
        # round trip from a process's exit to the next one's start.
        along = self.dispatcher.along()
        ended = False
        try:
            kinds.finished(live.kind, live.uuid, self.runs.jobs.kind_env)
            self.progress.send(live)
            # What was asked of the run is what it was last steered to: every stop reaches
            # apply() before its process is signalled.
            status, error, exit_code = live.judge(outcome, live.applied)

            def fields() -> dict[str, Any]:
                values = live.final_fields(status, self.runs.results_dir)
                return {**values, "exit_code": exit_code}

            await self._finish(
                live.run_id, live.job, status, error=error, fields=fields, also=along
            )
            ended = True
        finally:
            if along is not None:
                await along.settle(ended)
            else:
                self.wake()

    async def _finish(
        self,
        run_id: int,
        job: str,
        status: RunStatus,
        *,
        error: str | None,
        fields: Callable[[], dict[str, Any]] = dict,
        also: Callable[[Session], object] | None = None,
    ) -> None:
        """Record the end of run ``run_id``: its log, its status, and its retry when it failed
        and its job has retries left, in one transaction (:meth:`RunManager.finish`), with
        ``also`` done in it last."""
        if error:
            self.runs.note(
                run_id, error.splitlines()[0], "ERROR" if status is RunStatus.FAILED else "INFO"
            )
        await self.runs.finish(run_id, status, error=error, fields=fields, also=also)
        self.retention.soon(job)

    # ------------------------------------------------------------------ steering

    def apply(self, run: Run) -> None:
        """Steer the process of ``run`` to match the status a request gave it."""
        assert run.id is not None
        if run.id not in self.live:
            # A run with no live process here: a crash left it, or another server owns it.
            if run.state is RunStatus.STOPPED and self.registry.is_local(run.worker):
                self.executor.kill_leftovers(run.uuid)
            return
        state = run.state
        live = self.live[run.id]
        if live.applied is state:
            return
        if live.applied is RunStatus.STOPPING and state not in FINAL:
            # A stop is never taken back: this is older news (the heartbeat's read of the run
            # began before the stop committed). Applying it would judge a process the stop
            # killed as failed.
            return
        live.applied = state
        if state is RunStatus.PAUSING:
            self.executor.pause(run.id)
        elif state is RunStatus.RUNNING:
            self.executor.resume(run.id)
        elif state is RunStatus.STOPPING:
            self.executor.stop(run.id)
            self._kill_later(run.id)
        elif state in FINAL:
            # Stopped by force, or settled by another server that took this one for gone.
            self.executor.kill(run.id)

    def _kill_later(self, run_id: int) -> None:
        live = self.live.get(run_id)
        if live is not None:
            loop = asyncio.get_running_loop()
            live.timers.append(loop.call_later(self.stop_grace_s, self.executor.kill, run_id))

    def _on_timeout(self, run_id: int, timeout_s: float) -> None:
        live = self.live.get(run_id)
        if live is None:
            return
        live.timed_out = timeout_s
        self.runs.note(run_id, f"timed out after {timeout_s:g} s; stopping", "ERROR")
        self._in_order(run_id, self.runs.transition(run_id, RunStatus.STOPPING, action="stop"))
        self.executor.stop(run_id)
        self._kill_later(run_id)
