"""Job definitions: register, list, change, delete, and per-job statistics.

:class:`~jobext.runs.manager.JobService` builds the run operations on top of this class; the REST
handlers call both through one service object.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Protocol

from pydantic import ValidationError
from sqlalchemy import delete, func, or_, update
from sqlmodel import select

from jobext.db.engine import Store
from jobext.db.paging import PageRequest, paginate
from jobext.db.tables import Job, Run, RunEvent, Schedule, ScheduleFire
from jobext.errors import Conflict, Forbidden, Invalid, NotFound
from jobext.jobs.shapes import JobCreate, JobUpdate, job_json
from jobext.kinds import registry as kinds
from jobext.runs.filters import escape_like
from jobext.runs.shapes import run_json
from jobext.states import IN_PROGRESS, RunStatus
from jobext.times import iso, utcnow

JOB_SORTS = ("name", "kind", "created_at", "updated_at")


class RunControl(Protocol):
    """What the service tells the part that owns the processes (the supervisor)."""

    def wake(self) -> None:
        """Queued runs may be startable now."""

    def apply(self, run: Run) -> None:
        """``run``'s status was changed by a request; steer its process to match."""


class _NoControl:
    def wake(self) -> None:
        pass

    def apply(self, run: Run) -> None:
        pass


def validation_error(exc: ValidationError) -> Invalid:
    """The first problem pydantic found, as :class:`Invalid` naming the field."""
    first = exc.errors()[0]
    # The input models are flat: the first element names the field; deeper ones name union
    # branches or list positions that mean nothing to the caller.
    loc = first.get("loc", ())
    field = str(loc[0]) if loc else None
    message = first.get("msg", "is not valid")
    if first.get("type") == "extra_forbidden":
        message = "is not a known field"
    elif first.get("type") == "missing":
        message = "is required"
    return Invalid(field, message)


