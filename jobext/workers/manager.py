"""The rules of workers: the list and one worker as the API shows them, ``drain`` and
``resume`` as :data:`~jobext.states.WORKER_ACTIONS` allows, and keeping ``GET /events`` told of
workers' changes. Nothing here knows HTTP.

Drain and resume only change the worker's row: a worker reads its own row whenever it claims
runs (:func:`~jobext.workers.heartbeats.accepts_runs`), so they may be asked of any server.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import delete, func, or_
from sqlmodel import Session, col, select

from jobext.db.engine import Database
from jobext.db.paging import PageRequest, paginate
from jobext.db.tables import Run, Worker
from jobext.errors import NotFound
from jobext.runs.changes import Feed
from jobext.states import ACTIVE, RunStatus, WorkerAction, WorkerStatus, worker_action_target
from jobext.times import utcnow
from jobext.workers.shapes import parse_kind, parse_statuses, status_condition, status_of
from jobext.workers.shapes import worker_json as _worker_json

log = logging.getLogger(__name__)

WORKER_SORTS = ("name", "kind", "host", "started_at", "last_seen")
#: A worker offline for this long is forgotten (its row goes; its runs keep its id).
FORGET_OFFLINE_AFTER = dt.timedelta(days=7)
_FORGET_EVERY_S = 3600.0
_ACTIVE = sorted(s.value for s in ACTIVE)
_ENDED = (RunStatus.SUCCEEDED.value, RunStatus.FAILED.value)


def worker_views(session: Session, rows: Sequence[Worker]) -> list[dict[str, Any]]:
    """The API's shape of ``rows``: two grouped reads for all of them (the runs they hold, the
    counts of their succeeded and failed runs)."""
    ids = [w.id for w in rows]
    if not ids:
        return []
    held: dict[str, list[int]] = {i: [] for i in ids}
    for worker, run_id in session.exec(
        select(Run.worker, Run.id)
        .where(col(Run.worker).in_(ids), col(Run.status).in_(_ACTIVE))
        .order_by(col(Run.id))
    ).all():
        if worker is not None and run_id is not None:
            held[worker].append(run_id)
    totals: dict[str, dict[str, int]] = {i: {} for i in ids}
    for worker, status, count in session.exec(
        select(Run.worker, Run.status, func.count())
        .where(col(Run.worker).in_(ids), col(Run.status).in_(_ENDED))
        .group_by(col(Run.worker), col(Run.status))
    ).all():
        if worker is not None:
            totals[worker][status] = int(count)
    return [_worker_json(w, held[w.id], totals[w.id]) for w in rows]


def _get(session: Session, worker_id: str, *, lock: Database | None = None) -> Worker:
    stmt = select(Worker).where(Worker.id == worker_id)
    row: Worker | None = session.exec(lock.for_update(stmt) if lock else stmt).first()
    if row is None:
        raise NotFound(f"no worker with id {worker_id!r}")
    return row


class WorkerManager:
    """Workers over the database; one per server."""

    def __init__(self, db: Database, feed: Feed):
        self.db = db
        self.feed = feed
        #: Called with a worker's id after drain or resume changed it (this server's
        #: supervisor looks for runs when its own worker is resumed).
        self.on_change: Callable[[str], None] = lambda _worker_id: None
        self._published_until: dt.datetime | None = None
        self._forgot_at: float | None = None

    # ------------------------------------------------------------------ reading

    async def list_page(
        self, page: PageRequest, *, status: str | None = None, kind: str | None = None
    ) -> tuple[list[dict[str, Any]], int]:
        """One page of workers, newest first; ``status`` (a status or a comma list) and
        ``kind`` filter, ``search`` matches name, host and id. 400 naming a bad filter."""
        stmt = select(Worker)
        if status:
            stmt = stmt.where(status_condition(parse_statuses(status)))
        if kind:
            stmt = stmt.where(Worker.kind == parse_kind(kind).value)
        if page.search:
            stmt = stmt.where(
                or_(
                    *(
                        col(c).contains(page.search, autoescape=True)
                        for c in (Worker.name, Worker.host, Worker.id)
                    )
                )
            )
        columns = {name: getattr(Worker, name) for name in WORKER_SORTS}

        def read(session: Session) -> tuple[list[dict[str, Any]], int]:
            rows, total = paginate(
                session, stmt, page, columns=columns, default_sort="-started_at", tiebreak=Worker.id
            )
            return worker_views(session, rows), total

        return await self.db.read(read)

    async def get(self, worker_id: str) -> dict[str, Any]:
        """One worker; 404 when unknown."""
        return await self.db.read(lambda s: worker_views(s, [_get(s, worker_id)])[0])

    # ------------------------------------------------------------------ actions

    async def act(
        self, worker_id: str, action: WorkerAction, *, user: str | None = None
    ) -> dict[str, Any]:
        """``drain`` (start no new run; those in progress finish) or ``resume`` (take runs
        again); the worker after it. 404 unknown, 409 when its status does not allow it (an
        offline worker). Asking for the status it has already changes nothing."""

        def change(session: Session) -> tuple[dict[str, Any], bool]:
            row = _get(session, worker_id, lock=self.db)
            current = status_of(row)
            target = worker_action_target(action, current)
            changed = target is not current
            if changed:
                row.draining = target is WorkerStatus.DRAINING
                row.updated_at = utcnow()
                session.add(row)
                session.flush()
            return worker_views(session, [row])[0], changed

        view, changed = await self.db.run(change)
        if changed:
            log.info("jobext: worker %s (%s) %s by %s", view["name"], worker_id, action, user)
            self.feed.publish("worker", view)
            self.on_change(worker_id)
        return view

    # ------------------------------------------------------------------ upkeep

    async def tend(self) -> None:
        """After each heartbeat: tell ``GET /events`` of the workers that heartbeat or changed
        since the last time (while anyone follows it); once an hour, forget the workers offline
        for over :data:`FORGET_OFFLINE_AFTER`."""
        now = utcnow()
        since, self._published_until = self._published_until, now - dt.timedelta(seconds=1)
        if since is not None and self.feed.listeners:
            changed = or_(col(Worker.last_seen) > since, col(Worker.updated_at) > since)
            views = await self.db.read(
                lambda s: worker_views(s, s.exec(select(Worker).where(changed)).all())
            )
            for view in views:
                self.feed.publish("worker", view)
        clock = time.monotonic()
        if self._forgot_at is None or clock - self._forgot_at >= _FORGET_EVERY_S:
            self._forgot_at = clock
            for worker_id in await self.forget_offline(now - FORGET_OFFLINE_AFTER):
                self.feed.publish("worker", {"id": worker_id, "deleted": True})

    async def forget_offline(self, before: dt.datetime) -> list[str]:
        """Delete the workers offline since before ``before``; their ids."""
        return await self.db.run(functools.partial(_forget, before=before))


def _forget(session: Session, before: dt.datetime) -> list[str]:
    return list(
        session.execute(
            delete(Worker).where(col(Worker.offline_at) < before).returning(col(Worker.id))
        ).scalars()
    )
