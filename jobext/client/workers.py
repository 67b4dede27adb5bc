"""``/workers``: where runs execute (each server's local executor, each Dask worker), with
their host's memory and CPU, and drain / resume."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from jobext.client._common import JSON, _csv, _name, _Resource


class Workers(_Resource):
    """``/workers``."""

    def list(
        self,
        status: str | Iterable[str] | None = None,
        kind: str | None = None,
        *,
        search: str | None = None,
        page: int = 0,
        per_page: int = 50,
        sort: str | None = None,
    ) -> JSON:
        """A page ``{items, page, per_page, total}`` of workers, newest first. ``status`` is
        ``ready``, ``draining``, ``offline`` or a list of them; ``kind`` ``local`` or ``dask``;
        ``search`` matches name, host and id."""
        return self._call(
            "GET",
            "workers",
            status=_csv(status),
            kind=kind,
            search=search,
            page=page,
            per_page=per_page,
            sort=sort,
        )

    def get(self, worker_id: str) -> JSON:
        """One worker: ``{id, name, kind, host, status, slots, running, runs, stats, totals,
        ...}``."""
        return self._call("GET", f"workers/{_name(worker_id)}")

    def drain(self, worker_id: str) -> JSON:
        """Start no new run on the worker (its runs in progress finish; queued runs go to other
        workers); the worker after it. 409 (``Conflict``) for an offline worker."""
        return self._call("POST", f"workers/{_name(worker_id)}/drain")

    def resume(self, worker_id: str) -> JSON:
        """Let a drained worker take runs again; the worker after it."""
        return self._call("POST", f"workers/{_name(worker_id)}/resume")

    def runs(self, worker_id: str, *, status: str | None = None, **paging: Any) -> JSON:
        """A page of the runs that ran on the worker (``GET /runs?worker=``), newest first."""
        return self._call("GET", "runs", worker=worker_id, status=status, **paging)