class JobCatalog:
    """The rules of job definitions over a :class:`Store`."""

    def __init__(
        self,
        store: Store,
        *,
        results_dir: Path,
        allowed_kinds: frozenset[str] = frozenset({"python", "shell"}),
        api_base: str = "/jobext/api/v1",
    ):
        self.store = store
        self.results_dir = results_dir
        self.allowed_kinds = allowed_kinds
        self.api_base = api_base
        self.kind_env = kinds.KindEnv()
        self.control: RunControl = _NoControl()

    # ------------------------------------------------------------------ jobs

    def get_job(self, name: str) -> Job:
        with self.store.read() as session:
            job = session.get(Job, name)
        if job is None:
            raise NotFound(f"no job named {name!r}")
        return job

    def jobs_of_kind(self, kind: str) -> list[Job]:
        with self.store.read() as session:
            return list(session.exec(select(Job).where(Job.kind == kind)).all())

    def list_jobs(self, page: PageRequest) -> tuple[list[Job], int]:
        stmt = select(Job)
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
        with self.store.read() as session:
            return paginate(
                session,
                stmt,
                page,
                columns=columns,
                default_sort="name",
                tiebreak=Job.name,
            )

    def _check_kind(self, kind: str) -> None:
        if kind not in self.allowed_kinds:
            raise Forbidden(
                f"jobs of kind {kind!r} are disabled on this server "
                f"(JobExtApp.allowed_kinds = {sorted(self.allowed_kinds)})",
                field="kind",
            )

    def register_job(self, data: Any, *, user: str | None) -> Job:
        """Register a job; 400 on bad fields, 403 for a disabled kind, 409 if the name is taken."""
        if not isinstance(data, dict):
            raise Invalid(None, "the body must be a JSON object")
        try:
            spec = JobCreate.model_validate(data)
        except ValidationError as exc:
            raise validation_error(exc) from None
        self._check_kind(spec.kind)
        fields = spec.model_dump(exclude_none=True, exclude={"name", "kind", "target"})
        job = Job(name=spec.name, kind=spec.kind, target=spec.target, created_by=user, **fields)
        job.target = kinds.check(job, self.kind_env)
        with self.store.write() as session:
            if session.get(Job, spec.name) is not None:
                raise Conflict(f"a job named {spec.name!r} exists already", field="name")
            session.add(job)
        return job

    def update_job(self, name: str, data: Any, *, user: str | None) -> Job:
        """Change some fields of a job; ``name`` and ``kind`` cannot change."""
        if not isinstance(data, dict):
            raise Invalid(None, "the body must be a JSON object")
        for fixed in ("name", "kind"):
            if fixed in data:
                raise Invalid(fixed, "cannot be changed; register a new job instead")
        try:
            spec = JobUpdate.model_validate(data)
        except ValidationError as exc:
            raise validation_error(exc) from None
        changes = spec.model_dump(exclude_unset=True)
        with self.store.write() as session:
            job = session.exec(self.store.for_update(select(Job).where(Job.name == name))).first()
            if job is None:
                raise NotFound(f"no job named {name!r}")
            for key in (
                "target",
                "max_concurrent",
                "retries",
                "retry_backoff_s",
                "queue_when_busy",
            ):
                if key in changes and changes[key] is None:
                    raise Invalid(key, "cannot be null")
            if "description" in changes and changes["description"] is None:
                changes["description"] = ""
            for key, value in changes.items():
                setattr(job, key, value)
            job.target = kinds.check(job, self.kind_env)
            job.updated_at = utcnow()
            session.add(job)
        self.control.wake()
        return job

    def delete_job(self, name: str) -> int:
        """Delete a job with its runs, logs and results; 409 while a run is in progress.

        Returns how many runs were removed.
        """
        with self.store.write() as session:
            job = session.exec(self.store.for_update(select(Job).where(Job.name == name))).first()
            if job is None:
                raise NotFound(f"no job named {name!r}")
            busy = self._count_runs(session, name, IN_PROGRESS)
            if busy:
                raise Conflict(
                    f"job {name!r} has {busy} run(s) in progress; stop them first",
                    reason="in_progress",
                )
            ids = list(session.exec(select(Run.id).where(Run.job == name)).all())
            uuids = self._delete_runs(session, ids)
            schedules = list(session.exec(select(Schedule.id).where(Schedule.job == name)).all())
            for chunk in _chunks(schedules, 500):
                session.execute(delete(ScheduleFire).where(ScheduleFire.schedule_id.in_(chunk)))
            session.execute(delete(Schedule).where(Schedule.job == name))
            session.delete(job)
        self._remove_result_dirs(uuids)
        return len(ids)

    def job_detail(self, name: str) -> dict[str, Any]:
        """A job with its ``stats``, ``latest_run`` and ``next_run_at``."""
        detail = job_json(self.get_job(name))
        stats = self._stats(name)
        detail["stats"] = stats
        detail["latest_run"] = stats["latest_run"]
        detail["next_run_at"] = stats["next_run_at"]
        return detail

    def job_stats(self, name: str) -> dict[str, Any]:
        """``{total, succeeded, failed, stopped, in_progress, average_duration_s, latest_run,
        next_run_at}`` for one job; 404 if unknown."""
        self.get_job(name)
        return self._stats(name)

    def _stats(self, name: str) -> dict[str, Any]:
        with self.store.read() as session:
            counts = dict(
                session.exec(
                    select(Run.status, func.count()).where(Run.job == name).group_by(Run.status)
                ).all()
            )
            average = session.exec(
                select(func.avg(Run.duration_s)).where(
                    Run.job == name, Run.status == RunStatus.SUCCEEDED.value
                )
            ).one()
            latest = session.exec(
                select(Run).where(Run.job == name).order_by(Run.id.desc()).limit(1)
            ).first()
            next_run_at = session.exec(
                select(func.min(Schedule.next_fire_at)).where(Schedule.job == name, Schedule.active)
            ).one()
        return {
            "total": sum(counts.values()),
            "succeeded": counts.get("succeeded", 0),
            "failed": counts.get("failed", 0),
            "stopped": counts.get("stopped", 0),
            "in_progress": sum(counts.get(s.value, 0) for s in IN_PROGRESS),
            "average_duration_s": round(average, 3) if average is not None else None,
            "latest_run": self.run_json(latest) if latest else None,
            "next_run_at": iso(next_run_at),
        }

    def run_json(self, run: Run) -> dict[str, Any]:
        return run_json(run, self.api_base)

    @staticmethod
    def _count_runs(session: Any, job: str, statuses: frozenset[RunStatus]) -> int:
        return int(
            session.exec(
                select(func.count()).where(
                    Run.job == job,
                    Run.status.in_(sorted(s.value for s in statuses)),
                )
            ).one()
        )

    @staticmethod
    def _delete_runs(session: Any, ids: list[int]) -> list[str]:
        """Delete runs and their events in ``session``; return their uuids (for their results,
        which go once the transaction is committed)."""
        uuids: list[str] = []
        for chunk in _chunks(ids, 500):
            uuids += session.exec(select(Run.uuid).where(Run.id.in_(chunk))).all()
            session.execute(delete(RunEvent).where(RunEvent.run_id.in_(chunk)))
            session.execute(
                update(Run).where(Run.restarted_as.in_(chunk)).values(restarted_as=None)
            )
            session.execute(delete(Run).where(Run.id.in_(chunk)))
        return uuids

    def _remove_result_dirs(self, uuids: list[str]) -> None:
        for uuid in uuids:
            path = self.results_dir / uuid
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
