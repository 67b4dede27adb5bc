"""A batch as ``GET /batches/{id}`` shows it: counts of its sub-jobs by shown status, how far
behind its pace it is, and one page of its sub-jobs; and a page of batches as the lists show
them, with their counts and lag (reads only)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, and_, case, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from jobext.batches.shapes import SubJobState, batch_json, sub_job_json
from jobext.db.tables import Batch, BatchSubJob, Run
from jobext.states import ACTIVE, RunStatus
from jobext.times import utcnow

_S = SubJobState


def _status_expr() -> Any:
    """A sub-job's shown status: its run's while an iteration is in progress."""
    return case(
        (
            col(BatchSubJob.state) == _S.ACTIVE.value,
            func.coalesce(col(Run.status), RunStatus.QUEUED.value),
        ),
        else_=col(BatchSubJob.state),
    )


def _with_runs(stmt: Select[Any]) -> Select[Any]:
    """``stmt`` over the sub-jobs joined with their current runs."""
    return stmt.select_from(BatchSubJob).outerjoin(Run, col(Run.id) == col(BatchSubJob.run_id))


def _waiting(now: dt.datetime) -> Any:
    """A sub-job's due time while it waits behind its pace (due and not started, or its run
    still queued); NULL otherwise."""
    behind = or_(
        and_(col(BatchSubJob.state) == _S.PENDING.value, col(BatchSubJob.due_at) <= now),
        and_(col(BatchSubJob.state) == _S.ACTIVE.value, col(Run.status) == RunStatus.QUEUED.value),
    )
    return case((behind, col(BatchSubJob.due_at)), else_=None)


def sub_job_tallies(
    session: Session, batch_ids: Sequence[int], now: dt.datetime
) -> dict[int, dict[str, Any]]:
    """For each of ``batch_ids``: ``counts`` (its sub-jobs by the status they show),
    ``concurrent_jobs`` (runs running now) and ``lag_s`` (how far behind its pace its
    longest-waiting sub-job is). One grouped query for them all: a list's page costs one query,
    not one a batch."""
    found: dict[int, dict[str, int]] = {batch_id: {} for batch_id in batch_ids}
    since: dict[int, dt.datetime] = {}
    status, waiting = _status_expr(), func.min(_waiting(now))
    if len(found) == 1:
        # One batch (its detail): grouping by the batch too would cost ~20 % more on SQLite.
        (batch_id,) = found
        stmt = _with_runs(sa_select(status, func.count(), waiting))
        rows: Any = (
            (batch_id, *row)
            for row in session.execute(
                stmt.where(col(BatchSubJob.batch_id) == batch_id).group_by(status)
            )
        )
    elif found:
        stmt = _with_runs(sa_select(col(BatchSubJob.batch_id), status, func.count(), waiting))
        rows = session.execute(
            stmt.where(col(BatchSubJob.batch_id).in_(list(found))).group_by(
                col(BatchSubJob.batch_id), status
            )
        )
    else:
        rows = ()
    for batch_id, name, n, first in rows:
        found[batch_id][str(name)] = int(n)
        if first is not None:
            if first.tzinfo is None:
                first = first.replace(tzinfo=dt.timezone.utc)
            since[batch_id] = min(first, since.get(batch_id, first))
    return {
        batch_id: {
            "counts": counts,
            "concurrent_jobs": sum(counts.get(s.value, 0) for s in ACTIVE),
            "lag_s": (
                max(0.0, round((now - since[batch_id]).total_seconds(), 3))
                if batch_id in since
                else 0.0
            ),
        }
        for batch_id, counts in found.items()
    }


def batch_list_items(session: Session, batches: Sequence[Batch]) -> list[dict[str, Any]]:
    """``batches`` as lists show them: each batch's fields with its counts, runs running now
    and lag."""
    tallies = sub_job_tallies(
        session, [batch.id for batch in batches if batch.id is not None], utcnow()
    )
    return [{**batch_json(batch), **tallies[batch.id or 0]} for batch in batches]


def batch_detail(session: Session, batch: Batch, page: int, per_page: int) -> dict[str, Any]:
    """The batch as lists show it (counts, runs running now, lag) with one page of
    ``sub_jobs``."""
    assert batch.id is not None
    batch_id = batch.id
    tallies = sub_job_tallies(session, [batch_id], utcnow())[batch_id]
    rows = session.execute(
        sa_select(BatchSubJob, col(Run.status))
        .select_from(BatchSubJob)
        .outerjoin(Run, col(Run.id) == col(BatchSubJob.run_id))
        .where(col(BatchSubJob.batch_id) == batch_id)
        .order_by(col(BatchSubJob.idx))
        .offset(page * per_page)
        .limit(per_page)
    ).all()
    body = batch_json(batch)
    body.update(
        **tallies,
        sub_jobs=[sub_job_json(lane, run_status) for lane, run_status in rows],
        sub_jobs_page=page,
        sub_jobs_per_page=per_page,
        sub_jobs_total=batch.concurrent,
    )
    return body
