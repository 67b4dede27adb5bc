"""The Dask workers of the cluster as jobext's workers: rows of ``jobext_worker`` of kind ``dask``.

Every server that runs on the cluster keeps them: a worker is registered when the scheduler's
list first shows it, heartbeated (host and stats from :func:`~jobext.executors.dask.relay.
describe`, sampled on the worker; slots from its slot resource, else its threads) every
``heartbeat_s``, and signed off (``offline``) when it leaves the list. Its id is derived from
the scheduler's id and the worker's address (:func:`dask_worker_id`), so the servers of one
database that share a cluster keep one row per Dask worker, each upserting it. A worker gone
while no server watched is judged by its heartbeat, as any worker without a process here.

Which workers take new runs is read from their rows: draining (or offline) ones take none.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid as uuid_mod
from typing import Any

from sqlmodel import col, select

from jobext.db.engine import Database
from jobext.db.tables import Worker
from jobext.executors.dask import relay as remote
from jobext.states import WorkerKind
from jobext.workers.heartbeats import WorkerSpec, sign_off_worker, upsert_worker
from jobext.workers.host import Host

log = logging.getLogger(__name__)

_NAMESPACE = uuid_mod.UUID("6f1d3c52-1b7e-4e0a-9a53-0c2f5d8e7b41")


def dask_worker_id(scheduler_id: str, address: str) -> str:
    """The worker id of the Dask worker at ``address`` of scheduler ``scheduler_id``: the same
    on every server."""
    return str(uuid_mod.uuid5(_NAMESPACE, f"{scheduler_id}/{address}"))


def _name(address: str, info: dict[str, Any]) -> str:
    """The worker's own name when it has one that says more than a number, else its address."""
    name = info.get("name")
    if isinstance(name, str) and name and name != address and not name.isdigit():
        return name
    return address


class DaskFleet:
    """The workers of one cluster, in the database and as this server saw them last."""

    def __init__(self, db: Database, *, slot_resource: str, heartbeat_s: float):
        self.db = db
        self.slot_resource = slot_resource
        self.heartbeat_s = heartbeat_s
        #: address → worker id, of the workers in the scheduler's list.
        self.ids: dict[str, str] = {}
        #: Ids of those that take no new runs (draining, or offline), as last read.
        self.closed: set[str] = set()
        self._beat_at: float | None = None
        self._lock = asyncio.Lock()

    def id_of(self, address: str) -> str | None:
        return self.ids.get(address)

    def address_of(self, worker_id: str) -> str | None:
        return next((a for a, i in self.ids.items() if i == worker_id), None)

    def open_ids(self) -> set[str]:
        """Ids of the workers that take new runs."""
        return set(self.ids.values()) - self.closed

    def open_addresses(self) -> list[str]:
        """Addresses of the workers that take new runs."""
        return sorted(a for a, i in self.ids.items() if i not in self.closed)

    async def sync(self, client: Any, identity: dict[str, Any]) -> None:
        """Bring the rows in line with the scheduler's ``identity``: register the workers that
        joined, sign off those that left, heartbeat all every ``heartbeat_s``."""
        async with self._lock:
            workers: dict[str, dict[str, Any]] = dict(identity.get("workers") or {})
            scheduler = str(identity.get("id") or identity.get("address"))
            current = {address: dask_worker_id(scheduler, address) for address in workers}
            for address in sorted(set(self.ids) - set(current)):
                log.warning("jobext: the Dask worker %s left the cluster", address)
                await sign_off_worker(self.db, self.ids[address])
            joined = set(current) - set(self.ids)
            self.ids = current
            now = time.monotonic()
            if joined or self._beat_at is None or now - self._beat_at >= self.heartbeat_s:
                self._beat_at = now
                await self._beat(client, workers)
            await self.read_closed()

    async def _beat(self, client: Any, workers: dict[str, dict[str, Any]]) -> None:
        if not workers:
            return
        facts = await client.run(remote.describe, workers=list(workers), on_error="return")
        for address, info in workers.items():
            described = facts.get(address)
            if isinstance(described, dict):
                host, stats = Host(**described["host"]), described["stats"]
            else:
                # Not described (its plugin not set up yet): what the scheduler knows.
                name = str(info.get("host") or address)
                host, stats = Host(name, name, "", "", "", None), None
            slots = (info.get("resources") or {}).get(self.slot_resource)
            spec = WorkerSpec(
                WorkerKind.DASK,
                _name(address, info),
                host,
                int(slots) if slots else int(info.get("nthreads") or 1),
            )
            await upsert_worker(self.db, spec, self.ids[address], stats=stats)

    async def read_closed(self) -> set[str]:
        """Read which of the workers take no new runs (draining, offline, or without a row)."""
        ids = list(self.ids.values())
        if not ids:
            self.closed = set()
            return self.closed
        open_ids = await self.db.read(
            lambda s: s.exec(
                select(Worker.id).where(
                    col(Worker.id).in_(ids),
                    col(Worker.draining).is_(False),
                    col(Worker.offline_at).is_(None),
                )
            ).all()
        )
        self.closed = set(ids) - set(open_ids)
        return self.closed
