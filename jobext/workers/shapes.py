"""What the workers API returns, and the filters it takes."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from pydantic import Field
from sqlalchemy import and_, not_, or_
from sqlmodel import col

from jobext.db.tables import Worker as WorkerRow
from jobext.errors import Invalid
from jobext.shapes import Output
from jobext.states import WorkerKind, WorkerStatus
from jobext.times import iso

#: A load: the share of all cores busy.
Share = Annotated[float, Field(ge=0, le=1)]


class Amount(Output):
    """Bytes of memory free and in all."""

    free: int
    total: int


class HostMemory(Output):
    """The host's memory and swap."""

    physical: Amount
    swap: Amount


class ProcessCpu(Output):
    """The worker's process tree."""

    load: Share
    time_s: float = Field(description="CPU seconds so far")


class SystemCpu(Output):
    """The whole host."""

    load: Share
    load_average: float | None


class HostCpu(Output):
    """CPU use since the previous heartbeat."""

    process: ProcessCpu
    system: SystemCpu


class HostStats(Output):
    """The host at the last heartbeat (psutil): memory in bytes (`free` is what is available
    without swapping); `load` is the share of all cores busy since the previous heartbeat, of
    the worker's process tree and of the whole system."""

    memory: HostMemory
    cpu: HostCpu


class WorkerTotals(Output):
    """Its kept runs that succeeded and failed."""

    succeeded: int
    failed: int


class Worker(Output):
    """Where runs execute: a server's local executor or a Dask worker."""

    id: uuid.UUID
    name: str
    kind: WorkerKind
    host: str
    pid: int | None
    status: WorkerStatus
    started_at: dt.datetime
    last_seen: dt.datetime = Field(description="its last heartbeat")
    offline_at: dt.datetime | None
    slots: int = Field(description="runs it executes at once")
    running: int = Field(description="runs it holds now")
    runs: list[int] = Field(
        description="ids of the runs it holds now (running, pausing, paused, stopping)"
    )
    os_name: str
    os_version: str
    cpu_arch: str
    cpu_cores: int | None
    stats: HostStats | None
    totals: WorkerTotals = Field(description="its kept runs that succeeded and failed")


class WorkerDeleted(Output):
    """A worker that was forgotten (in the server-wide event feed)."""

    id: str
    deleted: Literal[True]


def status_of(worker: WorkerRow) -> WorkerStatus:
    """A worker's status: ``offline`` once it signed off or was found gone, else ``draining``
    or ``ready`` as it was told."""
    if worker.offline_at is not None:
        return WorkerStatus.OFFLINE
    return WorkerStatus.DRAINING if worker.draining else WorkerStatus.READY


def status_condition(statuses: frozenset[WorkerStatus]) -> Any:
    """SQL condition on :class:`~jobext.db.tables.Worker`: its status is one of ``statuses``."""
    live = col(WorkerRow.offline_at).is_(None)
    each = {
        WorkerStatus.OFFLINE: not_(live),
        WorkerStatus.DRAINING: and_(live, col(WorkerRow.draining)),
        WorkerStatus.READY: and_(live, not_(col(WorkerRow.draining))),
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


def worker_json(worker: WorkerRow, runs: list[int], totals: dict[str, int]) -> dict[str, Any]:
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
