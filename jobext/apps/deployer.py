"""The rules of apps: deploy, redeploy (sync) and delete (reading: :mod:`jobext.apps.reader`).

A deployment imports the app's code in a process of its own (:func:`~jobext.apps.plan.discover`),
builds and checks every job and schedule it declares by the rules of ``POST /jobs`` and ``POST
/schedules`` (:class:`~jobext.apps.plan.Planner`), and only then syncs them in ONE transaction:
new jobs are inserted, changed ones updated, removed ones dropped by the same step as ``DELETE
/jobs/{name}`` (:meth:`JobManager.drop`), and the schedules the code declares follow. Any error
rolls the whole transaction back: a deployment changes everything or nothing. Nothing here
knows HTTP.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from jobext.apps.plan import Plan, Planner, Source, check_path, discover, relative_path
from jobext.apps.reader import AppReader, get_app
from jobext.apps.shapes import AppCreate, AppUpdate
from jobext.db.tables import App, Job, Schedule
from jobext.errors import Conflict, JobExtError
from jobext.jobs.manager import JobManager
from jobext.jobs.shapes import job_json
from jobext.runs.removal import delete_runs as remove_runs
from jobext.schedules.manager import ScheduleService
from jobext.shapes import parse
from jobext.times import utcnow

#: The fields of a job that its app's code decides (a redeployment syncs them).
JOB_FIELDS = (
    "kind",
    "target",
    "description",
    "connection",
    "kernel",
    "default_args",
    "options",
    "max_concurrent",
    "queue_when_busy",
    "timeout_s",
    "retries",
    "retry_backoff_s",
    "restartable",
    "keep_runs",
    "keep_days",
)
#: The fields of a schedule that its app's code decides; ``active`` stays as paused or resumed.
SCHEDULE_FIELDS = (
    "cron",
    "timezone",
    "args",
    "misfire",
    "misfire_grace_s",
    "overlap",
    "description",
)


@dataclasses.dataclass
class Synced:
    """What one deployment's transaction did, to announce after its commit."""

    app: App
    changes: dict[str, list[str]]
    jobs: list[Job] = dataclasses.field(default_factory=list)
    dropped: dict[str, list[int]] = dataclasses.field(default_factory=dict)
    run_ids: list[int] = dataclasses.field(default_factory=list)
    schedules: list[Schedule] = dataclasses.field(default_factory=list)
    schedules_deleted: list[int] = dataclasses.field(default_factory=list)


