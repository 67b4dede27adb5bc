"""Servers sharing a database: registration, heartbeats, and settling the runs of dead ones.

Each server has a row in ``jobext_server`` that it refreshes every heartbeat. A server is gone
when it signed off, when it ran on this very machine and its process is dead, or when its
heartbeat is older than ``dead_after_s``. Its runs still in progress are failed with a reason
saying so (or stopped, if a stop was under way), and their leftover processes on this machine
are killed.

"This very machine" is not judged by host name and process id alone (containers share both):
the host name a server records is qualified by the kernel's boot id and its PID namespace, so
two containers with the same name and pids are told apart.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import socket
import uuid as uuid_mod
from pathlib import Path

from sqlalchemy import update
from sqlmodel import Session, select

from jobext.db.tables import Run, Server
from jobext.errors import Conflict, NotFound
from jobext.executors import Executor
from jobext.runs.manager import RunManager
from jobext.states import ACTIVE, IN_PROGRESS, RunStatus
from jobext.times import utcnow

log = logging.getLogger(__name__)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@functools.cache
def machine_key() -> str:
    """What tells this machine and PID namespace from any other: the kernel's boot id and the
    PID namespace's inode (empty parts where the system does not show them)."""
    parts = []
    try:
        parts.append(Path("/proc/sys/kernel/random/boot_id").read_text().strip()[:8])
    except OSError:
        parts.append("")
    try:
        parts.append(os.readlink("/proc/self/ns/pid").strip("pid:[]"))
    except OSError:
        parts.append("")
    return "-".join(p for p in parts if p)


class ServerRegistry:
    """This server's row in the database, and the judge of the others."""

    def __init__(
        self,
        runs: RunManager,
        executor: Executor,
        *,
        max_workers: int,
        dead_after_s: float,
        host_name: str | None = None,
    ):
        self.runs = runs
        self.db = runs.db
        self.executor = executor
        self.max_workers = max_workers
        self.dead_after_s = dead_after_s
        name = host_name or socket.gethostname()
        key = machine_key()
        #: The host as recorded: its name, qualified by the machine key when there is one.
        self.hostname = f"{name}@{key}" if key and not host_name else name
        self.server_id = f"{self.hostname}:{os.getpid()}:{uuid_mod.uuid4().hex[:8]}"

    def is_local(self, worker: str | None) -> bool:
        """True when ``worker`` (a server id) ran on this machine, in this PID namespace."""
        return bool(worker) and str(worker).startswith(self.hostname + ":")

    async def register(self) -> None:
        server = Server(
            id=self.server_id,
            hostname=self.hostname,
            pid=os.getpid(),
            max_workers=self.max_workers,
        )
        await self.db.run(lambda s: s.add(server))

    async def heartbeat(self) -> None:
        await self.db.run(
            lambda s: s.execute(
                update(Server).where(Server.id == self.server_id).values(heartbeat_at=utcnow())
            )
        )

    async def sign_off(self) -> None:
        await self.db.run(
            lambda s: s.execute(
                update(Server).where(Server.id == self.server_id).values(stopped_at=utcnow())
            )
        )

    async def settle_dead_servers(self) -> int:
        """Fail the in-progress runs of servers that are gone; return how many were settled.

        A server is gone when it signed off, when it ran on this machine and its process is
        dead (or is this very process, in an earlier life), or when its heartbeat is older than
        ``dead_after_s``. Processes such runs left on this machine are killed.
        """
        dead, newly_dead = await self.db.read(self._find_dead)
        settled = 0
        for worker in sorted(dead):
            runs = await self.db.read(
                lambda s, w=worker: s.exec(
                    select(Run).where(
                        Run.worker == w, Run.status.in_([st.value for st in IN_PROGRESS])
                    )
                ).all()
            )
            for run in runs:
                reason = (
                    f"the Jupyter server running it ({worker}) stopped while the run was "
                    f"{run.status}"
                )
                settled += await self.settle(run, reason)
            if runs:
                log.warning("jobext: settled %d run(s) left in progress by %s", len(runs), worker)
        if newly_dead:
            now = utcnow()
            await self.db.run(
                lambda s: s.execute(
                    update(Server).where(Server.id.in_(newly_dead)).values(stopped_at=now)
                )
            )
        return settled

    def _find_dead(self, session: Session) -> tuple[set[str], list[str]]:
        stale = utcnow() - dt.timedelta(seconds=self.dead_after_s)
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
        return dead, newly_dead

    def _is_dead(self, server: Server, stale: dt.datetime) -> bool:
        if server.hostname == self.hostname:
            return server.pid == os.getpid() or not _pid_alive(server.pid)
        return server.heartbeat_at < stale

    async def settle(self, run: Run, reason: str) -> int:
        """End ``run`` that nobody runs any more: failed (retried by its job's rules), or
        stopped when a stop was under way; kill what it left on this machine. Returns 1 when
        this call settled it."""
        assert run.id is not None
        if self.is_local(run.worker):
            self.executor.kill_leftovers(run.uuid)
        self.runs.note(run.id, reason, "ERROR")
        target = RunStatus.STOPPED if run.state is RunStatus.STOPPING else RunStatus.FAILED
        try:
            await self.runs.transition(run.id, target, action="settle", retry=True, error=reason)
        except (Conflict, NotFound):
            return 0
        return 1
