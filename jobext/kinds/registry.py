"""The server side of job kinds: check definitions, merge args, prepare a launch."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from sqlalchemy.engine import make_url

from jobext.db.tables import Job
from jobext.errors import Invalid
from jobext.kinds.kernel_pool import KernelPool

#: Kinds this version can run, in the order the API lists them.
KNOWN = ("python", "shell", "notebook", "query")


@dataclasses.dataclass(frozen=True)
class KindEnv:
    """What checking and launching jobs needs to know of the server."""

    #: The server's root dir: notebooks live under it.
    root_dir: Path = Path(".")
    #: Query connections: name → SQLAlchemy URL (secret: never shown).
    connections: Mapping[str, str] = dataclasses.field(default_factory=dict)
    #: Pre-started kernels for notebook jobs (None: each run starts its own).
    kernels: KernelPool | None = None


def module(kind: str) -> ModuleType:
    """The module of ``kind``; 400 on ``kind`` when this version has none."""
    if kind not in KNOWN:
        raise Invalid("kind", f"jobs of kind {kind!r} are not available in this version")
    return importlib.import_module(f"jobext.kinds.{kind}")


def check(job: Job, env: KindEnv) -> str:
    """Validate ``job`` for its kind; return its normalised target or raise :class:`Invalid`.

    A kind that declares no ``OPTIONS`` takes none.
    """
    kind = module(job.kind)
    if job.options and not hasattr(kind, "OPTIONS"):
        raise Invalid("options", f"{job.kind} jobs take no options")
    checked: str = kind.check(job, env)
    if job.default_args is not None:
        merge_args(job.kind, None, job.default_args, field="default_args")
    return checked


def merge_args(
    kind: str, default_args: Any, args: Any, *, field: str = "args", target: str | None = None
) -> Any:
    """The args a run gets: the job's ``default_args`` overlaid with the request's ``args``.

    With the job's ``target``, kinds that can tell (a query's ``:name`` parameters) also check
    that the args fit it, so a bad enqueue answers 400 instead of failing the run.
    """
    kind_module = module(kind)
    merged = kind_module.merge_args(default_args, args, field=field)
    check_args = getattr(kind_module, "check_args", None)
    if target is not None and check_args is not None:
        check_args(target, merged, field=field)
    return merged


async def launch_options(job: Job, env: KindEnv, run_uuid: str) -> dict[str, Any]:
    """What the job's process for run ``run_uuid`` needs besides target and args (a kind's
    ``launch_options`` may be a coroutine: a notebook's may fork a kernel)."""
    launch = getattr(module(job.kind), "launch_options", None)
    if launch is None:
        return {}
    options = launch(job, env, run_uuid)
    if inspect.isawaitable(options):
        options = await options
    return dict(options)


def finished(kind: str, run_uuid: str, env: KindEnv) -> None:
    """Run ``run_uuid``'s process has ended: release what its launch took (a kernel)."""
    done = getattr(module(kind), "finished", None)
    if done is not None:
        done(run_uuid, env)


def connection_list(connections: Mapping[str, str]) -> list[dict[str, Any]]:
    """What the API may show of the configured connections: never a password."""
    items = []
    for name in sorted(connections):
        url = make_url(connections[name])
        items.append(
            {
                "name": name,
                "dialect": url.get_backend_name(),
                "driver": url.get_driver_name(),
                "host": url.host,
                "port": url.port,
                "database": url.database,
            }
        )
    return items
