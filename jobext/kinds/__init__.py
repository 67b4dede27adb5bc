"""How each job kind is checked on the server and run inside the job's process.

The server side (``validate_target``, ``merge_args``) runs in the Jupyter server; ``run`` runs in
the job's process (see ``jobext.runner``) and must import nothing heavy.
"""

from __future__ import annotations

import importlib

from ..errors import Invalid

TYPE_CHECKING = False  # not `from typing import`: job processes import this package
if TYPE_CHECKING:
    from types import ModuleType
    from typing import Any

#: Kinds this version knows; their modules are imported on first use (job processes import only
#: the one they run).
KNOWN = ("python", "shell")


def _module(kind: str) -> ModuleType | None:
    if kind not in KNOWN:
        return None
    return importlib.import_module(f"{__name__}.{kind}")


def validate_target(kind: str, target: str) -> str:
    """Check a job's ``target`` for ``kind``; return it normalised or raise :class:`Invalid`."""
    module = _module(kind)
    if module is None:
        raise Invalid("kind", f"jobs of kind {kind!r} are not available in this version")
    checked: str = module.validate_target(target)
    return checked


def merge_args(kind: str, default_args: Any, args: Any, *, field: str = "args") -> Any:
    """The args a run gets: the job's ``default_args`` overlaid with the request's ``args``."""
    module = _module(kind)
    if module is None:
        raise Invalid("kind", f"jobs of kind {kind!r} are not available in this version")
    return module.merge_args(default_args, args, field=field)
