"""The run actions a user or a batch asks for: stop (graceful or by force), pause, resume and
restart.

The REST handlers, the scheduler (a schedule that replaces its running run) and the batch
controller call these functions. Which action is legal in which status comes from
:data:`~jobext.states.RUN_ACTIONS`; each action is one transaction over the run's locked row, then
its log line and its ``state`` event once committed, and the supervisor is told to steer the
run's process (:meth:`~jobext.runs.supervisor.Supervisor.apply`). A batch's runs are steered by
their batch only (409 ``managed_by_batch`` otherwise).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlmodel import Session

from jobext.db.tables import Job, Run
from jobext.errors import Conflict, NotFound
from jobext.runs.rows import get_run, refuse_batch_run, set_status
from jobext.states import FINAL, RunAction, RunStatus, Trigger, run_action_target

if TYPE_CHECKING:
    from jobext.runs.manager import RunManager


async def stop_run(
    runs: RunManager,
    run_id: int,
    *,
    force: bool = False,
    user: str | None,
    by_batch: bool = False,
) -> Run:
    """Stop a run: gracefully (``stopping`` until its process ends) or, with ``force``,
    mark it ``stopped`` at once whatever it is doing, and kill its process if it has one.

    A queued run is stopped at once. 409 for a run that has ended, and for a batch's run
    unless its batch asks (``by_batch``).
    """
    action = RunAction.FORCE_STOP if force else RunAction.STOP
    changed = False

    def move(session: Session) -> Run:
        nonlocal changed
        run = get_run(session, run_id, lock=runs.db)
        if not by_batch:
            refuse_batch_run(run)
        if run.state in FINAL:
            raise Conflict(f"run {run_id} has already {run.status}", reason="illegal_transition")
        target = run_action_target(action, run.state)
        if target is run.state:
            return run
        assert target is not None
        changed = True
        if target is RunStatus.STOPPED:
            run.error = run.error or stopped_error(user, force=force)
        set_status(run, target)
        session.add(run)
        return run

    run = await runs.db.run(move)
    if changed:
        announce_stop(runs, run, force=force, user=user)
    runs.control.apply(run)
    runs.control.wake()
    return run


def stopped_error(user: str | None = None, *, force: bool = False) -> str:
    """The ``error`` of a run stopped before its process could end: who stopped it, and how."""
    return f"stopped{_by(user)}" + (" (force)" if force else "")


def announce_stop(
    runs: RunManager, run: Run, *, force: bool = False, user: str | None = None
) -> None:
    """Once a stop is committed: the run's log line, then its ``state``."""
    assert run.id is not None
    runs.note(run.id, f"stop{' (force)' if force else ''} requested{_by(user)}")
    runs.publish_state(run)


async def pause_run(runs: RunManager, run_id: int, *, user: str | None) -> Run:
    """Ask a running run to pause at its next checkpoint; 409 unless it is running."""
    return await _steer(runs, run_id, RunAction.PAUSE, f"pause requested{_by(user)}")


async def resume_run(runs: RunManager, run_id: int, *, user: str | None) -> Run:
    """Let a pausing or paused run go on from where it halted; 409 otherwise."""
    return await _steer(runs, run_id, RunAction.RESUME, f"resume requested{_by(user)}")


async def _steer(runs: RunManager, run_id: int, action: RunAction, note: str) -> Run:
    changed = False

    def move(session: Session) -> Run:
        nonlocal changed
        run = get_run(session, run_id, lock=runs.db)
        refuse_batch_run(run)
        target = run_action_target(action, run.state)
        if target is run.state:
            return run
        assert target is not None
        changed = True
        set_status(run, target)
        session.add(run)
        return run

    run = await runs.db.run(move)
    if changed:
        runs.note(run_id, note)
        runs.publish_state(run)
        runs.control.apply(run)
    return run


async def restart_run(runs: RunManager, run_id: int, *, user: str | None) -> Run:
    """A new run of a failed or stopped run's job with the same args (the old run is kept).

    409 for a run that succeeded or is in progress, a job with ``restartable: false``, or a
    run that was restarted already (restart the newer one).
    """

    def make(session: Session) -> Run:
        old = get_run(session, run_id, lock=runs.db)
        refuse_batch_run(old)
        try:
            run_action_target(RunAction.RESTART, old.state)
        except Conflict:
            raise Conflict(
                f"only failed or stopped runs can be restarted; run {run_id} is {old.status}",
                reason="illegal_transition",
            ) from None
        if old.restarted_as is not None:
            raise Conflict(
                f"run {run_id} was restarted already as run {old.restarted_as}",
                reason="already_restarted",
            )
        job = session.get(Job, old.job)
        if job is None:
            raise NotFound(f"no job named {old.job!r}")
        if not job.restartable:
            raise Conflict(f"job {job.name!r} is not restartable", reason="not_restartable")
        return runs.insert_run(
            session,
            job.name,
            old.args,
            user=user,
            trigger=Trigger.RESTART,
            restarted_from=old.id,
        )

    new = await runs.db.run(make)
    assert new.id is not None
    runs.announce(new)
    runs.note(new.id, f"restart of run {run_id}{_by(user)}")
    return new


def _by(user: str | None) -> str:
    return f" by {user}" if user else ""
