"""A batch's sub-jobs ("lanes") and the transactions that move them on.

Each function here is one part of a step's transaction, run on a batch this server holds the
lease of (see :mod:`jobext.batches.leases`): the ended iterations are settled
(:func:`advance_ended_lanes`), the due ones started (:func:`start_due_lanes`), the batch's
status settled (:func:`settle_status`), or the batch ended (:func:`end_batch`). What a step has
to do is read first, without a write (:func:`look`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any

from sqlalchemy import Select, func, or_, update
from sqlalchemy import select as sa_select
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from jobext.batches.shapes import SubJobState
from jobext.db.tables import Batch, BatchSubJob, Job, Run
from jobext.runs.actions import stopped_error
from jobext.runs.manager import RunManager
from jobext.states import (
    BATCH_DRIVEN,
    FINAL,
    IN_PROGRESS,
    BatchStatus,
    RunAction,
    RunStatus,
    Trigger,
    run_action_target,
)
from jobext.times import utcnow

_S = SubJobState
#: Sub-jobs started per transaction; more that are due start in the next one at once.
MAX_RELEASE = 1000
#: Ended iterations settled per transaction.
MAX_ADVANCE = 5000
_DRIVEN = [s.value for s in BATCH_DRIVEN]
_IN_PROGRESS = [s.value for s in IN_PROGRESS]
_FINAL = [s.value for s in FINAL]


@dataclasses.dataclass
class Look:
    """What a batch needs from a step, as last read."""

    #: Some sub-job's run has ended.
    ended: bool = False
    #: Some sub-job is due to start.
    due: bool = False
    next_due: dt.datetime | None = None
    #: The status the batch should move to now (running, paused, completed).
    settle: BatchStatus | None = None


@dataclasses.dataclass
class Outcome:
    """What a step's transaction decided: runs to announce, runs to stop, the batch after."""

    batch: Batch | None = None
    started: list[Run] = dataclasses.field(default_factory=list)
    #: Queued runs the step stopped itself (to announce), and runs in progress to stop.
    stopped: list[Run] = dataclasses.field(default_factory=list)
    to_stop: list[int] = dataclasses.field(default_factory=list)
    changed: bool = False


def lost_to_server(error: str | None) -> bool:
    """Did the run end because its server went away (not through the job's own fault)?"""
    text = error or ""
    return text.startswith("the Jupyter server running it") or text.startswith(
        "stopped because the Jupyter server shut down"
    )


_NO_MODULE = re.compile(r"^ModuleNotFoundError: No module named '([^']+)'")


def target_gone(job: Job | None, error: str | None) -> str | None:
    """Why the batch's job can no longer run, judging by a failed run's error; None when the
    failure is the job's own."""
    text = (error or "").strip()
    if job is None:
        return "its job was deleted"
    if text.startswith("could not start the job"):
        return f"its job {job.name!r} cannot start: {text.splitlines()[0]}"
    match = _NO_MODULE.match(text)
    if match and job.kind == "python":
        module = job.target.partition(":")[0]
        missing = match.group(1)
        if module == missing or module.startswith(missing + "."):
            return f"its target {job.target!r} no longer imports: {text.splitlines()[0]}"
    return None


def _ended_lanes(batch_id: int | None, *columns: Any) -> Select[Any]:
    """``columns`` of the batch's active sub-jobs whose run has ended (or is gone), joined
    with that run."""
    return (
        sa_select(*columns)
        .select_from(BatchSubJob)
        .outerjoin(Run, col(Run.id) == col(BatchSubJob.run_id))
        .where(
            col(BatchSubJob.batch_id) == batch_id,
            col(BatchSubJob.state) == _S.ACTIVE.value,
            or_(col(Run.id).is_(None), col(Run.status).in_(_FINAL)),
        )
    )


