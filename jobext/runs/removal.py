"""Removing runs with their logs and result files, in chunks.

:func:`remove_run` (one run: 409 while it is in progress or a batch's) and
:func:`remove_matching_runs` (the ended runs a filter matches, but a batch's) decide what may go;
:func:`delete_runs` deletes it.

A run can hold hundreds of thousands of log lines. They go in transactions of at most
:data:`EVENTS_PER_TX` rows, so no transaction holds SQLite's write lock for long and the event
loop serves other requests between them. The run rows go last, so a removal cut short by a crash
leaves whole runs that can be removed again, never a run without its log.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, select

from jobext.db.engine import Database
from jobext.db.tables import Run, RunEvent
from jobext.errors import Conflict
from jobext.runs.filters import RunFilter
from jobext.runs.rows import get_run, refuse_batch_run
from jobext.states import FINAL, RunAction, run_action_target

if TYPE_CHECKING:
    from jobext.runs.manager import RunManager

EVENTS_PER_TX = 10_000
RUNS_PER_TX = 500


async def remove_run(runs: RunManager, run_id: int) -> None:
    """Delete a run, its log and its result file; 409 while it is in progress."""

    def check(session: Session) -> None:
        run = get_run(session, run_id, lock=runs.db)
        refuse_batch_run(run)
        run_action_target(RunAction.REMOVE, run.state)

    try:
        await runs.db.run(check)
    except Conflict as exc:
        if exc.reason == "managed_by_batch":
            raise
        run = await runs.get(run_id)
        raise Conflict(
            f"run {run_id} is {run.status}; stop it before removing it", reason="in_progress"
        ) from None
    runs.hub.discard([run_id])
    await delete_runs(runs.db, runs.results_dir, [run_id], publish=runs.hub.feed.publish)


async def remove_matching_runs(runs: RunManager, filters: RunFilter) -> dict[str, int]:
    """Delete every ended run that ``filters`` matches, with its log and result, in chunks;
    runs in progress and runs of batches (their batch owns them) are left. Returns
    ``{deleted, in_progress, in_batches}``: how many went, and how many matched but
    stayed."""
    where = filters.conditions()

    def matching(session: Session) -> tuple[list[int], int, int]:
        ended = [s.value for s in FINAL]
        ids = session.exec(
            select(Run.id).where(
                *where,
                Run.status.in_(ended),
                Run.batch_id.is_(None),  # type: ignore[union-attr]
            )
        ).all()
        busy = session.exec(select(func.count()).where(*where, Run.status.not_in(ended))).one()
        in_batches = session.exec(
            select(func.count()).where(
                *where,
                Run.status.in_(ended),
                Run.batch_id.is_not(None),  # type: ignore[union-attr]
            )
        ).one()
        return [i for i in ids if i is not None], int(busy), int(in_batches)

    ids, busy, in_batches = await runs.db.read(matching)
    runs.hub.discard(ids)
    deleted = await delete_runs(runs.db, runs.results_dir, ids, publish=runs.hub.feed.publish)
    return {"deleted": deleted, "in_progress": busy, "in_batches": in_batches}


def _chunks(items: list[int], size: int) -> list[list[int]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


async def delete_runs(
    db: Database,
    results_dir: Path,
    ids: list[int],
    *,
    publish: Callable[[str, Any], None] | None = None,
) -> int:
    """Delete the runs ``ids``, their events and their result folders; return how many runs
    went. The caller has checked that none of them is in progress. ``publish`` tells the
    server-wide feed of each run that went (a ``run`` event ``{id, deleted: true}``), chunk by
    chunk, so that lists drop them."""
    removed = 0
    for chunk in _chunks(sorted(ids), RUNS_PER_TX):
        while await db.run(lambda s, c=chunk: _delete_some_events(s, c)) == EVENTS_PER_TX:
            pass
        uuids = await db.run(lambda s, c=chunk: _delete_run_rows(s, c))
        await db.off_loop(remove_result_dirs, results_dir, uuids)
        removed += len(uuids)
        if publish is not None:
            for run_id in chunk:
                publish("run", {"id": run_id, "deleted": True})
    return removed


def _delete_some_events(session: Session, run_ids: list[int]) -> int:
    some = sa_select(RunEvent.id).where(RunEvent.run_id.in_(run_ids)).limit(EVENTS_PER_TX)
    result = session.execute(delete(RunEvent).where(RunEvent.id.in_(some.scalar_subquery())))
    return int(result.rowcount or 0)


def _delete_run_rows(session: Session, run_ids: list[int]) -> list[str]:
    uuids = list(session.execute(sa_select(Run.uuid).where(Run.id.in_(run_ids))).scalars())
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
