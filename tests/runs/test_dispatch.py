"""The dispatcher (:mod:`jobext.runs.dispatch`): claims along another transaction. End to end,
every run test goes through it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlmodel import Session, select
from waiting import eventually_async

from jobext.db.engine import Database
from jobext.db.tables import Job, Run
from jobext.runs.dispatch import Claimed, Dispatcher
from jobext.runs.manager import _in_savepoint


def _job(name: str) -> Job:
    return Job(name=name, kind="python", target="m:f")


def test_work_that_fails_in_its_savepoint_leaves_the_transaction_whole(tmp_path: Path) -> None:
    db = Database.open(f"sqlite:///{tmp_path / 'x.db'}")

    def fails(session: Session) -> None:
        session.add(_job("undone"))
        session.flush()
        raise RuntimeError("the claim broke")

    with db.writing() as session:
        session.add(_job("kept"))
        session.flush()
        _in_savepoint(session, fails, "the claim along")
    with db.reading() as session:
        assert session.exec(select(Job.name)).all() == ["kept"]
    db.dispose()


async def test_a_claim_along_holds_the_dispatcher_and_hands_it_back(tmp_path: Path) -> None:
    db = Database.open(f"sqlite:///{tmp_path / 'x.db'}")
    claims: list[int] = []
    launched: list[int] = []

    def claim(session: Session, slots: int) -> Claimed:
        claims.append(slots)
        return [], None

    async def launch(run: Run, job: Job) -> None:
        launched.append(run.id or 0)

    dispatcher = Dispatcher(db, claim=claim, free_slots=lambda: 2, launch=launch)
    along = dispatcher.along()
    assert along is not None
    # While it is under way no other claim is made: a second along is refused, a wake kept.
    assert dispatcher.along() is None
    dispatcher.wake()
    await asyncio.sleep(0.05)
    assert claims == []
    with db.writing() as session:
        along(session)
    assert claims == [2]
    # Committed, and nothing claimable: the wake kept meanwhile is served now.
    await along.settle(True)
    await eventually_async(lambda: claims == [2, 2], message="the kept wake's claim")
    # A transaction that did not commit: the dispatcher looks again on its own.
    along = dispatcher.along()
    assert along is not None
    await along.settle(False)
    await eventually_async(lambda: claims == [2, 2, 2], message="a claim of its own")
    assert launched == []
    dispatcher.close()
    db.dispose()
