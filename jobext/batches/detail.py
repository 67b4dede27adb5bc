"""A batch as ``GET /batches/{id}`` shows it: counts of its sub-jobs by shown status, how far
behind its pace it is, and one page of its sub-jobs; and a page of batches as the lists show
them, with their counts (reads only)."""

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


def sub_job_counts(session: Session, batch_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """The sub-jobs of each of ``batch_ids`` by the status they show: one grouped query for
    them all (a list's page costs one query, not one a batch)."""
    counts: dict[int, dict[str, int]] = {batch_id: {} for batch_id in batch_ids}
    status = _status_expr()
    if len(counts) == 1:
        # One batch (its detail): grouping by the batch too would cost ~20 % more on SQLite.
        ((batch_id, found),) = counts.items()
        stmt = _with_runs(sa_select(status, func.count()))
        for name, n in session.execute(
            stmt.where(col(BatchSubJob.batch_id) == batch_id).group_by(status)
        ):
            found[str(name)] = int(n)
    elif counts:
        stmt = _with_runs(sa_select(col(BatchSubJob.batch_id), status, func.count()))
        for batch_id, name, n in session.execute(
            stmt.where(col(BatchSubJob.batch_id).in_(list(counts))).group_by(
                col(BatchSubJob.batch_id), status
            )
        ):
            counts[batch_id][str(name)] = int(n)
    return counts


def batch_list_items(session: Session, batches: Sequence[Batch]) -> list[dict[str, Any]]:
    """``batches`` as lists show them: each batch's fields with its ``counts``."""
    counts = sub_job_counts(session, [batch.id for batch in batches if batch.id is not None])
    return [{**batch_json(batch), "counts": counts.get(batch.id or 0, {})} for batch in batches]


def batch_detail(session: Session, batch: Batch, page: int, per_page: int) -> dict[str, Any]:
    """The batch with ``counts`` (sub-jobs by shown status), ``concurrent_jobs`` (runs
    running now), ``lag_s`` (how far behind its pace the longest-waiting sub-job is) and
    one page of ``sub_jobs``."""
    assert batch.id is not None
    batch_id = batch.id
    now = utcnow()
    counts = sub_job_counts(session, [batch_id])[batch_id]
    waiting_since = session.execute(
        sa_select(func.min(BatchSubJob.due_at))
        .select_from(BatchSubJob)
        .outerjoin(Run, col(Run.id) == col(BatchSubJob.run_id))
        .where(
            col(BatchSubJob.batch_id) == batch_id,
            or_(
                and_(
                    col(BatchSubJob.state) == _S.PENDING.value,
                    col(BatchSubJob.due_at) <= now,
                ),
                and_(
                    col(BatchSubJob.state) == _S.ACTIVE.value,
                    col(Run.status) == RunStatus.QUEUED.value,
                ),
            ),
        )
    ).scalar()
    lag = 0.0
    if waiting_since is not None:
        if waiting_since.tzinfo is None:
            waiting_since = waiting_since.replace(tzinfo=dt.timezone.utc)
        lag = max(0.0, round((now - waiting_since).total_seconds(), 3))
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
        concurrent_jobs=sum(counts.get(s.value, 0) for s in ACTIVE),
        lag_s=lag,
        counts=counts,
        sub_jobs=[sub_job_json(lane, run_status) for lane, run_status in rows],
        sub_jobs_page=page,
        sub_jobs_per_page=per_page,
        sub_jobs_total=batch.concurrent,
    )
    return body
