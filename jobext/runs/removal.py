"""Removing runs with their logs and result files, in chunks.

A run can hold hundreds of thousands of log lines. They go in transactions of at most
:data:`EVENTS_PER_TX` rows, so no transaction holds SQLite's write lock for long and the event
loop serves other requests between them. The run rows go last, so a removal cut short by a crash
leaves whole runs that can be removed again, never a run without its log.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import delete, select, update
from sqlmodel import Session

from jobext.db.engine import Database
from jobext.db.tables import Run, RunEvent

EVENTS_PER_TX = 10_000
RUNS_PER_TX = 500


def _chunks(items: list[int], size: int) -> list[list[int]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


async def delete_runs(db: Database, results_dir: Path, ids: list[int]) -> int:
    """Delete the runs ``ids``, their events and their result folders; return how many runs
    went. The caller has checked that none of them is in progress."""
    removed = 0
    for chunk in _chunks(sorted(ids), RUNS_PER_TX):
        while await db.run(lambda s, c=chunk: _delete_some_events(s, c)) == EVENTS_PER_TX:
            pass
        uuids = await db.run(lambda s, c=chunk: _delete_run_rows(s, c))
        await db.off_loop(remove_result_dirs, results_dir, uuids)
        removed += len(uuids)
    return removed


def _delete_some_events(session: Session, run_ids: list[int]) -> int:
    some = select(RunEvent.id).where(RunEvent.run_id.in_(run_ids)).limit(EVENTS_PER_TX)
    result = session.execute(delete(RunEvent).where(RunEvent.id.in_(some.scalar_subquery())))
    return int(result.rowcount or 0)


def _delete_run_rows(session: Session, run_ids: list[int]) -> list[str]:
    uuids = list(session.execute(select(Run.uuid).where(Run.id.in_(run_ids))).scalars())
    # Events written since the last chunk (a note from jobext itself) go with the run.
    session.execute(delete(RunEvent).where(RunEvent.run_id.in_(run_ids)))
    session.execute(update(Run).where(Run.restarted_as.in_(run_ids)).values(restarted_as=None))
    session.execute(delete(Run).where(Run.id.in_(run_ids)))
    return uuids


def remove_result_dirs(results_dir: Path, uuids: Iterable[str]) -> None:
    """Remove the result folders of runs (blocking file work: call it off the loop)."""
    for uuid in uuids:
        path = results_dir / uuid
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
