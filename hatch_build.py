"""Runs after the panel's build (pyproject.toml's hooks, in order).

Removes the panel's development build's copy of ``labextension/install.json`` from
``jobext/labextension/``: the wheel maps that file from its source already, and a second file
at one path fails the build ("A second file is being added to the wheel archive"), as every
editable install after the first did.

Builds jobext's optional C module, ``jobext/kinds/_sqlite_csv.c`` (SQLite query exports as
CSV), next to its source, for wheels and editable installs alike.

Without a C compiler, Python's headers or ``sqlite3.h`` the build goes on without it, saying
why: the export then writes its CSV in Python, slower.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SOURCE = Path("jobext/kinds/_sqlite_csv.c")


class SqliteCsvBuild(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":  # an sdist carries the source, not a build of it
            return
        root = Path(self.root)
        (root / "jobext/labextension/install.json").unlink(missing_ok=True)
        source = root / SOURCE
        target = source.with_name("_sqlite_csv" + str(sysconfig.get_config_var("EXT_SUFFIX")))
        stale = not target.exists() or target.stat().st_mtime < source.stat().st_mtime
        if stale and not _compile(source, target):
            return
        build_data["artifacts"].append(str(target.relative_to(root)))
        build_data["pure_python"] = False
        build_data["infer_tag"] = True


def _compile(source: Path, target: Path) -> bool:
    config = sysconfig.get_config_var
    command = [
        *shlex.split(str(config("LDSHARED") or "cc -shared")),
        *shlex.split(str(config("CCSHARED") or "-fPIC")),
        "-O2",
        f"-I{sysconfig.get_paths()['include']}",
        str(source),
        "-o",
        str(target.with_suffix(".partial")),
        "-lsqlite3",
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError as exc:
        done = None
        reason = str(exc)
    if done is not None and done.returncode == 0:
        target.with_suffix(".partial").replace(target)
        return True
    if done is not None:
        reason = (done.stderr or done.stdout).strip()[-2000:]
    print(
        f"jobext: the C module {source.name} was not built, SQLite exports will write their "
        f"CSV in Python (slower): {' '.join(command)}\n{reason}",
        file=sys.stderr,
    )
    return False
