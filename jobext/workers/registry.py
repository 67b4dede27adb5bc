"""This server's worker in the database, and settling the runs of workers that are gone.

What a worker is, and the functions that keep any worker's row (register, heartbeat, sign off),
are in :mod:`jobext.workers.heartbeats`.

**This server.** :class:`WorkerRegistry` registers the server's own local worker when the server
starts, heartbeats it (stats sampled off the loop), signs it off at shutdown, and judges all the
others at every heartbeat. A worker is gone when it signed off; when it has a ``pid`` on this
very machine and that process is dead (or is this very process, in an earlier life); or when
its heartbeat is older than ``offline_after_s``. A gone worker is marked ``offline`` and its runs
still in progress are failed with a reason saying so (or stopped, when a stop was under way);
their leftover processes on this machine are killed. "This very machine" is judged by the
host name qualified by the kernel's boot id and PID namespace (:class:`~jobext.workers.host.Host`).

**Settling runs: one rule.** A run belongs to its ``server`` (the Jupyter server that claimed
it; its ``worker`` is where it executes, the same server or a Dask worker). The registry settles
the runs in progress of servers that are gone, wherever the runs execute; the runs of a Dask
worker that is gone are ended by the executor of their server, which is alive (it notices
first, and knows how far their events went), never here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import logging
import os
import uuid as uuid_mod
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from jobext.db.tables import Run, Worker
from jobext.errors import Conflict, NotFound
from jobext.executors import Executor
from jobext.job.processes import pid_alive
from jobext.runs.manager import RunManager
from jobext.states import ACTIVE, RunStatus, WorkerKind
from jobext.times import utcnow
from jobext.workers.heartbeats import (
    WorkerSpec,
    aware,
    heartbeat_worker,
    register_worker,
    sign_off_worker,
)
from jobext.workers.host import Host, HostSampler

log = logging.getLogger(__name__)

_ACTIVE = sorted(s.value for s in ACTIVE)
#: Whose a run is: its server (runs from before servers were recorded: their worker).
_run_owner = func.coalesce(col(Run.server), col(Run.worker))


@dataclasses.dataclass
class _Verdict:
    """Workers judged gone in one pass: by their dead process, by their stale heartbeat."""

    by_pid: list[str] = dataclasses.field(default_factory=list)
    by_beat: list[str] = dataclasses.field(default_factory=list)


class WorkerRegistry:
    """This server's own worker in the database, and the judge of the others."""

    def __init__(
        self,
        runs: RunManager,
        executor: Executor,
        *,
        slots: int,
        offline_after_s: float,
        host_name: str | None = None,
        name: str | None = None,
    ):
        self.runs = runs
        self.db = runs.db
        self.executor = executor
        self.slots = slots
        self.offline_after_s = offline_after_s
        self.host = Host.this(host_name)
        #: This server's worker id (a UUID): the ``worker`` of the runs it claims.
        self.worker_id = str(uuid_mod.uuid4())
        self.name = name or f"{self.host.name}:{os.getpid()}"
        self.sampler: HostSampler | None = None
        #: worker id → machine, of the workers seen by the last pass (for :meth:`is_local`).
        self._machines: dict[str, str] = {}

    def is_local(self, worker: str | None) -> bool:
        """True when ``worker`` (a worker id) runs on this machine, in this PID namespace."""
        if not worker:
            return False
        if worker == self.worker_id:
            return True
        machine = self._machines.get(worker)
        if machine is not None:
            return machine == self.host.machine
        # Servers before workers had rows of their own were named "<machine>:<pid>:<hex>".
        return worker.startswith(self.host.machine + ":")

    async def _sample(self) -> dict[str, Any]:
        if self.sampler is None:
            self.sampler = await self.db.off_loop(HostSampler)
        return await self.db.off_loop(self.sampler.sample)

    async def register(self) -> None:
        """Make this server's worker row (``ready``)."""
        spec = WorkerSpec(WorkerKind.LOCAL, self.name, self.host, self.slots, os.getpid())
        await register_worker(self.db, spec, stats=await self._sample(), worker_id=self.worker_id)

    async def heartbeat(self) -> None:
        """Tell the others this server lives, with fresh host stats."""
        stats = await self._sample()
        try:
            revived = await heartbeat_worker(self.db, self.worker_id, stats=stats)
        except NotFound:
            log.warning("jobext: this server's worker row was removed; registering it again")
            await self.register()
            return
        if revived:
            log.warning(
                "jobext: this server (worker %s) was taken for offline, its heartbeat being "
                "older than %g s; other servers settled its runs. It takes runs again.",
                self.worker_id,
                self.offline_after_s,
            )

    async def sign_off(self) -> None:
        await sign_off_worker(self.db, self.worker_id)

    # -- judging the others

    def _judge(self, session: Session) -> _Verdict:
        """The live workers (not this one) that are gone, and why."""
        stale = utcnow() - dt.timedelta(seconds=self.offline_after_s)
        rows = session.exec(
            select(Worker).where(Worker.id != self.worker_id, col(Worker.offline_at).is_(None))
        ).all()
        self._machines.update({w.id: w.machine for w in rows})
        verdict = _Verdict()
        for worker in rows:
            if worker.pid is not None and worker.machine == self.host.machine:
                if worker.pid == os.getpid() or not pid_alive(worker.pid):
                    verdict.by_pid.append(worker.id)
            elif aware(worker.last_seen) < stale:
                verdict.by_beat.append(worker.id)
        return verdict

    def _mark_offline(self, session: Session, verdict: _Verdict) -> list[str]:
        """Mark the judged workers offline; one that heartbeat since the judgement is spared."""
        now = utcnow()
        stale = now - dt.timedelta(seconds=self.offline_after_s)
        marked: list[str] = []
        for ids, extra in (
            (verdict.by_pid, []),
            (verdict.by_beat, [col(Worker.last_seen) < stale]),
        ):
            if ids:
                marked += session.execute(
                    update(Worker)
                    .where(col(Worker.id).in_(ids), col(Worker.offline_at).is_(None), *extra)
                    .values(offline_at=now, updated_at=now)
                    .returning(col(Worker.id))
                ).scalars()
        return marked

    def _gone_owners(self, session: Session) -> dict[str, str]:
        """Servers (not this one) that own runs in progress but are offline or unknown, each
        with the words that name it in the runs' error."""
        owners = [
            w
            for w in session.execute(
                select(_run_owner).where(col(Run.status).in_(_ACTIVE)).distinct()
            ).scalars()
            if w and w != self.worker_id
        ]
        if not owners:
            return {}
        rows = {w.id: w for w in session.exec(select(Worker).where(col(Worker.id).in_(owners)))}
        self._machines.update({w.id: w.machine for w in rows.values()})
        gone: dict[str, str] = {}
        for owner in owners:
            row = rows.get(owner)
            if row is None:
                gone[owner] = f"the Jupyter server running it ({owner})"
            elif row.offline_at is not None:
                what = (
                    "the Dask worker" if row.kind == WorkerKind.DASK.value else "the Jupyter server"
                )
                gone[owner] = f"{what} running it ({row.name}, worker {owner})"
        return gone

    async def settle_dead_workers(self) -> int:
        """Mark the workers that are gone offline and settle their runs in progress; return how
        many runs were settled."""
        verdict = await self.db.read(self._judge)
        if verdict.by_pid or verdict.by_beat:
            marked = await self.db.run(functools.partial(self._mark_offline, verdict=verdict))
            for worker in marked:
                log.warning("jobext: worker %s is offline", worker)
        gone = await self.db.read(self._gone_owners)
        settled = 0
        for worker, who in sorted(gone.items()):
            runs = await self.db.read(
                lambda s, w=worker: s.exec(
                    select(Run).where(_run_owner == w, col(Run.status).in_(_ACTIVE))
                ).all()
            )
            for run in runs:
                reason = f"{who} stopped while the run was {run.status}"
                settled += await self.settle(run, reason)
            if runs:
                log.warning("jobext: settled %d run(s) left in progress by %s", len(runs), worker)
        return settled

    async def settle(self, run: Run, reason: str) -> int:
        """End ``run`` that nobody runs any more: failed (retried by its job's rules), or
        stopped when a stop was under way; kill what it left on this machine. Returns 1 when
        this call settled it."""
        assert run.id is not None
        if self.is_local(run.worker) or (run.server or run.worker) != run.worker:
            # Its process is here, or on a Dask worker (this executor's sweep reaches it there
            # when it is the Dask executor; the local one finds nothing).
            self.executor.kill_leftovers(run.uuid)
        self.runs.note(run.id, reason, "ERROR")
        target = RunStatus.STOPPED if run.state is RunStatus.STOPPING else RunStatus.FAILED
        try:
            await self.runs.transition(run.id, target, action="settle", retry=True, error=reason)
        except (Conflict, NotFound):
            return 0
        return 1
