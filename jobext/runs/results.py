"""Finding a run's result file to give out: only a file inside the results directory."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from jobext.db.tables import Run
from jobext.errors import Invalid, NotFound

if TYPE_CHECKING:
    from jobext.runs.manager import RunManager


async def result_file(runs: RunManager, run_id: int, fmt: str | None = None) -> tuple[Run, Path]:
    """The run and the path of its result file; 404 when there is none.

    ``fmt`` asks for another form of the result kept beside it (``html`` of an executed
    notebook). Only files inside the results directory are ever given out.
    """
    if fmt is not None and not re.fullmatch(r"[a-z0-9]{1,10}", fmt):
        raise Invalid("format", f"{fmt!r} is not a file format such as 'html'")
    run = await runs.get(run_id)
    if not run.result_file:
        raise NotFound(f"run {run_id} has no result", reason="no_result")
    return run, await runs.db.off_loop(_result_path, runs.results_dir, run, fmt)


def _result_path(results_dir: Path, run: Run, fmt: str | None) -> Path:
    assert run.result_file is not None
    root = results_dir.resolve()
    path = (root / run.result_file).resolve()
    if fmt is not None and path.suffix != f".{fmt}":
        path = path.with_suffix(f".{fmt}")
        if not path.is_file():
            raise NotFound(f"run {run.id} has no {fmt} result", reason="no_result")
    if not path.is_relative_to(root) or not path.is_file():
        raise NotFound(f"the result file of run {run.id} is gone", reason="no_result")
    return path
