"""Job definitions: register, list, change, delete, and per-job statistics.

Every method is a coroutine whose database work is one transaction run off the event loop
(:class:`~jobext.db.engine.Database`); checking a definition against its kind (which may read a
notebook or scan kernelspecs) runs off the loop too.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import bindparam, delete, func, or_
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from jobext.db.engine import Database
from jobext.db.paging import PageRequest, paginate
from jobext.db.tables import Batch, BatchSubJob, Job, Run, Schedule, ScheduleFire
from jobext.errors import Conflict, Forbidden, Invalid, NotFound
from jobext.jobs.shapes import JobCreate, JobUpdate, job_json
from jobext.kinds import registry as kinds
from jobext.runs.dispatch import ClaimAlong
from jobext.runs.filters import escape_like
from jobext.runs.removal import delete_runs
from jobext.runs.shapes import run_json
from jobext.shapes import parse
from jobext.states import IN_PROGRESS, RunStatus
from jobext.times import iso, utcnow

_RUN = Run.__table__  # type: ignore[attr-defined]
# A job's stats (GET /jobs/{name}, /jobs/{name}/stats), built once and read as plain rows.
_STATUS_COUNTS = (
    sa_select(_RUN.c.status, func.count())
    .where(_RUN.c.job == bindparam("name"))
    .group_by(_RUN.c.status)
)
_AVERAGE_DURATION = sa_select(func.avg(_RUN.c.duration_s)).where(
    _RUN.c.job == bindparam("name"), _RUN.c.status == RunStatus.SUCCEEDED.value
)
_LATEST_RUN = (
    _RUN.select().where(_RUN.c.job == bindparam("name")).order_by(_RUN.c.id.desc()).limit(1)
)
_NEXT_FIRE = sa_select(func.min(Schedule.next_fire_at)).where(  # type: ignore[call-overload]
    Schedule.job == bindparam("name"), Schedule.active
)

JOB_SORTS = ("name", "kind", "created_at", "updated_at")


class RunControl(Protocol):
    """What the managers tell the part that owns the processes (the supervisor)."""

    def wake(self) -> None:
        """Queued runs may be startable now."""

    def apply(self, run: Run) -> None:
        """``run``'s status was changed by a request; steer its process to match."""

    def claim_along(self) -> ClaimAlong | None:
        """A claim of queued runs to make in an enqueue's transaction, if one can be made."""


class _NoControl:
    def wake(self) -> None:
        pass

    def claim_along(self) -> ClaimAlong | None:
        return None

    def apply(self, run: Run) -> None:
        pass


def get_job(session: Session, name: str) -> Job:
    """The job named ``name``; :class:`NotFound` when there is none."""
    job = session.get(Job, name)
    if job is None:
        raise NotFound(f"no job named {name!r}")
    return job


def count_runs(session: Session, job: str, statuses: frozenset[RunStatus]) -> int:
    """How many runs of ``job`` are in one of ``statuses``."""
    return int(
        session.exec(
            select(func.count()).where(
                Run.job == job, Run.status.in_(sorted(s.value for s in statuses))
            )
        ).one()
    )


def refuse_app_job(job: Job, what: str) -> None:
    """409 for a job an app's code declares: it is changed or deleted by redeploying."""
    if job.app is not None:
        raise Conflict(
            f"job {job.name!r} belongs to app {job.app!r} and cannot be {what} here: change the "
            f"app's code and redeploy it (PUT /apps/{job.app}), or delete the app",
            reason="managed_by_app",
        )


