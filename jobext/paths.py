"""Paths that requests name under the server's root dir (notebook targets, app sources, import
folders): one check, so none of them can leave the root dir or crash on a name no file system
takes."""

from __future__ import annotations

import re
from pathlib import Path

from jobext.errors import Invalid


def under_root(raw: str, root: Path, *, field: str, what: str = "path") -> tuple[Path, str | None]:
    """``raw`` resolved under ``root``, and what is there: ``"file"``, ``"dir"`` or None.

    :class:`Invalid` naming ``field`` when ``raw`` is absolute, leaves ``root``, or cannot name
    a file at all (a NUL byte, a name too long, a loop of links). Reads the file system: call it
    off the event loop.
    """
    if not raw.strip() or Path(raw).is_absolute() or re.match(r"^[A-Za-z]:", raw):
        raise Invalid(field, f"{what} must be relative to the server's root dir")
    if raw.startswith("\\"):
        raise Invalid(field, f"{what} must be relative to the server's root dir")
    base = root.resolve()
    try:
        path = (base / raw).resolve()
        if not path.is_relative_to(base):
            raise Invalid(field, f"{what} {raw!r} leaves the server's root dir")
        found = "file" if path.is_file() else "dir" if path.is_dir() else None
    except (OSError, ValueError) as exc:
        shown = raw if len(raw) <= 80 else raw[:80] + "…"
        raise Invalid(
            field, f"{what} {shown!r} cannot name a file: {exc.__class__.__name__}"
        ) from None
    return path, found
