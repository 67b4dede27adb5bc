"""``python`` jobs: ``target`` names a callable; args are its keyword arguments.

The one option, ``import_path``, names a folder under the server's root dir that is put first on
the job process's ``sys.path`` before the target is imported: how the jobs of an app deployed
from a path (a ``.py`` file or a folder) find their modules.
"""

from __future__ import annotations

import importlib

from jobext.errors import Invalid

TYPE_CHECKING = False  # not `from typing import`: job processes must not pay for typing
if TYPE_CHECKING:
    from typing import Any

    from jobext.db.tables import Job
    from jobext.kinds.registry import KindEnv


# Job processes import this module: it stays free of heavy imports (asyncio alone would add
# 15 ms to every run); see ``tests/test_context.py``.


OPTIONS: dict[str, type] = {"import_path": str}


def _dotted(text: str) -> bool:
    return bool(text) and all(part.isidentifier() for part in text.split("."))


def check(job: Job, env: KindEnv) -> str:
    """The target must name a callable: ``package.module:callable`` or a dotted path."""
    target = job.target.strip()
    module, sep, attr = target.partition(":")
    if not _dotted(module) or (sep and not _dotted(attr)):
        raise Invalid(
            "target",
            "must be 'package.module:callable' or a dotted path such as 'package.module.callable'",
        )
    if not sep and "." not in module:
        raise Invalid("target", "a dotted path needs a module and a callable, e.g. 'mod.func'")
    for key, value in (job.options or {}).items():
        if key != "import_path":
            raise Invalid("options", f"unknown option {key!r}; python jobs take {sorted(OPTIONS)}")
        if not isinstance(value, str):
            raise Invalid("options", "import_path must be a folder under the server's root dir")
        _import_dir(value, env)
    return target


def _import_dir(relative: str, env: KindEnv) -> str:
    """The folder ``relative`` under the root dir, as an absolute path; :class:`Invalid` when
    it leaves the root dir or is no folder."""
    from pathlib import Path

    from jobext.paths import under_root

    path, found = under_root(relative, Path(env.root_dir), field="options", what="import_path")
    if found != "dir":
        raise Invalid("options", f"import_path {relative!r} is no folder under the root dir")
    return str(path)


def launch_options(job: Job, env: KindEnv, run_uuid: str) -> dict[str, Any]:
    """The absolute ``import_path``, when the job has one."""
    relative = (job.options or {}).get("import_path")
    return {"import_path": _import_dir(relative, env)} if relative else {}


def merge_args(default_args: Any, args: Any, *, field: str) -> dict[str, Any]:
    if args is not None and not isinstance(args, dict):
        raise Invalid(field, "python jobs take a JSON object of keyword arguments")
    merged: dict[str, Any] = dict(default_args) if isinstance(default_args, dict) else {}
    merged.update(args or {})
    bad = [k for k in merged if not k.isidentifier()]
    if bad:
        raise Invalid(field, f"{bad[0]!r} is not a valid keyword argument name")
    return merged


def resolve(target: str) -> Any:
    """Import the object ``target`` names."""
    module_name, sep, attr = target.partition(":")
    if sep:
        obj: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
        return obj
    parts = target.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError as exc:
            if exc.name and ".".join(parts[:cut]).startswith(exc.name):
                continue
            raise
        for part in parts[cut:]:
            obj = getattr(obj, part)
        return obj
    raise ModuleNotFoundError(f"no module found in {target!r}")


def run(target: str, args: dict[str, Any]) -> Any:
    """Call the callable with ``args``; a class is instantiated and its ``run`` (or
    ``execute``) method called; a coroutine is run to completion."""
    obj = resolve(target)
    if isinstance(obj, type):
        instance = obj()
        method = getattr(instance, "run", None) or getattr(instance, "execute", None)
        if method is None:
            raise TypeError(f"{target} is a class without a run() or execute() method")
        obj = method
    if not callable(obj):
        raise TypeError(f"{target} is not callable")
    value = obj(**args)
    if hasattr(value, "__await__"):
        import asyncio

        value = asyncio.run(_await(value))
    return value


async def _await(awaitable: Any) -> Any:
    return await awaitable


def execute(spec: dict[str, Any], channel: Any) -> dict[str, Any]:
    """Run the job in this process; its return value, if any, goes to the log."""
    import_path = (spec.get("options") or {}).get("import_path")
    if import_path:
        import sys

        sys.path.insert(0, import_path)
    value = run(spec["target"], spec.get("args") or {})
    if value is not None:
        channel.send({"t": "log", "level": "INFO", "text": f"returned {repr(value)[:2000]}"})
    return {"t": "end", "status": "succeeded", "exit_code": 0}
