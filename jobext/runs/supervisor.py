"""The supervisor: starts queued runs on the executor, turns what their processes report into
state changes (through the service), enforces timeouts and stop grace periods, heartbeats, and
settles runs that a dead server left in progress.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from sqlalchemy import func, or_, update
from sqlmodel import select

from jobext.db.tables import Job, Run
from jobext.errors import Conflict, JobExtError, NotFound
from jobext.executors import Executor, Outcome, RunSpec
from jobext.executors.base import LogLine
from jobext.executors.local import kill_run_processes
from jobext.kinds import registry as kinds
from jobext.runs.live import LiveRun
from jobext.runs.manager import JobService
from jobext.states import ACTIVE, FINAL, RunStatus
from jobext.times import utcnow
from jobext.workers.registry import ServerRegistry

log = logging.getLogger(__name__)

_PROGRESS_EVERY = 0.1
_PROGRESS_DB_EVERY = 0.5


class Supervisor:
    """Owns this server's running processes."""

    def __init__(
        self,
        service: JobService,
        executor: Executor,
        *,
        max_workers: int,
        cwd: str,
        stop_grace_s: float = 10.0,
        heartbeat_s: float = 5.0,
        dead_after_s: float = 60.0,
        retention_every_s: float = 600.0,
        host_name: str | None = None,
    ):
        self.service = service
        self.store = service.store
        self.hub = service.hub
        self.executor = executor
        self.max_workers = max_workers
        self.cwd = cwd
        self.stop_grace_s = stop_grace_s
        self.heartbeat_s = heartbeat_s
        self.dead_after_s = dead_after_s
        self.retention_every_s = retention_every_s
        self.registry = ServerRegistry(
            service, max_workers=max_workers, dead_after_s=dead_after_s, host_name=host_name
        )
        self.hostname = self.registry.hostname
        self.server_id = self.registry.server_id
        self.live: dict[int, LiveRun] = {}
        self._starting = 0
        self._dispatch_scheduled = False
        self._dispatching = False
        self._again = False
        self._tasks: list[asyncio.Task[Any]] = []
        self._backoff_timer: asyncio.TimerHandle | None = None
        self._has_live = asyncio.Event()
        self._swept_at = 0.0
        self._closing = False
        service.control = self

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Register this server, settle what dead servers left, and start the loops."""
        self.registry.register()
        self.registry.settle_dead_servers()
        self.hub.start()
        loop = asyncio.get_running_loop()
        self._tasks.append(loop.create_task(self._heartbeat_loop()))
        self._tasks.append(loop.create_task(self._progress_loop()))
        self.wake()

    async def stop(self) -> None:
        """Stop every running job gracefully, flush their logs, and sign off."""
        self._closing = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        for live in list(self.live.values()):
            live.shutdown = True
            self.service.note(live.run_id, "the Jupyter server is shutting down; stopping")
            with contextlib.suppress(Conflict, NotFound):
                self.service.transition(live.run_id, RunStatus.STOPPING, action="stop")
            self.executor.stop(live.run_id)
        await self.executor.wait_all(self.stop_grace_s)
        for run_id in self.executor.running():
            self.executor.kill(run_id)
        await self.executor.wait_all(5.0)
        self._save_progress(force=True)
        await self.hub.stop()
        self.registry.sign_off()

    # ------------------------------------------------------------------ dispatch

    def wake(self) -> None:
        """Look for startable queued runs soon (calls coalesce)."""
        if self._closing:
            return
        if self._dispatching:
            self._again = True
            return
        if not self._dispatch_scheduled:
            self._dispatch_scheduled = True
            asyncio.get_running_loop().call_soon(self._spawn_dispatch)

    def _spawn_dispatch(self) -> None:
        self._dispatch_scheduled = False
        task = asyncio.get_running_loop().create_task(self._dispatch())
        task.add_done_callback(_log_task_error)

    def free_slots(self) -> int:
        return self.max_workers - len(self.live) - self._starting

    async def _dispatch(self) -> None:
        if self._dispatching or self._closing:
            self._again = True
            return
        self._dispatching = True
        try:
            while True:
                self._again = False
                claimed = self._claim(self.free_slots())
                for run, job in claimed:
                    await self._launch(run, job)
                if not self._again or not claimed:
                    break
            self._wake_for_backoff()
        finally:
            self._dispatching = False

    def _wake_for_backoff(self) -> None:
        """Set a timer for the earliest queued run that waits for its ``not_before``."""
        with self.store.read() as session:
            first = session.exec(
                select(func.min(Run.not_before)).where(
                    Run.status == RunStatus.QUEUED.value, Run.not_before > utcnow()
                )
            ).one()
        if first is None:
            return
        delay = max(0.0, (first - utcnow()).total_seconds()) + 0.01
        if self._backoff_timer is not None:
            self._backoff_timer.cancel()
        self._backoff_timer = asyncio.get_running_loop().call_later(delay, self.wake)

    def _claim(self, slots: int) -> list[tuple[Run, Job]]:
        """Claim up to ``slots`` queued runs, oldest first, within each job's max_concurrent.

        The claim is a compare-and-set on the run's status, so servers sharing the database
        never start the same run twice.
        """
        if slots <= 0:
            return []
        active_values = [s.value for s in ACTIVE]
        with self.store.read() as session:
            candidates = session.exec(
                select(Run)
                .where(
                    Run.status == RunStatus.QUEUED.value,
                    or_(Run.not_before.is_(None), Run.not_before <= utcnow()),
                )
                .order_by(Run.id)
                .limit(slots * 4 + 20)
            ).all()
            if not candidates:
                return []
            names = sorted({r.job for r in candidates})
            jobs = {j.name: j for j in session.exec(select(Job).where(Job.name.in_(names))).all()}
            active = dict(
                session.exec(
                    select(Run.job, func.count())
                    .where(Run.job.in_(names), Run.status.in_(active_values))
                    .group_by(Run.job)
                ).all()
            )
        chosen: list[tuple[Run, Job]] = []
        now = utcnow()
        with self.store.write() as session:
            for run in candidates:
                if len(chosen) >= slots:
                    break
                job = jobs.get(run.job)
                if job is None or active.get(run.job, 0) >= job.max_concurrent:
                    continue
                result = session.execute(
                    update(Run)
                    .where(Run.id == run.id, Run.status == RunStatus.QUEUED.value)
                    .values(
                        status=RunStatus.RUNNING.value,
                        worker=self.server_id,
                        started_at=now,
                        updated_at=now,
                    )
                )
                if result.rowcount == 1:
                    active[run.job] = active.get(run.job, 0) + 1
                    run.status, run.worker = RunStatus.RUNNING.value, self.server_id
                    run.started_at = run.updated_at = now
                    chosen.append((run, job))
        self._starting += len(chosen)
        return chosen

    async def _launch(self, run: Run, job: Job) -> None:
        assert run.id is not None
        self.service.publish_state(run)
        live = LiveRun(run_id=run.id, uuid=run.uuid, kind=run.kind)
        self.live[run.id] = live
        self._has_live.set()
        self._starting -= 1
        try:
            spec = RunSpec(
                run_id=run.id,
                uuid=run.uuid,
                job=run.job,
                kind=run.kind,
                target=job.target,
                args=run.args,
                result_dir=self.service.results_dir / run.uuid,
                cwd=self.cwd,
                options=kinds.launch_options(job, self.service.kind_env, run.uuid),
            )
            await self.executor.start(spec, self)
        except Exception as exc:
            if not isinstance(exc, JobExtError):
                log.exception("jobext: could not start run %s", run.id)
            self.live.pop(run.id, None)
            kinds.finished(run.kind, run.uuid, self.service.kind_env)
            self._finish(run, RunStatus.FAILED, error=f"could not start the job: {exc}")
            return
        if job.timeout_s:
            loop = asyncio.get_running_loop()
            live.timers.append(
                loop.call_later(job.timeout_s, self._on_timeout, run.id, job.timeout_s)
            )

    # ------------------------------------------------------------------ executor events

    def on_logs(self, run_id: int, lines: list[LogLine]) -> None:
        self.hub.emit_logs(run_id, lines, None)

    def on_message(self, run_id: int, message: dict[str, Any]) -> None:
        live = self.live.get(run_id)
        if live is None:
            return
        if message.get("t") == "paused":
            with contextlib.suppress(Conflict, NotFound):
                self.service.transition(
                    run_id, RunStatus.PAUSED, action="pause", expect=RunStatus.PAUSING
                )
        else:
            live.take(message)

    def on_exit(self, run_id: int, outcome: Outcome) -> None:
        live = self.live.pop(run_id, None)
        if live is None:
            return
        try:
            self._settle_exit(live, outcome)
        except Exception:
            log.exception("jobext: could not record the end of run %s", run_id)
        finally:
            self.wake()

    def _settle_exit(self, live: LiveRun, outcome: Outcome) -> None:
        for timer in live.timers:
            timer.cancel()
        kinds.finished(live.kind, live.uuid, self.service.kind_env)
        self._flush_progress(live)
        try:
            run = self.service.get_run(live.run_id)
        except NotFound:
            return
        status, error, exit_code = live.judge(outcome, run.state)
        fields = live.final_fields(status, self.service.results_dir)
        self._finish(run, status, error=error, exit_code=exit_code, **fields)

    def _finish(
        self,
        run: Run,
        status: RunStatus,
        *,
        error: str | None,
        **fields: Any,
    ) -> None:
        """Record the end of ``run`` (as it was read when its process ended)."""
        run_id = run.id
        assert run_id is not None
        if run.state in FINAL:
            # Force-stopped while its process was still ending: keep what the user decided,
            # but record what the process left behind.
            keep = {k: v for k, v in fields.items() if k.startswith("result_") or k == "exit_code"}
            if keep:
                with self.store.write() as session:
                    session.execute(update(Run).where(Run.id == run_id).values(**keep))
            self.hub.forget(run_id)
            return
        if error:
            self.service.note(
                run_id, error.splitlines()[0], "ERROR" if status is RunStatus.FAILED else "INFO"
            )
        try:
            ended = self.service.transition(run_id, status, action="finish", error=error, **fields)
        except Conflict:
            ended = None
        self.hub.flush()
        self.hub.forget(run_id)
        if ended is not None:
            self.service.retry_if_due(ended)
        self.service.apply_retention(run.job)

    # ------------------------------------------------------------------ steering

    def apply(self, run: Run) -> None:
        """Steer the process of ``run`` to match the status a request gave it."""
        assert run.id is not None
        if run.id not in self.live:
            # A run with no live process here: a crash left it, or another server owns it.
            if run.state is RunStatus.STOPPED and (run.worker or "").startswith(
                self.hostname + ":"
            ):
                kill_run_processes(run.uuid)
            return
        state = run.state
        live = self.live[run.id]
        if live.applied is state:
            return
        live.applied = state
        if state is RunStatus.PAUSING:
            self.executor.pause(run.id)
        elif state is RunStatus.RUNNING:
            self.executor.resume(run.id)
        elif state is RunStatus.STOPPING:
            self.executor.stop(run.id)
            self._kill_later(run.id)
        elif state is RunStatus.STOPPED:
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
        self.service.note(run_id, f"timed out after {timeout_s:g} s; stopping", "ERROR")
        with contextlib.suppress(Conflict, NotFound):
            self.service.transition(run_id, RunStatus.STOPPING, action="stop")
        self.executor.stop(run_id)
        self._kill_later(run_id)

    # ------------------------------------------------------------------ progress

    def _flush_progress(self, live: LiveRun) -> None:
        if live.progress_dirty:
            live.progress_dirty = False
            self.hub.emit_json(live.run_id, "progress", live.progress_payload())

    def _save_progress(self, *, force: bool = False) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        changed = [
            live
            for live in self.live.values()
            if force or now - live.progress_saved_at >= _PROGRESS_DB_EVERY
        ]
        rows = []
        for live in changed:
            if live.progress is None and live.records is None and not live.steps:
                continue
            live.progress_saved_at = now
            rows.append(live)
        if not rows:
            return
        with self.store.write() as session:
            for live in rows:
                session.execute(
                    update(Run)
                    .where(Run.id == live.run_id)
                    .values(
                        progress=live.progress,
                        message=live.message,
                        records_written=live.records,
                        steps=live.steps or None,
                        updated_at=utcnow(),
                    )
                )

    async def _progress_loop(self) -> None:
        while True:
            if not self.live:
                # Idle: nothing reports progress until a run starts.
                self._has_live.clear()
                await self._has_live.wait()
            await asyncio.sleep(_PROGRESS_EVERY)
            try:
                dirty = [live for live in self.live.values() if live.progress_dirty]
                for live in dirty:
                    self._flush_progress(live)
                if dirty:
                    self._save_progress()
            except Exception:
                log.exception("jobext: progress update failed")

    # ------------------------------------------------------------------ heartbeats

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_s)
            try:
                self.registry.heartbeat()
                self.registry.settle_dead_servers()
                self._sync_remote_changes()
                now = asyncio.get_running_loop().time()
                if now - self._swept_at >= self.retention_every_s:
                    self._swept_at = now
                    self.service.apply_retention_everywhere()
                self.wake()
            except Exception:
                log.exception("jobext: heartbeat failed")

    def _sync_remote_changes(self) -> None:
        """Apply status changes another server made to runs this server owns."""
        if not self.live:
            return
        with self.store.read() as session:
            rows = session.exec(select(Run).where(Run.id.in_(list(self.live)))).all()
        for run in rows:
            self.apply(run)


def _log_task_error(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("jobext: dispatch failed", exc_info=task.exception())
