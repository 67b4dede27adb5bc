"""Retention over the database (:func:`jobext.runs.retention.doomed_runs`); end to end through
a job's ``keep_runs``: test_runs_api.py."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlmodel import select

from jobext.db.engine import Database
from jobext.db.tables import Job, Run
from jobext.runs.retention import doomed_runs
from jobext.times import utcnow


def test_runs_of_a_job_that_is_gone_follow_the_defaults(tmp_path: Path) -> None:
    # An app's redeploy drops a job and keeps its history: its runs still age out.
    db = Database.open(f"sqlite:///{tmp_path / 'x.db'}")
    now = utcnow()
    with db.writing() as session:
        session.add(Job(name="kept", kind="python", target="m:f", keep_runs=0, keep_days=0))
        for days, job in [(d, j) for d in (5, 4, 3, 2) for j in ("gone", "kept")]:
            ended = now - dt.timedelta(days=days)
            session.add(Run(job=job, kind="python", status="succeeded", ended_at=ended))
    with db.reading() as session:
        gone = [r.id for r in session.exec(select(Run).where(Run.job == "gone").order_by(Run.id))]

        def doomed(keep_runs: int, keep_days: float) -> list[int]:
            return doomed_runs(
                session, None, now, default_keep_runs=keep_runs, default_keep_days=keep_days
            )

        # Beyond the default keep_runs: the oldest go; the job that keeps all keeps all.
        assert doomed(2, 0) == gone[:2]
        # Older than the default keep_days.
        assert doomed(0, 3.5) == gone[:2]
        assert doomed(0, 0) == []
    db.dispose()
