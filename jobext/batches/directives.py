"""What a directive (start, stop, pause, unpause, re-start) does to a batch's row and its
sub-jobs' states, in the caller's transaction, as :data:`~jobext.states.BATCH_ACTIONS` allows.

The controller of the server that holds the batch's lease does the work that follows (starting
groups, stopping and clearing runs); sub-jobs made pending here are paced in groups of the
batch's ``jobs_per_second``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from jobext.batches.shapes import SubJobState
from jobext.db.tables import Batch, BatchSubJob
from jobext.states import BatchDirective, BatchStatus, batch_directive_target
from jobext.times import utcnow

_S = SubJobState


def due_times(start: dt.datetime, count: int, jobs_per_second: int | None) -> list[dt.datetime]:
    """When each of ``count`` sub-jobs starts: in groups of ``jobs_per_second``, one second
    apart from ``start`` (all at ``start`` without a rate)."""
    if not jobs_per_second:
        return [start] * count
    return [start + dt.timedelta(seconds=k // jobs_per_second) for k in range(count)]


def pace_sub_jobs(
    session: Session, batch: Batch, states: list[str], start: dt.datetime, **values: Any
) -> int:
    """Make the sub-jobs of ``batch`` in ``states`` pending, due in groups of the batch's
    ``jobs_per_second`` from ``start`` (lowest sub-job first), setting ``values`` too. One
    statement (or one batched statement of due times). Returns how many."""
    assert batch.id is not None
    where = [col(BatchSubJob.batch_id) == batch.id, col(BatchSubJob.state).in_(states)]
    session.execute(
        update(BatchSubJob).where(*where).values(state=_S.PENDING.value, due_at=start, **values)
    )
    idxs = list(
        session.exec(
            select(BatchSubJob.idx)
            .where(BatchSubJob.batch_id == batch.id, BatchSubJob.state == _S.PENDING.value)
            .order_by(col(BatchSubJob.idx))
        ).all()
    )
    if batch.jobs_per_second and len(idxs) > batch.jobs_per_second:
        dues = due_times(start, len(idxs), batch.jobs_per_second)
        rows = [
            {"batch_id": batch.id, "idx": idx, "due_at": due}
            for idx, due in zip(idxs, dues, strict=True)
            if due != start
        ]
        session.execute(update(BatchSubJob), rows)
    return len(idxs)


def reset_for_start(session: Session, batch: Batch, user: str | None) -> None:
    """Every sub-job from its first iteration, paced from now; the batch ``starting``."""
    now = utcnow()
    pace_sub_jobs(
        session,
        batch,
        [s.value for s in SubJobState],
        now,
        iteration=1,
        done=0,
        failures=0,
        run_id=None,
    )
    batch.status = BatchStatus.STARTING.value
    batch.failures = 0
    batch.done = 0
    batch.error = None
    batch.start_time = now
    batch.stop_time = None
    batch.updated_at = now
    if user is not None:
        batch.started_by = user
    session.add(batch)


def set_sub_job_states(session: Session, batch_id: int, states: list[str], to: SubJobState) -> None:
    """The sub-jobs of the batch in ``states`` go to ``to`` (one statement)."""
    session.execute(
        update(BatchSubJob)
        .where(col(BatchSubJob.batch_id) == batch_id, col(BatchSubJob.state).in_(states))
        .values(state=to.value)
    )


def apply_directive(
    session: Session,
    batch: Batch,
    directive: BatchDirective,
    *,
    jobs_per_second: int | None,
    user: str | None,
) -> bool:
    """Apply ``directive`` to ``batch`` (row-locked by the caller); 409 saying why when the
    batch's status does not allow it. Returns whether the batch changed."""
    assert batch.id is not None
    batch_id = batch.id
    changed = False
    current = BatchStatus(batch.status)
    target = batch_directive_target(directive, current)
    if jobs_per_second is not None:
        batch.jobs_per_second = jobs_per_second
        changed = True
    if target is current:
        session.add(batch)
        return changed
    now = utcnow()
    stop_waiting = [_S.PENDING.value, _S.HELD.value]
    if directive is BatchDirective.START:
        if target is BatchStatus.STARTING:
            reset_for_start(session, batch, user)
            return True
        batch.started_by = user or batch.started_by
        batch.stop_time = None
        batch.error = None
        # Nothing new starts while the controller stops and clears the old runs.
        set_sub_job_states(session, batch_id, stop_waiting, _S.STOPPED)
    elif directive is BatchDirective.STOP:
        set_sub_job_states(session, batch_id, stop_waiting, _S.STOPPED)
    elif directive is BatchDirective.PAUSE:
        set_sub_job_states(session, batch_id, [_S.PENDING.value], _S.HELD)
    elif directive is BatchDirective.UNPAUSE:
        pace_sub_jobs(session, batch, [_S.HELD.value], now)
    batch.status = target.value
    batch.updated_at = now
    session.add(batch)
    return True