class AppDeployer(AppReader):
    """Apps over the database (deploy, redeploy, delete, and read); one per server."""

    def __init__(
        self,
        jobs: JobManager,
        schedules: ScheduleService,
        *,
        job_dir: Path,
        import_timeout_s: float = 60.0,
    ):
        self.jobs = jobs
        self.schedules = schedules
        self.db = jobs.db
        self.job_dir = job_dir
        self.root = Path(jobs.kind_env.root_dir).resolve()
        self.import_timeout_s = import_timeout_s

    # ------------------------------------------------------------------ deploying

    async def deploy(self, data: Any, *, user: str | None) -> dict[str, Any]:
        """Deploy a new app ``{name, module}`` or ``{name, path}``: the app with its jobs and
        ``changes``. 400 naming ``module`` or ``path`` (import error, bad declaration, a job
        name used twice), 403 for a job kind this server does not run, 409 when the app or
        one of its job names exists already."""
        spec = parse(AppCreate, data)
        if await self.db.read(lambda s: s.get(App, spec.name)) is not None:
            raise Conflict(
                f"an app named {spec.name!r} exists already; redeploy it with PUT "
                f"/apps/{spec.name}",
                field="name",
            )
        return await self._deploy(spec.name, Source(spec.module, spec.path), user, new=True)

    async def redeploy(
        self, name: str, data: Any, *, user: str | None, delete_runs: bool = False
    ) -> dict[str, Any]:
        """Import app ``name`` again (from a new ``module`` or ``path`` when given) and sync
        its jobs: changed ones updated, new ones added, removed ones deleted with their
        schedules (their runs kept unless ``delete_runs``). Errors as :meth:`deploy`, and 409
        when a job to remove has runs in progress; a failed redeployment changes nothing but
        the app's ``error``. 404 for an unknown app."""
        spec = parse(AppUpdate, data)
        app = await self.db.read(lambda s: get_app(s, name))
        source = Source(spec.module, spec.path)
        if spec.module is None and spec.path is None:
            source = Source(app.module, app.path)
        try:
            return await self._deploy(name, source, user, new=False, delete_runs=delete_runs)
        except JobExtError as exc:
            message = exc.message
            await self.db.run(lambda s: self._record_error(s, name, message))
            raise

    async def _deploy(
        self, name: str, source: Source, user: str | None, *, new: bool, delete_runs: bool = False
    ) -> dict[str, Any]:
        if source.path is not None:
            absolute = await self.db.off_loop(check_path, source.path, self.root)
            source = Source(path=relative_path(absolute, self.root))
        found = await discover(
            source, job_dir=self.job_dir, root=self.root, timeout_s=self.import_timeout_s
        )
        planner = Planner(self.jobs, self.schedules, app=name, user=user)
        plan = await self.db.off_loop(planner.plan, source, found)
        synced = await self.db.run(lambda s: self._sync(s, name, plan, user, new=new))
        self._announce(synced)
        if delete_runs and synced.run_ids:
            await remove_runs(self.db, self.jobs.results_dir, synced.run_ids)
        detail = await self.detail(name)
        self.jobs.publish("app", detail)
        detail["changes"] = synced.changes
        return detail

    def _sync(
        self, session: Session, name: str, plan: Plan, user: str | None, *, new: bool
    ) -> Synced:
        """The deployment's one transaction."""
        if new:
            app = App(name=name, digest=plan.digest, created_by=user)
            session.add(app)
            try:
                # Now, so that of two servers deploying one new name at once, one gets a 409.
                session.flush()
            except IntegrityError:
                raise Conflict(f"an app named {name!r} exists already", field="name") from None
        else:
            app = get_app(session, name, lock=self.db)
        field = plan.source.field
        current = {j.name: j for j in session.exec(select(Job).where(Job.app == name))}
        declared = {s.job: s for s in session.exec(select(Schedule).where(Schedule.app == name))}
        for job_name in sorted(plan.jobs.keys() - current.keys()):
            taken = session.get(Job, job_name)
            if taken is not None:
                owner = f"app {taken.app!r}" if taken.app else "POST /jobs"
                raise Conflict(
                    f"job {job_name!r} (at {plan.jobs[job_name].where}) exists already, "
                    f"made by {owner}; name it otherwise with name=",
                    field=field,
                    reason="name_taken",
                )
        changes: dict[str, list[str]] = {"added": [], "updated": [], "removed": [], "unchanged": []}
        synced = Synced(app=App(name=name, digest=""), changes=changes)
        for job_name in sorted(current.keys() - plan.jobs.keys()):
            run_ids, batches = self.jobs.drop(session, job_name, app=name)
            synced.dropped[job_name] = batches
            synced.run_ids += run_ids
            if job_name in declared:
                synced.schedules_deleted.append(declared[job_name].id or 0)
            changes["removed"].append(job_name)
        for job_name, planned in plan.jobs.items():
            job = current.get(job_name)
            if job is None:
                job = self.jobs.insert(session, planned.job)
                changed = True
                changes["added"].append(job_name)
            else:
                changed = _copy_changed(job, planned.job, JOB_FIELDS)
                if changed:
                    job.updated_at = utcnow()
                    session.add(job)
            if self._sync_schedule(session, declared.get(job_name), planned.schedule, user, synced):
                changed = True
            if changed:
                synced.jobs.append(job)
                if job_name not in changes["added"]:
                    changes["updated"].append(job_name)
            else:
                changes["unchanged"].append(job_name)
        app.module, app.path = plan.source.module, plan.source.path
        app.digest, app.files = plan.digest, plan.files
        app.deployed_by, app.deployed_at = user, utcnow()
        app.error = app.error_at = None
        session.add(app)
        synced.app = app
        for names in changes.values():
            names.sort()
        return synced

    def _sync_schedule(
        self,
        session: Session,
        current: Schedule | None,
        wanted: Schedule | None,
        user: str | None,
        synced: Synced,
    ) -> bool:
        """Make the job's declared schedule what the code says; True when it changed."""
        if current is None and wanted is None:
            return False
        if current is None and wanted is not None:
            synced.schedules.append(self.schedules.insert(session, wanted))
            return True
        assert current is not None
        if wanted is None:
            self.schedules.drop(session, current)
            synced.schedules_deleted.append(current.id or 0)
            return True
        changes = {
            key: getattr(wanted, key)
            for key in SCHEDULE_FIELDS
            if getattr(current, key) != getattr(wanted, key)
        }
        if not changes:
            return False
        synced.schedules.append(self.schedules.change(session, current, changes, user=user))
        return True

    @staticmethod
    def _record_error(session: Session, name: str, message: str) -> None:
        session.execute(
            update(App).where(col(App.name) == name).values(error=message, error_at=utcnow())
        )

    def _announce(self, synced: Synced) -> None:
        """After the commit: the feed hears of every job and schedule that changed."""
        for job in synced.jobs:
            self.jobs.publish("job", job_json(job))
        for job_name, batches in synced.dropped.items():
            self.jobs.announce_dropped(job_name, batches)
        for schedule in synced.schedules:
            self.schedules.announce(schedule)
        for schedule_id in synced.schedules_deleted:
            self.schedules.announce_deleted(schedule_id)
        if synced.jobs:
            self.jobs.control.wake()

    async def delete(self, name: str, *, delete_runs: bool = False) -> None:
        """Delete app ``name`` and its jobs with their schedules and batches (each as ``DELETE
        /jobs/{name}`` does), in one transaction; their runs are kept unless ``delete_runs``.
        404 for an unknown app, 409 while one of its jobs has runs in progress."""

        def drop(session: Session) -> Synced:
            app = get_app(session, name, lock=self.db)
            synced = Synced(app=app, changes={})
            for job_name in session.exec(select(Job.name).where(Job.app == name)).all():
                run_ids, batches = self.jobs.drop(session, job_name, app=name)
                synced.dropped[job_name] = batches
                synced.run_ids += run_ids
            declared = session.exec(select(Schedule.id).where(Schedule.app == name)).all()
            synced.schedules_deleted = [i for i in declared if i is not None]
            session.delete(app)
            return synced

        synced = await self.db.run(drop)
        self._announce(synced)
        self.jobs.publish("app", {"name": name, "deleted": True})
        if delete_runs and synced.run_ids:
            await remove_runs(self.db, self.jobs.results_dir, synced.run_ids)


def _copy_changed(job: Job, wanted: Job, fields: tuple[str, ...]) -> bool:
    changed = False
    for key in fields:
        if getattr(job, key) != getattr(wanted, key):
            setattr(job, key, getattr(wanted, key))
            changed = True
    return changed
