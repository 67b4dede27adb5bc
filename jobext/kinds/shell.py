"""``shell`` jobs: ``target`` is a command line; args are appended to it."""

from __future__ import annotations

import shlex
import subprocess
from typing import TYPE_CHECKING, Any

from jobext.errors import Invalid

if TYPE_CHECKING:
    from jobext.db.tables import Job
    from jobext.kinds.registry import KindEnv


def check(job: Job, env: KindEnv) -> str:
    """The target is a command line (no NUL characters)."""
    target = job.target.strip()
    if not target:
        raise Invalid("target", "must be a command line")
    if "\x00" in target:
        raise Invalid("target", "must not contain NUL characters")
    return target


def merge_args(default_args: Any, args: Any, *, field: str) -> str:
    """Args are a string of space-separated arguments or a list (each item quoted)."""
    chosen = args if args is not None else default_args
    if chosen is None:
        return ""
    if isinstance(chosen, str):
        if "\x00" in chosen:
            raise Invalid(field, "must not contain NUL characters")
        return chosen
    if isinstance(chosen, list) and all(
        isinstance(a, (str, int, float)) and not isinstance(a, bool) for a in chosen
    ):
        return shlex.join(str(a) for a in chosen)
    raise Invalid(field, "shell jobs take a string of arguments or a list of strings and numbers")


def run(target: str, args: str) -> int:
    """Run the command through ``/bin/sh``; its output goes straight to the run's log."""
    command = f"{target} {args}" if args else target
    return subprocess.run(command, shell=True, check=False).returncode


def execute(spec: dict[str, Any], channel: Any) -> dict[str, Any]:
    """Run the command; a non-zero exit fails the run."""
    code = run(spec["target"], spec.get("args") or "")
    if code == 0:
        return {"t": "end", "status": "succeeded", "exit_code": 0}
    why = f"killed by signal {-code}" if code < 0 else f"exited with code {code}"
    return {"t": "end", "status": "failed", "exit_code": code, "error": f"command {why}"}
