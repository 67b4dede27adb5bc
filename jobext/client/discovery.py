"""Finding the Jupyter server a kernel belongs to."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jobext.client.errors import NoServer


def _runtime_mtime(info: Mapping[str, Any]) -> float:
    """When the server wrote its runtime file: how 'new' it is (0 when unknown)."""
    try:
        from jupyter_core.paths import jupyter_runtime_dir

        path = Path(jupyter_runtime_dir()) / f"jpserver-{info.get('pid')}.json"
        return path.stat().st_mtime
    except (OSError, ImportError):
        return 0.0


def _contains(root: str, path: Path) -> bool:
    try:
        path.resolve().relative_to(Path(root).expanduser().resolve())
    except (ValueError, OSError):
        return False
    return True


def find_server(cwd: str | os.PathLike[str] | None = None) -> tuple[str, str | None]:
    """``(url, token)`` of the running Jupyter server to talk to.

    ``JOBEXT_URL`` (and ``JOBEXT_TOKEN``) win when set. Otherwise the servers in Jupyter's
    runtime dir are asked: the newest one whose root dir contains ``cwd`` (the current
    directory, i.e. the notebook's folder inside a kernel), else the newest one of all.
    Raises :class:`NoServer` when none runs.
    """
    env_url = os.environ.get("JOBEXT_URL")
    if env_url:
        return env_url, os.environ.get("JOBEXT_TOKEN") or None
    from jupyter_server.serverapp import list_running_servers

    servers = [s for s in list_running_servers() if s.get("url")]
    if not servers:
        raise NoServer(
            "no running Jupyter server found; pass url= and token=, or set JOBEXT_URL "
            "and JOBEXT_TOKEN"
        )
    here = Path(cwd) if cwd is not None else Path.cwd()
    servers.sort(key=lambda s: (_runtime_mtime(s), s.get("pid", 0)), reverse=True)
    inside = [s for s in servers if s.get("root_dir") and _contains(s["root_dir"], here)]
    chosen = (inside or servers)[0]
    return str(chosen["url"]), chosen.get("token") or os.environ.get("JOBEXT_TOKEN") or None


# ---------------------------------------------------------------------------- helpers
