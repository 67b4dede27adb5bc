"""Run history filters: parsed from raw query values, applied as SQL conditions."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import uuid as uuid_mod
from collections.abc import Mapping
from typing import Any

from sqlalchemy import or_

from jobext.db.tables import Run
from jobext.errors import Invalid
from jobext.http.params import parse_int
from jobext.states import RunStatus, parse_status_filter

_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_COMPACT_DATETIME = re.compile(r"^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})?$")
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_instant(field: str, raw: str, *, end_of_day: bool = False) -> dt.datetime:
    """Parse ISO 8601 (``2022-02-21``, ``2022-02-21T06:15:00Z``, with any offset), or the
    compact ``20220221`` / ``20220221T061500``, into an aware UTC datetime.

    A time without an offset is UTC. With ``end_of_day``, a bare date means the end of that day
    (so ``to=20220221`` includes all of the 21st).
    """
    text = raw.strip()
    date_only = False
    try:
        if m := _COMPACT_DATE.match(text):
            value = dt.datetime(int(m[1]), int(m[2]), int(m[3]))
            date_only = True
        elif m := _COMPACT_DATETIME.match(text):
            value = dt.datetime(
                int(m[1]), int(m[2]), int(m[3]), int(m[4]), int(m[5]), int(m[6] or 0)
            )
        else:
            date_only = bool(_DATE_ONLY.match(text))
            value = dt.datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    except (ValueError, OverflowError):
        raise Invalid(
            field,
            f"{raw!r} is not a date; use ISO 8601 (2022-02-21T06:15:00Z) or 20220221 or "
            "20220221T061500",
        ) from None
    try:
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        else:
            value = value.astimezone(dt.timezone.utc)
        if date_only and end_of_day:
            value += dt.timedelta(days=1) - dt.timedelta(microseconds=1)
    except OverflowError:
        raise Invalid(field, f"{raw!r} is out of the range of dates") from None
    return value


@dataclasses.dataclass(frozen=True)
class RunFilter:
    """The filters ``GET /runs`` accepts."""

    job: str | None = None
    status: frozenset[RunStatus] | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    uuid: str | None = None
    batch: int | None = None
    schedule: int | None = None
    user: str | None = None
    worker: str | None = None
    search: str | None = None

    @classmethod
    def parse(cls, params: Mapping[str, str | None]) -> RunFilter:
        """Build a filter from raw query values; raise :class:`Invalid` naming the bad one."""
        kwargs: dict[str, Any] = {}
        if params.get("job"):
            kwargs["job"] = params["job"]
        if params.get("status"):
            kwargs["status"] = parse_status_filter(str(params["status"]))
        if params.get("from"):
            kwargs["since"] = parse_instant("from", str(params["from"]))
        if params.get("to"):
            kwargs["until"] = parse_instant("to", str(params["to"]), end_of_day=True)
        if kwargs.get("since") and kwargs.get("until") and kwargs["since"] > kwargs["until"]:
            raise Invalid("to", "is before 'from'")
        if params.get("uuid"):
            try:
                kwargs["uuid"] = str(uuid_mod.UUID(str(params["uuid"])))
            except ValueError:
                raise Invalid("uuid", f"{params['uuid']!r} is not a UUID") from None
        for name in ("batch", "schedule"):
            if params.get(name):
                kwargs[name] = parse_int(name, str(params[name]), minimum=0, maximum=2**62)
        if params.get("user"):
            kwargs["user"] = params["user"]
        if params.get("worker"):
            kwargs["worker"] = params["worker"]
        if params.get("search"):
            kwargs["search"] = str(params["search"]).strip() or None
        return cls(**kwargs)

    def conditions(self) -> list[Any]:
        """SQL conditions on :class:`Run` for this filter."""
        where: list[Any] = []
        if self.job is not None:
            where.append(Run.job == self.job)
        if self.status is not None:
            values = sorted(s.value for s in self.status)
            where.append(Run.status == values[0] if len(values) == 1 else Run.status.in_(values))
        if self.since is not None:
            where.append(Run.created_at >= self.since)
        if self.until is not None:
            where.append(Run.created_at <= self.until)
        if self.uuid is not None:
            where.append(Run.uuid == self.uuid)
        if self.batch is not None:
            where.append(Run.batch_id == self.batch)
        if self.schedule is not None:
            where.append(Run.schedule_id == self.schedule)
        if self.user is not None:
            where.append(Run.user == self.user)
        if self.worker is not None:
            where.append(Run.worker == self.worker)
        if self.search:
            pattern = f"%{escape_like(self.search)}%"
            where.append(
                or_(
                    Run.job.like(pattern, escape="\\"),
                    Run.uuid.like(pattern, escape="\\"),
                    Run.user.like(pattern, escape="\\"),
                )
            )
        return where


def escape_like(text: str) -> str:
    """Escape ``%``, ``_`` and ``\\`` for a LIKE pattern with ``escape="\\"``."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
