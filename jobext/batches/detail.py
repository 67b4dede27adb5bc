"""A batch as ``GET /batches/{id}`` shows it: counts of its sub-jobs by shown status, how far
behind its pace it is, and one page of its sub-jobs (reads only)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, case, func, or_
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


def batch_detail(session: Session, batch: Batch, page: int, per_page: int) -> dict[str, Any]:
    """The batch with ``counts`` (sub-jobs by shown status), ``concurrent_jobs`` (runs
    running now), ``lag_s`` (how far behind its pace the longest-waiting sub-job is) and
    one page of ``sub_jobs``."""
    assert batch.id is not None
    batch_id = batch.id
    now = utcnow()
    status = _status_expr()
    counts = {
        str(name): int(n)
        for name, n in session.execute(
            sa_select(status, func.count())
            .select_from(BatchSubJob)
            .outerjoin(Run, col(Run.id) == col(BatchSubJob.run_id))
            .where(col(BatchSubJob.batch_id) == batch_id)
            .group_by(status)
        ).all()
    }
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
