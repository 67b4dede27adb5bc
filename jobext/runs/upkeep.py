"""The supervisor's heartbeat: every ``heartbeat_s`` it renews this server's worker row and
settles what dead workers left (:class:`~jobext.workers.registry.WorkerRegistry`), settles the
runs this server claimed but holds no process for, applies to its processes the status changes
other servers made to its runs, sweeps retention every ``retention_every_s``, then calls
``on_heartbeat`` (the workers' feed upkeep) and wakes the dispatcher.

A round that fails is logged at most once a minute and the next one goes on.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from sqlmodel import select

from jobext.db.tables import Run
from jobext.runs.retention import apply_retention
from jobext.states import ACTIVE
from jobext.times import utcnow

if TYPE_CHECKING:
    from jobext.runs.supervisor import Supervisor

#: A run this server claimed but holds no process for after this long was lost by it.
ORPHAN_AFTER_S = 30.0


class Upkeep:
    """The heartbeat loop of ``supervisor`` (which starts it as one of its tasks)."""

    def __init__(self, supervisor: Supervisor, *, heartbeat_s: float, retention_every_s: float):
        self.supervisor = supervisor
        self.heartbeat_s = heartbeat_s
        self.retention_every_s = retention_every_s
        #: Called at the end of every heartbeat (the workers' feed upkeep).
        self.on_heartbeat: Callable[[], Awaitable[None]] | None = None
        self._swept_at = 0.0

    async def loop(self) -> None:
        """A heartbeat every ``heartbeat_s`` until cancelled."""
        sup = self.supervisor
        while True:
            await asyncio.sleep(self.heartbeat_s)
            try:
                await sup.registry.heartbeat()
                await sup.registry.settle_dead_workers()
                await self.settle_orphans()
                await self.sync_remote_changes()
                now = asyncio.get_running_loop().time()
                if now - self._swept_at >= self.retention_every_s:
                    self._swept_at = now
                    await apply_retention(sup.runs)
                if self.on_heartbeat is not None:
                    await self.on_heartbeat()
                sup.wake()
            except Exception:
                sup.hub.log_once("heartbeat", "jobext: heartbeat failed")

    async def sync_remote_changes(self) -> None:
        """Apply status changes another server made to runs this server owns."""
        sup = self.supervisor
        if not sup.live:
            return
        ids = list(sup.live)
        rows = await sup.db.read(lambda s: s.exec(select(Run).where(Run.id.in_(ids))).all())
        for run in rows:
            sup.apply(run)

    async def settle_orphans(self) -> None:
        """Settle runs this server claimed but holds no process for (a launch that died
        half-way): failed, or stopped when a stop was asked for."""
        sup = self.supervisor
        held = sup.held_runs()
        cutoff = utcnow() - dt.timedelta(seconds=ORPHAN_AFTER_S)
        rows = await sup.db.read(
            lambda s: s.exec(
                select(Run).where(
                    Run.server == sup.server_id,
                    # Not queued: a queued run pinned here (a batch's worker) is not claimed yet.
                    Run.status.in_([st.value for st in ACTIVE]),
                    Run.updated_at < cutoff,
                )
            ).all()
        )
        for run in rows:
            if run.id in held or sup.dispatcher.starting:
                continue
            await sup.registry.settle(run, f"this server ({sup.server_id}) lost its process")
