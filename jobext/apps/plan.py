"""From an app's source to checked rows: run the discovery process, then turn what it found
into the jobs and schedules the app should have, each built and checked by the same rules as
``POST /jobs`` and ``POST /schedules`` (:meth:`JobManager.build`, :meth:`ScheduleService.build`).

Nothing here writes to the database: a deployment checks everything first, and only then syncs
(:mod:`jobext.apps.deployer`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from jobext.apps.shapes import Declared, DeclaredSchedule
from jobext.db.tables import NAME_RE, Job, Schedule
from jobext.errors import Forbidden, Invalid, JobExtError
from jobext.jobs.manager import JobManager
from jobext.jobs.shapes import JobFields
from jobext.paths import under_root
from jobext.schedules.manager import ScheduleService
from jobext.shapes import parse

#: The job options a declaration passes on to ``POST /jobs``'s rules.
JOB_OPTIONS = frozenset(JobFields.model_fields)
#: Answers larger than this are not read (an app declares jobs, not data).
MAX_ANSWER_BYTES = 64 * 1024 * 1024


@dataclasses.dataclass(frozen=True)
class Source:
    """Where an app's code is: a dotted ``module`` or a ``path`` under the root dir."""

    module: str | None = None
    path: str | None = None

    @property
    def field(self) -> str:
        """The request field that names it (the one an error points at)."""
        return "module" if self.module is not None else "path"

    def __str__(self) -> str:
        return f"module {self.module!r}" if self.module is not None else f"path {self.path!r}"


@dataclasses.dataclass
class Planned:
    """One job the app's code declares, built and checked, not saved."""

    job: Job
    schedule: Schedule | None
    where: str | None


@dataclasses.dataclass
class Plan:
    """What an app should be after a deployment."""

    source: Source
    digest: str
    files: list[str]
    jobs: dict[str, Planned]


def check_path(raw: str, root: Path) -> Path:
    """The app path ``raw`` under ``root``, resolved: a ``.py`` file named like a module, or a
    folder; 400 naming ``path`` otherwise. Reads the file system: call it off the loop."""
    path, found = under_root(raw, root, field="path")
    if found == "file":
        if path.suffix != ".py":
            raise Invalid("path", f"{raw!r} is neither a .py file nor a folder")
        if not path.stem.isidentifier():
            raise Invalid("path", f"{path.name!r} is no module name (letters, digits and '_')")
    elif found is None:
        raise Invalid("path", f"nothing at {raw!r} under the server's root dir")
    return path


def relative_path(path: Path, root: Path) -> str:
    """``path`` as the API shows it: relative to the root dir, POSIX style."""
    return path.relative_to(root.resolve()).as_posix() or "."


async def discover(
    source: Source, *, job_dir: Path, root: Path, timeout_s: float
) -> dict[str, Any]:
    """Run :mod:`jobext.apps.discover` on ``source`` in a process of its own (its own session,
    in the job directory) and return its answer; 400 naming ``module`` or ``path`` when the
    code cannot be imported (the exception's last line and where it was raised), does not
    answer within ``timeout_s``, or ends without an answer."""
    request: dict[str, Any] = {"module": source.module}
    if source.path is not None:
        request = {"path": str(root / source.path), "root": str(root)}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "jobext.apps.discover",
        json.dumps(request),
        cwd=str(job_dir),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        start_new_session=True,
        limit=MAX_ANSWER_BYTES,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), timeout_s)
    except asyncio.TimeoutError:
        raise Invalid(
            source.field,
            f"importing {source} took longer than {timeout_s:g} s "
            "(JobExtApp.app_import_timeout_s); it was stopped",
            reason="import_timeout",
        ) from None
    finally:
        # Whatever the app's code started in the process's session goes with it.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        if process.returncode is None:
            await process.wait()
    try:
        answer = json.loads(output)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise Invalid(
            source.field,
            f"importing {source} ended the process (exit code {process.returncode}) "
            "without an answer",
            reason="import_error",
        )
    if not answer.get("ok"):
        where = f" (at {answer['where']})" if answer.get("where") else ""
        raise Invalid(
            source.field,
            f"cannot import {source}: {answer.get('error')}{where}",
            reason="import_error",
        )
    return answer


class Planner:
    """Turns a discovery answer into the checked jobs and schedules of app ``app``."""

    def __init__(self, jobs: JobManager, schedules: ScheduleService, *, app: str, user: str | None):
        self.jobs = jobs
        self.schedules = schedules
        self.app = app
        self.user = user

    def plan(self, source: Source, found: dict[str, Any]) -> Plan:
        """Every declared job built and checked: 400 (or 403 for a kind this server does not
        run) naming the source field, with the job, where it is declared, and why. Reads
        notebooks and kernelspecs: call it off the loop."""
        planned: dict[str, Planned] = {}
        import_path = found.get("import_path")
        entries = [
            ("python", entry["target"], entry["function"], entry.get("doc"), entry)
            for entry in found.get("jobs", [])
        ]
        entries += [
            ("notebook", entry["target"], Path(entry["target"]).stem, None, entry)
            for entry in found.get("notebooks", [])
        ]
        for kind, target, short, doc, entry in entries:
            where = entry.get("where")
            default_name = f"{self.app}.{short}"
            label = f"job {default_name!r}" + (f" at {where}" if where else "")
            try:
                declared = parse(Declared, entry.get("options") or {})
                name = declared.name or default_name
                label = f"job {name!r}" + (f" at {where}" if where else "")
                if not NAME_RE.match(name):
                    raise Invalid("name", f"{name!r} is no job name; give it one with name=")
                if name in planned:
                    raise Invalid(
                        None,
                        f"the name is used twice: at {planned[name].where} and at {where}",
                        reason="duplicate_job",
                    )
                body = declared.model_dump(exclude_none=True, include=set(JOB_OPTIONS))
                body.update(name=name, kind=kind, target=target)
                if doc and "description" not in body:
                    body["description"] = doc
                if kind == "python" and import_path:
                    body["options"] = {"import_path": import_path, **(body.get("options") or {})}
                job = self.jobs.build(body, user=self.user, app=self.app)
                schedule = self._schedule(declared, job)
            except Forbidden as exc:
                raise Forbidden(f"{label}: {exc.message}", field=source.field) from None
            except JobExtError as exc:
                raise Invalid(source.field, f"{label}: {exc.message}", reason=exc.reason) from None
            planned[name] = Planned(job=job, schedule=schedule, where=where)
        return Plan(source=source, digest=found["digest"], files=list(found["files"]), jobs=planned)

    def _schedule(self, declared: Declared, job: Job) -> Schedule | None:
        """The schedule the declaration asks for, built and checked (its args against the
        job), or None."""
        if declared.schedule is None:
            if declared.args is not None:
                raise Invalid(
                    "args",
                    "are the args of the schedule's runs, and there is no schedule "
                    "(default_args are every run's)",
                )
            if declared.timezone not in (None, "UTC"):
                raise Invalid("timezone", "is the schedule's, and there is no schedule")
            return None
        spec = declared.schedule
        if isinstance(spec, str):
            spec = DeclaredSchedule(cron=spec)
        body = spec.model_dump(exclude_none=True)
        body["job"] = job.name
        body.setdefault("timezone", declared.timezone or "UTC")
        if "args" not in body and declared.args is not None:
            body["args"] = declared.args
        schedule = self.schedules.build(body, user=self.user, app=self.app)
        self.schedules.check_args(job, schedule.args)
        return schedule
