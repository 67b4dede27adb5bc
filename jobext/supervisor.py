"""The supervisor: starts queued runs on the executor, turns what their processes report into
state changes (through the service), enforces timeouts and stop grace periods, heartbeats, and
settles runs that a dead server left in progress.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
import mimetypes
import os
import socket
import uuid as uuid_mod
from pathlib import Path
from typing import Any

from sqlalchemy import func, update
from sqlmodel import select

from .errors import Conflict, NotFound
from .executors import Executor, Outcome, RunSpec
from .executors.base import LogLine
from .executors.local import kill_run_processes
from .models import Job, Run, Server, iso, utcnow
from .service import JobService
from .states import ACTIVE, FINAL, IN_PROGRESS, RunStatus

log = logging.getLogger(__name__)

_PROGRESS_EVERY = 0.1
_PROGRESS_DB_EVERY = 0.5


@dataclasses.dataclass
class LiveRun:
    """What the supervisor keeps about a run whose process it owns."""

    run_id: int
    uuid: str
    job: str
    kind: str
    progress: float | None = None
    message: str | None = None
    records: int | None = None
    steps: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    result_path: str | None = None
    progress_dirty: bool = False
    progress_saved_at: float = 0.0
    timed_out: float | None = None
    shutdown: bool = False
    timers: list[asyncio.TimerHandle] = dataclasses.field(default_factory=list)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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
        self.hostname = socket.gethostname()
        self.server_id = f"{self.hostname}:{os.getpid()}:{uuid_mod.uuid4().hex[:8]}"
        self.live: dict[int, LiveRun] = {}
        self._starting = 0
        self._dispatch_scheduled = False
        self._dispatching = False
        self._again = False
        self._tasks: list[asyncio.Task[Any]] = []
        self._closing = False
        service.control = self

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Register this server, settle what dead servers left, and start the loops."""
        with self.store.write() as session:
            session.add(
                Server(
                    id=self.server_id,
                    hostname=self.hostname,
                    pid=os.getpid(),
                    max_workers=self.max_workers,
                )
            )
        self.settle_dead_servers()
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
        with self.store.write() as session:
            session.execute(
                update(Server).where(Server.id == self.server_id).values(stopped_at=utcnow())
            )

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
        finally:
            self._dispatching = False

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
                .where(Run.status == RunStatus.QUEUED.value)
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
        live = LiveRun(run_id=run.id, uuid=run.uuid, job=run.job, kind=run.kind)
        self.live[run.id] = live
        self._starting -= 1
        spec = RunSpec(
            run_id=run.id,
            uuid=run.uuid,
            job=run.job,
            kind=run.kind,
            target=job.target,
            args=run.args,
            result_dir=self.service.results_dir / run.uuid,
            cwd=self.cwd,
        )
        try:
            pid = await self.executor.start(spec, self)
        except Exception as exc:
            log.exception("jobext: could not start run %s", run.id)
            self.live.pop(run.id, None)
            self._finish(run.id, RunStatus.FAILED, error=f"could not start the job: {exc}")
            return
        if pid is not None:
            with self.store.write() as session:
                session.execute(update(Run).where(Run.id == run.id).values(pid=pid))
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
        kind = message.get("t")
        if kind == "progress":
            live.progress = message.get("fraction")
            if message.get("message") is not None:
                live.message = str(message["message"])[:2000]
            live.progress_dirty = True
        elif kind == "records":
            live.records = message.get("count")
            live.progress_dirty = True
        elif kind == "step":
            self._record_step(live, str(message.get("name")), str(message.get("status")))
        elif kind == "result":
            live.result_path = message.get("path")
        elif kind == "paused":
            with contextlib.suppress(Conflict, NotFound):
                self.service.transition(
                    run_id, RunStatus.PAUSED, action="pause", expect=RunStatus.PAUSING
                )

    def _record_step(self, live: LiveRun, name: str, status: str) -> None:
        now = iso(utcnow())
        if status == "running":
            live.steps.append({"name": name, "status": status, "started_at": now, "ended_at": None})
        else:
            for step in reversed(live.steps):
                if step["name"] == name and step["status"] == "running":
                    step.update(status=status, ended_at=now)
                    break
        live.progress_dirty = True

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
        run_id = live.run_id
        for timer in live.timers:
            timer.cancel()
        self._flush_progress(live)
        status, error, exit_code = self._judge(run_id, live, outcome)
        fields: dict[str, Any] = {"exit_code": exit_code, "pid": None}
        result = self._result_fields(live)
        fields.update(result)
        if live.progress is not None:
            fields["progress"] = live.progress
        if status is RunStatus.SUCCEEDED:
            fields["progress"] = 1.0
        if live.message is not None:
            fields["message"] = live.message
        if live.records is not None:
            fields["records_written"] = live.records
        if live.steps:
            fields["steps"] = live.steps
        self._finish(run_id, status, error=error, **fields)

    def _judge(
        self, run_id: int, live: LiveRun, outcome: Outcome
    ) -> tuple[RunStatus, str | None, int | None]:
        """Decide how a run ended from its exit, its ``end`` message and what was asked of it."""
        current = self.service.get_run(run_id).state
        end = outcome.end or {}
        code = outcome.returncode
        if live.timed_out is not None:
            return RunStatus.FAILED, f"timed out after {live.timed_out:g} s", code
        ended = end.get("status")
        error = end.get("error")
        if end.get("traceback"):
            error = f"{error}\n\n{end['traceback']}"
        exit_code = end.get("exit_code", code)
        if ended == "succeeded":
            return RunStatus.SUCCEEDED, None, exit_code
        if current is RunStatus.STOPPING or ended == "stopped":
            why = "stopped because the Jupyter server shut down" if live.shutdown else "stopped"
            return RunStatus.STOPPED, why, exit_code
        if ended == "failed":
            return RunStatus.FAILED, error or "failed", exit_code
        if code is not None and code < 0:
            return RunStatus.FAILED, f"the job's process was killed by signal {-code}", code
        return RunStatus.FAILED, f"the job's process exited with code {code} unexpectedly", code

    def _result_fields(self, live: LiveRun) -> dict[str, Any]:
        if not live.result_path:
            return {}
        root = self.service.results_dir.resolve()
        path = Path(live.result_path).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            return {}
        media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return {
            "result_file": str(path.relative_to(root)),
            "result_size": path.stat().st_size,
            "result_media_type": media_type,
        }

    def _finish(self, run_id: int, status: RunStatus, *, error: str | None, **fields: Any) -> None:
        try:
            run = self.service.get_run(run_id)
        except NotFound:
            return
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
        with contextlib.suppress(Conflict):
            self.service.transition(run_id, status, action="finish", error=error, **fields)
        self.hub.flush()
        self.hub.forget(run_id)
        with contextlib.suppress(NotFound):
            self.service.apply_retention(run.job)

    # ------------------------------------------------------------------ steering

    def apply(self, run: Run) -> None:
        """Steer the process of ``run`` to match the status a request gave it."""
        assert run.id is not None
        if run.id not in self.live:
            # A run with no live process here: a crash left it, or another server owns it.
            if (
                run.state is RunStatus.STOPPED
                and run.pid
                and (run.worker or "").startswith(self.hostname + ":")
            ):
                kill_run_processes(run.uuid)
            return
        state = run.state
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
        if not live.progress_dirty:
            return
        live.progress_dirty = False
        self.hub.emit_json(
            live.run_id,
            "progress",
            {
                "progress": live.progress,
                "message": live.message,
                "records_written": live.records,
                "steps": live.steps,
            },
        )

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
            await asyncio.sleep(_PROGRESS_EVERY)
            try:
                dirty = [live for live in self.live.values() if live.progress_dirty]
                for live in dirty:
                    self._flush_progress(live)
                if dirty:
                    self._save_progress()
            except Exception:
                log.exception("jobext: progress update failed")

    # ------------------------------------------------------------------ heartbeats, recovery

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_s)
            try:
                with self.store.write() as session:
                    session.execute(
                        update(Server)
                        .where(Server.id == self.server_id)
                        .values(heartbeat_at=utcnow())
                    )
                self.settle_dead_servers()
                self._sync_remote_changes()
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
            if run.state in (RunStatus.STOPPING, RunStatus.STOPPED, RunStatus.PAUSING):
                self.apply(run)

    def settle_dead_servers(self) -> int:
        """Fail the in-progress runs of servers that are gone; return how many were settled.

        A server is gone when it signed off, when it ran on this host and its process is dead
        (or is this very process, in an earlier life), or when its heartbeat is older than
        ``dead_after_s``. Processes such runs left on this host are killed.
        """
        now = utcnow()
        stale = now - dt.timedelta(seconds=self.dead_after_s)
        with self.store.read() as session:
            servers = session.exec(select(Server).where(Server.id != self.server_id)).all()
            owners = session.exec(
                select(Run.worker).where(Run.status.in_([s.value for s in ACTIVE])).distinct()
            ).all()
        known = {s.id: s for s in servers}
        dead: set[str] = set()
        for worker in owners:
            if worker is None or worker == self.server_id:
                continue
            server = known.get(worker)
            if server is None or server.stopped_at is not None or self._is_dead(server, stale):
                dead.add(worker)
        newly_dead = [s.id for s in servers if s.stopped_at is None and self._is_dead(s, stale)]
        settled = 0
        for worker in sorted(dead):
            settled += self._settle_runs_of(worker)
        if newly_dead:
            with self.store.write() as session:
                session.execute(
                    update(Server).where(Server.id.in_(newly_dead)).values(stopped_at=now)
                )
        return settled

    def _is_dead(self, server: Server, stale: dt.datetime) -> bool:
        if server.hostname == self.hostname:
            return server.pid == os.getpid() or not _pid_alive(server.pid)
        return server.heartbeat_at < stale

    def _settle_runs_of(self, worker: str) -> int:
        with self.store.read() as session:
            runs = session.exec(
                select(Run).where(
                    Run.worker == worker,
                    Run.status.in_([s.value for s in IN_PROGRESS]),
                )
            ).all()
        count = 0
        for run in runs:
            if worker.startswith(self.hostname + ":"):
                kill_run_processes(run.uuid)
            reason = (
                f"the Jupyter server running it ({worker}) stopped while the run was {run.status}"
            )
            self.service.note(run.id, reason, "ERROR")
            target = RunStatus.STOPPED if run.state is RunStatus.STOPPING else RunStatus.FAILED
            with contextlib.suppress(Conflict, NotFound):
                self.service.transition(run.id, target, action="settle", error=reason, pid=None)
                count += 1
        if count:
            self.hub.flush()
            log.warning("jobext: settled %d run(s) left in progress by %s", count, worker)
        return count

    def info(self) -> dict[str, Any]:
        return {
            "id": self.server_id,
            "hostname": self.hostname,
            "pid": os.getpid(),
            "max_workers": self.max_workers,
            "running": sorted(self.live),
            **self.executor.info(),
        }


def _log_task_error(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("jobext: dispatch failed", exc_info=task.exception())
