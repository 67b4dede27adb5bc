"""``/jobs``: job definitions."""

from __future__ import annotations

from typing import Any

from jobext.client._common import JSON, _name, _Resource
from jobext.client.errors import NotFound


class Jobs(_Resource):
    """``/jobs``: job definitions."""

    def list(
        self,
        search: str | None = None,
        *,
        page: int = 0,
        per_page: int = 50,
        sort: str | None = None,
        app: str | None = None,
    ) -> JSON:
        """A page ``{items, page, per_page, total}`` of jobs; ``search`` matches name,
        description and target; ``app`` keeps the jobs of that app."""
        return self._call(
            "GET", "jobs", search=search, page=page, per_page=per_page, sort=sort, app=app
        )

    def get(self, name: str) -> JSON:
        """One job with ``stats``, ``latest_run`` and ``next_run_at``."""
        return self._call("GET", f"jobs/{_name(name)}")

    def register(self, name: str, kind: str, target: str, **fields: Any) -> JSON:
        """Register a job: ``kind`` is python, notebook, query or shell; ``fields`` are the
        other definition fields (``default_args``, ``description``, ``connection``,
        ``max_concurrent``, ``queue_when_busy``, ``timeout_s``, ``retries``, ...)."""
        body = {"name": name, "kind": kind, "target": target, **fields}
        return self._call("POST", "jobs", body)

    def update(self, name: str, **fields: Any) -> JSON:
        """Change fields of a job (not its name or kind)."""
        return self._call("PATCH", f"jobs/{_name(name)}", fields)

    def delete(self, name: str, *, missing_ok: bool = False) -> None:
        """Delete a job with its runs, logs, results and schedules (409 while runs are in
        progress). With ``missing_ok`` an unknown job is no error."""
        try:
            self._call("DELETE", f"jobs/{_name(name)}")
        except NotFound:
            if not missing_ok:
                raise

    def stats(self, name: str) -> JSON:
        """``{total, succeeded, failed, stopped, in_progress, average_duration_s, latest_run,
        next_run_at}``."""
        return self._call("GET", f"jobs/{_name(name)}/stats")