def advance_ended_lanes(session: Session, batch: Batch) -> Outcome:
    """Sub-jobs whose run ended go on: next iteration, held (pausing) or completed; the
    batch fails past its threshold, and is invalid when its target is gone."""
    batch_id = batch.id
    rows = session.execute(
        _ended_lanes(batch_id, BatchSubJob, col(Run.status), col(Run.error)).limit(MAX_ADVANCE)
    ).all()
    if not rows:
        return Outcome(batch)
    now = utcnow()
    pausing = batch.status == BatchStatus.PAUSING.value
    job = session.get(Job, batch.job)
    updates: list[dict[str, Any]] = []
    failed = finished = 0
    gone: str | None = None
    for lane, status, error in rows:
        row: dict[str, Any] = {"batch_id": batch_id, "idx": lane.idx}
        if status is None or status == RunStatus.STOPPED.value or lost_to_server(error):
            # Not the job's doing (its server went away, or shut down): the same
            # iteration again.
            row.update(state=_S.HELD.value if pausing else _S.PENDING.value, due_at=now)
            updates.append(row)
            continue
        finished += 1
        done = lane.done + 1
        row.update(done=done)
        if status == RunStatus.FAILED.value:
            failed += 1
            row.update(failures=lane.failures + 1)
            gone = gone or target_gone(job, error)
        if batch.iterations is not None and done >= batch.iterations:
            row.update(state=_S.COMPLETED.value)
        elif pausing:
            row.update(state=_S.HELD.value, iteration=lane.iteration + 1)
        else:
            row.update(state=_S.PENDING.value, iteration=lane.iteration + 1, due_at=now)
        updates.append(row)
    session.execute(update(BatchSubJob), updates)
    batch.failures += failed
    batch.done += finished
    batch.updated_at = now
    outcome = Outcome(batch, changed=True)
    if gone is not None:
        outcome.stopped, outcome.to_stop = end_batch(session, batch, BatchStatus.INVALID, gone)
    elif batch.failures > batch.failures_to_ignore:
        why = (
            f"{batch.failures} run(s) failed, more than failures_to_ignore="
            f"{batch.failures_to_ignore}"
        )
        outcome.stopped, outcome.to_stop = end_batch(session, batch, BatchStatus.FAILED, why)
    session.add(batch)
    return outcome


def end_batch(
    session: Session, batch: Batch, status: BatchStatus, error: str
) -> tuple[list[Run], list[int]]:
    """Make the batch ``failed`` or ``invalid``: nothing new starts, its queued runs are stopped
    (in one statement); return those, to announce, and the runs in progress, to be stopped once
    this commits."""
    assert batch.id is not None
    now = utcnow()
    batch.status = status.value
    batch.error = error
    batch.stop_time = now
    batch.updated_at = now
    session.execute(
        update(BatchSubJob)
        .where(
            col(BatchSubJob.batch_id) == batch.id,
            col(BatchSubJob.state).in_([_S.PENDING.value, _S.HELD.value]),
        )
        .values(state=_S.STOPPED.value)
    )
    session.add(batch)
    stopped = stop_queued(session, batch.id)
    ids = session.exec(
        select(Run.id).where(Run.batch_id == batch.id, col(Run.status).in_(_IN_PROGRESS))
    ).all()
    return stopped, [i for i in ids if i is not None]


def stop_queued(session: Session, batch_id: int) -> list[Run]:
    """:func:`stop_queued_runs` as a stop request does it (its error), and the runs it
    stopped, read whole, oldest first (to announce once this commits)."""
    ids = stop_queued_runs(session, batch_id, stopped_error())
    stopped: list[Run] = []
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        stopped += session.exec(select(Run).where(col(Run.id).in_(chunk))).all()
    return sorted(stopped, key=lambda run: run.id or 0)


def stop_queued_runs(session: Session, batch_id: int, error: str) -> list[int]:
    """Stop every queued run of the batch in one statement (a batch may queue thousands; they
    have no process to steer), as a stop request does: ``stopped`` now, with ``error`` unless
    the run has one. Returns their ids. Runs claimed meanwhile are not queued any more, and
    are left to :func:`~jobext.runs.actions.stop_run`."""
    stopped = run_action_target(RunAction.STOP, RunStatus.QUEUED)
    assert stopped is RunStatus.STOPPED
    now = utcnow()
    ids = session.execute(
        update(Run)
        .where(col(Run.batch_id) == batch_id, col(Run.status) == RunStatus.QUEUED.value)
        .values(
            status=stopped.value,
            error=func.coalesce(func.nullif(col(Run.error), ""), error),
            updated_at=now,
            ended_at=now,
        )
        .returning(col(Run.id)),
        execution_options={"synchronize_session": False},
    ).scalars()
    return [run_id for run_id in ids if run_id is not None]


