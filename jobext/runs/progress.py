"""The progress that running jobs report: to their followers every ``PROGRESS_EVERY`` seconds
(only what changed), and to the database every ``PROGRESS_DB_EVERY`` seconds per run."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import update
from sqlmodel import Session

from jobext.db.engine import Database
from jobext.db.tables import Run
from jobext.runs.events import EventHub
from jobext.runs.live import LiveRun
from jobext.times import utcnow

PROGRESS_EVERY = 0.1
PROGRESS_DB_EVERY = 0.5


class ProgressReporter:
    """Reports the progress of the runs in ``live`` (the supervisor's, shared)."""

    def __init__(self, hub: EventHub, db: Database, live: dict[int, LiveRun]):
        self.hub = hub
        self.db = db
        self.live = live
        #: Set when a run starts: the loop sleeps while none runs.
        self.woken = asyncio.Event()

    def send(self, live: LiveRun) -> None:
        """A ``progress`` event for ``live`` if it reported something since the last one."""
        if live.progress_dirty:
            live.progress_dirty = False
            self.hub.emit_progress(live.run_id, live.progress_payload())

    async def save(self, *, force: bool = False) -> None:
        """Store the progress of the runs not stored for ``PROGRESS_DB_EVERY`` s (all with
        ``force``), in one transaction."""
        now = asyncio.get_running_loop().time()
        rows = []
        for live in self.live.values():
            if not force and now - live.progress_saved_at < PROGRESS_DB_EVERY:
                continue
            if live.progress is None and live.records is None and not live.steps:
                continue
            live.progress_saved_at = now
            rows.append(
                {
                    "id": live.run_id,
                    "progress": live.progress,
                    "message": live.message,
                    "records_written": live.records,
                    "steps": list(live.steps) or None,
                }
            )
        if rows:
            await self.db.run(lambda s: _save_progress_rows(s, rows))

    async def loop(self) -> None:
        """Until cancelled: send and store what the running jobs report."""
        while True:
            if not self.live:
                # Idle: nothing reports progress until a run starts.
                self.woken.clear()
                await self.woken.wait()
            await asyncio.sleep(PROGRESS_EVERY)
            try:
                dirty = [live for live in self.live.values() if live.progress_dirty]
                for live in dirty:
                    self.send(live)
                if dirty:
                    await self.save()
            except Exception:
                self.hub.log_once("progress", "jobext: progress update failed")


def _save_progress_rows(session: Session, rows: list[dict[str, Any]]) -> None:
    now = utcnow()
    for row in rows:
        values = {k: v for k, v in row.items() if k != "id"}
        session.execute(update(Run).where(Run.id == row["id"]).values(**values, updated_at=now))
