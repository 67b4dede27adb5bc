"""What the workers API returns, and the filters it takes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, not_, or_
from sqlmodel import col

from jobext.db.tables import Worker
from jobext.errors import Invalid
from jobext.states import WorkerKind, WorkerStatus
from jobext.times import iso


def status_of(worker: Worker) -> WorkerStatus:
    """A worker's status: ``offline`` once it signed off or was found gone, else ``draining``
    or ``ready`` as it was told."""
    if worker.offline_at is not None:
        return WorkerStatus.OFFLINE
    return WorkerStatus.DRAINING if worker.draining else WorkerStatus.READY


def status_condition(statuses: frozenset[WorkerStatus]) -> Any:
    """SQL condition on :class:`Worker`: its status is one of ``statuses``."""
    live = col(Worker.offline_at).is_(None)
    each = {
        WorkerStatus.OFFLINE: not_(live),
        WorkerStatus.DRAINING: and_(live, col(Worker.draining)),
        WorkerStatus.READY: and_(live, not_(col(Worker.draining))),
    }
    return or_(*(each[s] for s in sorted(statuses)))


def parse_statuses(raw: str) -> frozenset[WorkerStatus]:
    """``ready``, ``draining,offline``...; :class:`Invalid` on ``status`` for an unknown name."""
    wanted: set[WorkerStatus] = set()
    for part in (p.strip().lower() for p in raw.split(",")):
        if not part:
            continue
        try:
            wanted.add(WorkerStatus(part))
        except ValueError:
            known = ", ".join(s.value for s in WorkerStatus)
            raise Invalid("status", f"unknown status {part!r}; use one of {known}") from None
    if not wanted:
        raise Invalid("status", "names no status")
    return frozenset(wanted)


def parse_kind(raw: str) -> WorkerKind:
    """``local`` or ``dask``; :class:`Invalid` on ``kind`` for anything else."""
    try:
        return WorkerKind(raw.strip().lower())
    except ValueError:
        known = ", ".join(k.value for k in WorkerKind)
        raise Invalid("kind", f"unknown kind {raw!r}; use one of {known}") from None


def worker_json(worker: Worker, runs: list[int], totals: dict[str, int]) -> dict[str, Any]:
    """One worker: its row, the runs it holds now (``runs``: running, pausing, paused or
    stopping on it) and how many of its kept runs succeeded and failed."""
    return {
        "id": worker.id,
        "name": worker.name,
        "kind": worker.kind,
        "host": worker.host,
        "pid": worker.pid,
        "status": status_of(worker).value,
        "started_at": iso(worker.started_at),
        "last_seen": iso(worker.last_seen),
        "offline_at": iso(worker.offline_at),
        "slots": worker.slots,
        "running": len(runs),
        "runs": runs,
        "os_name": worker.os_name,
        "os_version": worker.os_version,
        "cpu_arch": worker.cpu_arch,
        "cpu_cores": worker.cpu_cores,
        "stats": worker.stats,
        "totals": {"succeeded": totals.get("succeeded", 0), "failed": totals.get("failed", 0)},
    }
