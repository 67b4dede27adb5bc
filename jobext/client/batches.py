"""``/batches``: a job run as sub-jobs started ``jobs_per_second`` at a time, steered by the
start / stop / pause / unpause directives."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from jobext.client._common import JSON, _csv, _name, _Resource

#: Statuses in which a batch no longer changes by itself.
SETTLED = frozenset({"created", "completed", "failed", "paused", "stopped", "invalid"})


class Batches(_Resource):
    """``/batches`` and ``/jobs/{name}/batches``."""

    def create(
        self,
        job: str,
        concurrent: int,
        *,
        jobs_per_second: int | None = None,
        iterations: int | None = 1,
        failures_to_ignore: int = 0,
        args: Any = None,
        worker: str | None = None,
        start: bool = True,
    ) -> JSON:
        """A batch of ``job``: ``concurrent`` sub-jobs, each running the job ``iterations``
        times (None: until stopped), started ``jobs_per_second`` at a time (all at once
        without). ``start=False`` only creates it. Returns the batch."""
        body: dict[str, Any] = {
            "concurrent": concurrent,
            "iterations": iterations,
            "failures_to_ignore": failures_to_ignore,
            "start": start,
        }
        if jobs_per_second is not None:
            body["jobs_per_second"] = jobs_per_second
        if args is not None:
            body["args"] = args
        if worker is not None:
            body["worker"] = worker
        return self._call("POST", f"jobs/{_name(job)}/batches", body)

    def list(
        self,
        job: str | None = None,
        status: str | Iterable[str] | None = None,
        *,
        page: int = 0,
        per_page: int = 50,
        sort: str | None = None,
    ) -> JSON:
        """A page ``{items, page, per_page, total}`` of batches, newest first."""
        return self._call(
            "GET",
            "batches",
            job=job,
            status=_csv(status),
            page=page,
            per_page=per_page,
            sort=sort,
        )

    def get(self, batch_id: int, *, sub_jobs_page: int = 0, sub_jobs_per_page: int = 100) -> JSON:
        """The batch with ``counts``, ``concurrent_jobs``, ``lag_s``, ``percent_complete``
        (when its iterations are bounded) and one page of ``sub_jobs``."""
        return self._call(
            "GET",
            f"batches/{int(batch_id)}",
            sub_jobs_page=sub_jobs_page,
            sub_jobs_per_page=sub_jobs_per_page,
        )

    def start(self, batch_id: int, *, jobs_per_second: int | None = None) -> JSON:
        """Clear the sub-jobs' runs and start every sub-job from its first iteration."""
        return self._direct(batch_id, "start", jobs_per_second)

    def stop(self, batch_id: int) -> JSON:
        """Stop every running run; the batch's progress is reset."""
        return self._direct(batch_id, "stop", None)

    def pause(self, batch_id: int) -> JSON:
        """Let running runs finish and hold each sub-job before its next iteration."""
        return self._direct(batch_id, "pause", None)

    def unpause(self, batch_id: int, *, jobs_per_second: int | None = None) -> JSON:
        """Go on at the iteration where each sub-job was held."""
        return self._direct(batch_id, "unpause", jobs_per_second)

    def _direct(self, batch_id: int, directive: str, jobs_per_second: int | None) -> JSON:
        return self._call(
            "POST", f"batches/{int(batch_id)}/{directive}", jobs_per_second=jobs_per_second
        )

    def delete(self, batch_id: int) -> None:
        """Stop what runs and delete the batch with all its runs, logs and results."""
        self._call("DELETE", f"batches/{int(batch_id)}")

    def delete_all(self, job: str) -> int:
        """Delete every batch of ``job``; returns how many went."""
        return int(self._call("DELETE", f"jobs/{_name(job)}/batches")["deleted"])

    def runs(self, batch_id: int, *, status: str | None = None, per_page: int = 1000) -> JSON:
        """A page of the batch's runs (``GET /runs?batch=``), newest first."""
        return self._call("GET", "runs", batch=int(batch_id), status=status, per_page=per_page)

    def wait(
        self,
        batch_id: int,
        until: str | Iterable[str] | None = None,
        *,
        timeout: float | None = None,
        poll_s: float = 0.5,
    ) -> JSON:
        """Block until the batch's status is in ``until`` (by default one in which it no
        longer changes by itself: completed, failed, paused, stopped, invalid); return it.
        Raises ``TimeoutError`` after ``timeout`` seconds."""
        wanted = set(SETTLED if until is None else [until] if isinstance(until, str) else until)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            batch = self.get(batch_id, sub_jobs_per_page=1)
            if batch["status"] in wanted:
                return batch
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(
                    f"batch {batch_id} is {batch['status']}, not {' or '.join(sorted(wanted))}, "
                    f"after {timeout:g} s"
                )
            time.sleep(poll_s)