def start_due_lanes(session: Session, batch: Batch, runs: RunManager) -> Outcome:
    """Start the due sub-jobs' next iterations: one run each, made by the run manager, in
    one transaction (a group's runs are created together)."""
    batch_id = batch.id
    if batch.status not in (BatchStatus.STARTING.value, BatchStatus.RUNNING.value):
        return Outcome(batch)
    now = utcnow()
    lanes = session.exec(
        select(BatchSubJob)
        .where(
            BatchSubJob.batch_id == batch_id,
            BatchSubJob.state == _S.PENDING.value,
            col(BatchSubJob.due_at) <= now,
        )
        .order_by(col(BatchSubJob.due_at), col(BatchSubJob.idx))
        .limit(MAX_RELEASE)
    ).all()
    if not lanes:
        return Outcome(batch)
    started = [
        runs.insert_run(
            session,
            batch.job,
            batch.args,
            user=batch.started_by,
            trigger=Trigger.BATCH,
            batch_id=batch_id,
            sub_job=lane.idx,
            iteration=lane.iteration,
            worker=batch.worker,
        )
        for lane in lanes
    ]
    session.execute(
        update(BatchSubJob),
        [
            {"batch_id": batch_id, "idx": lane.idx, "state": _S.ACTIVE.value, "run_id": run.id}
            for lane, run in zip(lanes, started, strict=True)
        ],
    )
    # A group's runs appear together, at this commit: they carry one creation time, the
    # moment the group was started (making them takes ~1 ms a run inside the transaction).
    ids = [run.id for run in started]
    session.execute(update(Run).where(col(Run.id).in_(ids)).values(created_at=now, updated_at=now))
    for run in started:
        set_committed_value(run, "created_at", now)
        set_committed_value(run, "updated_at", now)
    return Outcome(batch, started=started)


def look(session: Session, batch_id: int) -> Look:
    """What a step has to do (reads only, so an idle batch costs no write)."""
    now = utcnow()
    batch = session.get(Batch, batch_id)
    if batch is None:
        return Look()
    ended = session.execute(_ended_lanes(batch_id, col(BatchSubJob.idx)).limit(1)).first()
    counts = dict(
        session.execute(
            sa_select(col(BatchSubJob.state), func.count())
            .where(col(BatchSubJob.batch_id) == batch_id)
            .group_by(col(BatchSubJob.state))
        ).all()
    )
    next_due: dt.datetime | None = session.exec(
        select(func.min(BatchSubJob.due_at)).where(
            BatchSubJob.batch_id == batch_id, BatchSubJob.state == _S.PENDING.value
        )
    ).one()
    if next_due is not None and next_due.tzinfo is None:
        next_due = next_due.replace(tzinfo=dt.timezone.utc)
    total = sum(counts.values())
    settle: BatchStatus | None = None
    if total and counts.get(_S.COMPLETED.value, 0) == total:
        settle = BatchStatus.COMPLETED
    elif batch.status == BatchStatus.STARTING.value and not counts.get(_S.PENDING.value):
        settle = BatchStatus.RUNNING
    elif batch.status == BatchStatus.PAUSING.value and not counts.get(_S.ACTIVE.value):
        settle = BatchStatus.PAUSED
    if settle is not None and settle.value == batch.status:
        settle = None
    return Look(
        ended=ended is not None,
        due=next_due is not None and next_due <= now,
        next_due=next_due,
        settle=settle,
    )


def settle_status(session: Session, batch: Batch, target: BatchStatus) -> Outcome:
    """``starting`` → ``running`` once every sub-job has started; ``pausing`` → ``paused``
    once none is in progress; ``completed`` once every sub-job is (checked again under the
    lock: a directive may have come in between)."""
    if batch.status not in _DRIVEN:
        return Outcome(batch)
    assert batch.id is not None
    if look(session, batch.id).settle is not target:
        return Outcome(batch)
    now = utcnow()
    batch.status = target.value
    batch.updated_at = now
    if target is BatchStatus.COMPLETED:
        batch.stop_time = now
    session.add(batch)
    return Outcome(batch, changed=True)
