"""``/schedules``: cron schedules of jobs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from jobext.client._common import JSON, _Resource, _when


class Schedules(_Resource):
    """``/schedules``: cron schedules of jobs."""

    def list(
        self,
        job: str | None = None,
        *,
        active: bool | None = None,
        page: int = 0,
        per_page: int = 50,
        sort: str | None = None,
    ) -> JSON:
        """A page ``{items, page, per_page, total}`` of schedules."""
        return self._call(
            "GET", "schedules", job=job, active=active, page=page, per_page=per_page, sort=sort
        )

    def create(
        self, job: str, cron: str, timezone: str = "UTC", args: Any = None, **fields: Any
    ) -> JSON:
        """Create a schedule; ``fields``: ``active``, ``misfire`` (skip, once, all),
        ``misfire_grace_s``, ``overlap`` (forbid, allow, replace), ``description``."""
        body = {"job": job, "cron": cron, "timezone": timezone, **fields}
        if args is not None:
            body["args"] = args
        return self._call("POST", "schedules", body)

    def get(self, schedule_id: int) -> JSON:
        """One schedule with its ``next_fire_times``."""
        return self._call("GET", f"schedules/{int(schedule_id)}")

    def update(self, schedule_id: int, **fields: Any) -> JSON:
        """Change fields of a schedule; a new cron, time zone or activation counts from now."""
        return self._call("PATCH", f"schedules/{int(schedule_id)}", fields)

    def delete(self, schedule_id: int) -> None:
        """Delete a schedule and its log (its runs stay)."""
        self._call("DELETE", f"schedules/{int(schedule_id)}")

    def pause(self, schedule_id: int) -> JSON:
        """Stop firing."""
        return self._call("POST", f"schedules/{int(schedule_id)}/pause")

    def resume(self, schedule_id: int) -> JSON:
        """Fire again, counting from now."""
        return self._call("POST", f"schedules/{int(schedule_id)}/resume")

    def preview(
        self,
        cron: str,
        timezone: str = "UTC",
        *,
        after: str | dt.datetime | None = None,
        count: int | None = None,
    ) -> JSON:
        """``{fire_times, local_times}`` of a cron expression in a time zone; saves nothing."""
        body: JSON = {"cron": cron, "timezone": timezone}
        if after is not None:
            body["after"] = _when(after)
        if count is not None:
            body["count"] = count
        return self._call("POST", "schedules/preview", body)

    def fires(self, schedule_id: int, *, page: int = 0, per_page: int = 50) -> JSON:
        """The schedule's log, newest first: ``{items: [{scheduled_for, outcome, run_id,
        message, ...}], ...}``."""
        return self._call(
            "GET", f"schedules/{int(schedule_id)}/fires", page=page, per_page=per_page
        )
