"""Servers sharing a database: registration, heartbeats, and settling the runs of dead ones.

Each server has a row in ``jobext_server`` that it refreshes every heartbeat. A server is gone
when it signed off, when it ran on this host and its process is dead, or when its heartbeat is
older than ``dead_after_s``. Its runs still in progress are failed with a reason saying so (or
stopped, if a stop was under way), and on this host their leftover processes are killed.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import uuid as uuid_mod

from sqlalchemy import update
from sqlmodel import select

from jobext.db.tables import Run, Server
from jobext.errors import Conflict, NotFound
from jobext.executors.local import kill_run_processes
from jobext.runs.manager import JobService
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


class ServerRegistry:
    """This server's row in the database, and the judge of the others."""

    def __init__(
        self,
        service: JobService,
        *,
        max_workers: int,
        dead_after_s: float,
        host_name: str | None = None,
    ):
        self.service = service
        self.store = service.store
        self.hub = service.hub
        self.max_workers = max_workers
        self.dead_after_s = dead_after_s
        self.hostname = host_name or socket.gethostname()
        self.server_id = f"{self.hostname}:{os.getpid()}:{uuid_mod.uuid4().hex[:8]}"

    def register(self) -> None:
        with self.store.write() as session:
            session.add(
                Server(
                    id=self.server_id,
                    hostname=self.hostname,
                    pid=os.getpid(),
                    max_workers=self.max_workers,
                )
            )

    def heartbeat(self) -> None:
        with self.store.write() as session:
            session.execute(
                update(Server).where(Server.id == self.server_id).values(heartbeat_at=utcnow())
            )

    def sign_off(self) -> None:
        with self.store.write() as session:
            session.execute(
                update(Server).where(Server.id == self.server_id).values(stopped_at=utcnow())
            )

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
            try:
                settled = self.service.transition(run.id, target, action="settle", error=reason)
            except (Conflict, NotFound):
                continue
            count += 1
            self.service.retry_if_due(settled)
        if count:
            self.hub.flush()
            log.warning("jobext: settled %d run(s) left in progress by %s", count, worker)
        return count