class JobManager:
    """The rules of job definitions."""

    def __init__(
        self,
        db: Database,
        *,
        results_dir: Path,
        allowed_kinds: frozenset[str] = frozenset({"python", "shell"}),
        api_base: str = "/jobext/api/v1",
        kind_env: kinds.KindEnv | None = None,
    ):
        self.db = db
        self.results_dir = results_dir
        self.allowed_kinds = allowed_kinds
        self.api_base = api_base
        self.kind_env = kind_env or kinds.KindEnv()
        self.control: RunControl = _NoControl()
        #: Tells the server-wide feed (``GET /events``) of a change: ``(kind, data)``.
        self.publish: Callable[[str, Any], None] = lambda kind, data: None

    async def get(self, name: str) -> Job:
        """The job named ``name``; 404 when there is none."""
        return await self.db.read(lambda s: get_job(s, name))

    async def of_kind(self, kind: str) -> list[Job]:
        return await self.db.read(lambda s: list(s.exec(select(Job).where(Job.kind == kind)).all()))

    async def list_page(
        self, page: PageRequest, *, app: str | None = None
    ) -> tuple[list[Job], int]:
        """One page of job definitions; ``search`` matches name, description and target;
        ``app`` keeps the jobs of that app."""
        stmt = select(Job)
        if app is not None:
            stmt = stmt.where(Job.app == app)
        if page.search:
            pattern = f"%{escape_like(page.search)}%"
            stmt = stmt.where(
                or_(
                    Job.name.like(pattern, escape="\\"),
                    Job.description.like(pattern, escape="\\"),
                    Job.target.like(pattern, escape="\\"),
                )
            )
        columns = {name: getattr(Job, name) for name in JOB_SORTS}
        return await self.db.read(
            lambda s: paginate(
                s, stmt, page, columns=columns, default_sort="name", tiebreak=Job.name
            )
        )

    def check_kind(self, kind: str) -> None:
        """403 naming ``kind`` when this server does not run jobs of that kind."""
        if kind not in self.allowed_kinds:
            raise Forbidden(
                f"jobs of kind {kind!r} are disabled on this server "
                f"(JobExtApp.allowed_kinds = {sorted(self.allowed_kinds)})",
                field="kind",
            )

    def build(self, data: Any, *, user: str | None, app: str | None = None) -> Job:
        """A job from a registration body (``POST /jobs``), checked against its kind but not
        saved: 400 on bad fields, 403 for a disabled kind. The app deployer builds its jobs
        here too."""
        spec = parse(JobCreate, data)
        self.check_kind(spec.kind)
        fields = spec.model_dump(exclude_none=True, exclude={"name", "kind", "target"})
        job = Job(
            name=spec.name, kind=spec.kind, target=spec.target, created_by=user, app=app, **fields
        )
        job.target = kinds.check(job, self.kind_env)
        return job

    @staticmethod
    def insert(session: Session, job: Job) -> Job:
        """Add a built job in ``session``'s transaction; 409 if the name is taken."""
        taken = Conflict(f"a job named {job.name!r} exists already", field="name")
        if session.get(Job, job.name) is not None:
            raise taken
        try:
            # Flushed now, in a savepoint: on PostgreSQL another transaction may register the
            # same name between the check above and our commit, and the primary key decides.
            with session.begin_nested():
                session.add(job)
        except IntegrityError:
            if session.get(Job, job.name) is None:
                raise
            raise taken from None
        return job

    async def register(self, data: Any, *, user: str | None) -> Job:
        """Register a job; 400 on bad fields, 403 for a disabled kind, 409 if the name is taken."""
        # On the loop: a notebook job's check warms the kernel pool, which lives there.
        job = self.build(data, user=user)
        job = await self.db.run(lambda s: self.insert(s, job))
        self.publish("job", job_json(job))
        return job

    async def update(self, name: str, data: Any, *, user: str | None) -> Job:
        """Change some fields of a job; ``name`` and ``kind`` cannot change (400); a job of an
        app changes only by redeploying the app (409)."""
        if isinstance(data, dict):
            for fixed in ("name", "kind"):
                if fixed in data:
                    raise Invalid(fixed, "cannot be changed; register a new job instead")
        changes = parse(JobUpdate, data).model_dump(exclude_unset=True)
        if "description" in changes and changes["description"] is None:
            changes["description"] = ""

        def change(session: Session) -> Job:
            job = session.exec(self.db.for_update(select(Job).where(Job.name == name))).first()
            if job is None:
                raise NotFound(f"no job named {name!r}")
            refuse_app_job(job, "changed")
            for key, value in changes.items():
                setattr(job, key, value)
            # On the database's thread: checking may read a notebook.
            job.target = kinds.check(job, self.kind_env)
            job.updated_at = utcnow()
            session.add(job)
            return job

        job = await self.db.run(change)
        self.control.wake()
        self.publish("job", job_json(job))
        return job

    async def delete(self, name: str) -> int:
        """Delete a job with its schedules, batches, runs, logs and results; 409 while a run
        is in progress, and for a job of an app. Returns how many runs were removed.

        The job, its schedules and its batches go in one transaction (no run can be added after
        it); its runs then go in chunks (see :mod:`jobext.runs.removal`).
        """
        ids, batches = await self.db.run(lambda s: self.drop(s, name))
        self.announce_dropped(name, batches)
        return await delete_runs(self.db, self.results_dir, ids, publish=self.publish)

    def drop(
        self, session: Session, name: str, *, app: str | None = None
    ) -> tuple[list[int], list[int]]:
        """In ``session``'s transaction: delete job ``name`` with its schedules and batches;
        return the ids of its runs (to delete, or keep) and of its batches. 404 if unknown,
        409 while a run is in progress, 409 when the job belongs to an app other than ``app``
        (only that app's deployer passes it)."""
        job = session.exec(self.db.for_update(select(Job).where(Job.name == name))).first()
        if job is None:
            raise NotFound(f"no job named {name!r}")
        if job.app != app:
            refuse_app_job(job, "deleted")
        busy = count_runs(session, name, IN_PROGRESS)
        if busy:
            raise Conflict(
                f"job {name!r} has {busy} run(s) in progress; stop them first",
                reason="in_progress",
            )
        schedules = select(Schedule.id).where(Schedule.job == name).scalar_subquery()
        session.execute(delete(ScheduleFire).where(ScheduleFire.schedule_id.in_(schedules)))
        session.execute(delete(Schedule).where(Schedule.job == name))
        batches = [b for b in session.exec(select(Batch.id).where(Batch.job == name)) if b]
        if batches:
            session.execute(delete(BatchSubJob).where(BatchSubJob.batch_id.in_(batches)))
            session.execute(delete(Batch).where(Batch.id.in_(batches)))
        session.delete(job)
        return list(session.exec(select(Run.id).where(Run.job == name)).all()), batches

    def announce_dropped(self, name: str, batches: list[int]) -> None:
        """Tell the feed that job ``name`` and its ``batches`` went (after the commit)."""
        self.publish("job", {"name": name, "deleted": True})
        for batch_id in batches:
            self.publish("batch", {"id": batch_id, "deleted": True})

    async def detail(self, name: str) -> dict[str, Any]:
        """A job with its ``stats``, ``latest_run`` and ``next_run_at``; 404 if unknown."""

        def read(session: Session) -> dict[str, Any]:
            detail = job_json(get_job(session, name))
            stats = self._stats(session, name)
            detail["stats"] = stats
            detail["latest_run"] = stats["latest_run"]
            detail["next_run_at"] = stats["next_run_at"]
            return detail

        return await self.db.read(read)

    async def stats(self, name: str) -> dict[str, Any]:
        """``{total, succeeded, failed, stopped, in_progress, average_duration_s, latest_run,
        next_run_at}`` for one job; 404 if unknown."""

        def read(session: Session) -> dict[str, Any]:
            get_job(session, name)
            return self._stats(session, name)

        return await self.db.read(read)

    def _stats(self, session: Session, name: str) -> dict[str, Any]:
        conn = session.connection()
        named = {"name": name}
        counts: dict[str, int] = dict(conn.execute(_STATUS_COUNTS, named).all())
        average = conn.execute(_AVERAGE_DURATION, named).scalar()
        latest = conn.execute(_LATEST_RUN, named).first()
        next_run_at = conn.execute(_NEXT_FIRE, named).scalar()
        return {
            "total": sum(counts.values()),
            "succeeded": counts.get("succeeded", 0),
            "failed": counts.get("failed", 0),
            "stopped": counts.get("stopped", 0),
            "in_progress": sum(counts.get(s.value, 0) for s in IN_PROGRESS),
            "average_duration_s": round(average, 3) if average is not None else None,
            "latest_run": run_json(latest, self.api_base) if latest else None,
            "next_run_at": iso(next_run_at),
        }
