"""A failed run's retry: made in the transaction that fails the run, announced once committed.

:meth:`~jobext.runs.manager.RunManager.transition` and
:meth:`~jobext.runs.manager.RunManager.finish` call :func:`insert_retry` when a run fails, and
:func:`announce_retry` for each retry it made once their transaction has committed.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, NamedTuple

from sqlmodel import Session

from jobext.db.tables import Job, Run
from jobext.states import Trigger
from jobext.times import utcnow

if TYPE_CHECKING:
    from jobext.runs.manager import RunManager


class Retry(NamedTuple):
    """A queued retry of a failed run."""

    #: The new, queued run.
    run: Run
    #: Seconds it waits before it may start.
    delay_s: float
    #: How many attempts its job allows in all (its ``retries`` + 1).
    attempts: int


def retry_delay_s(backoff_s: float, attempt: int, max_backoff_s: float) -> float:
    """Seconds the retry of a run's ``attempt`` waits: ``backoff_s * 2**(attempt - 1)``, at most
    ``max_backoff_s``."""
    return min(backoff_s * 2 ** (attempt - 1), max_backoff_s)


def insert_retry(runs: RunManager, session: Session, run: Run) -> list[Retry]:
    """Inside the transaction that failed ``run``: its retry, when its job has one left.

    The retry waits ``retry_backoff_s * 2**(attempt - 1)`` seconds (at most
    ``max_backoff_s``), has ``trigger: "retry"``, the next ``attempt``, and
    ``restarted_from`` naming the failed run.
    """
    job = session.get(Job, run.job)
    if job is None or run.restarted_as is not None or run.attempt > job.retries:
        return []
    if run.batch_id is not None:
        # A batch's failures count toward its failures_to_ignore; it has no retries.
        return []
    delay = retry_delay_s(job.retry_backoff_s, run.attempt, runs.max_backoff_s)
    new = runs.insert_run(
        session,
        job.name,
        run.args,
        user=run.user,
        trigger=Trigger.RETRY,
        wait_if_busy=True,
        restarted_from=run.id,
        attempt=run.attempt + 1,
        scheduled_for=run.scheduled_for,
        schedule_id=run.schedule_id,
        batch_id=run.batch_id,
        not_before=utcnow() + dt.timedelta(seconds=delay),
    )
    run.restarted_as = new.id
    return [Retry(new, delay, job.retries + 1)]


def announce_retry(runs: RunManager, failed: Run, retry: Retry) -> None:
    """Once committed: publish the retry, with a line in the log of each of the two runs."""
    new, delay, total = retry
    assert failed.id is not None and new.id is not None
    runs.note(
        failed.id,
        f"retrying as run {new.id} (attempt {new.attempt} of {total}) in {delay:g} s",
    )
    runs.announce(new)
    runs.note(new.id, f"attempt {new.attempt} of {total}, retrying run {failed.id}")
