"""The read side of apps: lists, one app with its jobs, per-app statistics."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from jobext.apps.shapes import app_json, job_summary
from jobext.db.engine import Database
from jobext.db.paging import PageRequest, paginate
from jobext.db.tables import App, Job, Run, Schedule, Worker
from jobext.errors import NotFound
from jobext.runs.filters import escape_like
from jobext.states import RunStatus

APP_SORTS = ("name", "created_at", "deployed_at")


def get_app(session: Session, name: str, *, lock: Any = None) -> App:
    """App ``name`` (row-locked on PostgreSQL when ``lock`` is the database); 404."""
    stmt = select(App).where(App.name == name)
    app: App | None = session.exec(lock.for_update(stmt) if lock is not None else stmt).first()
    if app is None:
        raise NotFound(f"no app named {name!r}")
    return app


class AppReader:
    """Reads apps; every read is one transaction off the event loop."""

    db: Database

    async def list_page(self, page: PageRequest) -> tuple[list[dict[str, Any]], int]:
        """One page of apps with their jobs; ``search`` matches name, module and path."""
        stmt = select(App)
        if page.search:
            pattern = f"%{escape_like(page.search)}%"
            stmt = stmt.where(
                or_(
                    col(App.name).like(pattern, escape="\\"),
                    col(App.module).like(pattern, escape="\\"),
                    col(App.path).like(pattern, escape="\\"),
                )
            )
        columns = {name: getattr(App, name) for name in APP_SORTS}

        def read(session: Session) -> tuple[list[dict[str, Any]], int]:
            apps, total = paginate(
                session, stmt, page, columns=columns, default_sort="name", tiebreak=App.name
            )
            jobs = _summaries(session, [a.name for a in apps])
            return [app_json(a, jobs[a.name]) for a in apps], total

        return await self.db.read(read)

    async def detail(self, name: str) -> dict[str, Any]:
        """App ``name`` with its jobs; 404 if unknown."""

        def read(session: Session) -> dict[str, Any]:
            app = get_app(session, name)
            return app_json(app, _summaries(session, [name])[name])

        return await self.db.read(read)

    async def stats(self, name: str) -> dict[str, Any]:
        """``{workers, jobs, schedules, runs: {status: count}}`` of app ``name``: the workers
        that can run its jobs now, how many jobs and active schedules it has, and its jobs'
        runs by status. 404 if unknown."""

        def read(session: Session) -> dict[str, Any]:
            get_app(session, name)
            jobs = select(Job.name).where(Job.app == name).scalar_subquery()
            by_status = dict(
                session.exec(
                    select(Run.status, func.count())
                    .where(col(Run.job).in_(jobs))
                    .group_by(col(Run.status))
                ).all()
            )
            return {
                "workers": _ready_workers(session),
                "jobs": int(session.exec(select(func.count()).where(col(Job.app) == name)).one()),
                "schedules": int(
                    session.exec(
                        select(func.count()).where(col(Schedule.job).in_(jobs), Schedule.active)
                    ).one()
                ),
                "runs": {s.value: int(by_status.get(s.value, 0)) for s in RunStatus},
            }

        return await self.db.read(read)

    async def count(self) -> int:
        """How many apps are deployed."""
        return await self.db.read(
            lambda s: int(s.exec(select(func.count()).select_from(App)).one())
        )


def _summaries(session: Session, names: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The job summaries of the apps ``names``, each app's in name order."""
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if not names:
        return found
    schedules = {
        s.job: s for s in session.exec(select(Schedule).where(col(Schedule.app).in_(names)))
    }
    jobs = session.exec(select(Job).where(col(Job.app).in_(names)).order_by(col(Job.name)))
    for job in jobs:
        found[job.app or ""].append(job_summary(job, schedules.get(job.name)))
    return found


def _ready_workers(session: Session) -> int:
    """Where runs can start now: the workers that are online and not draining."""
    return int(
        session.exec(
            select(func.count())
            .select_from(Worker)
            .where(col(Worker.offline_at).is_(None), col(Worker.draining).is_(False))
        ).one()
    )
