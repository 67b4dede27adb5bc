"""Times: timezone-aware UTC datetimes, shown as ISO 8601 with a ``Z``."""

from __future__ import annotations

import datetime as dt


def utcnow() -> dt.datetime:
    """The current time, timezone-aware, in UTC."""
    return dt.datetime.now(dt.timezone.utc)


def iso(value: dt.datetime | None) -> str | None:
    """``2026-11-21T03:55:22.123Z`` for a datetime (naive means UTC), None for None."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    text = value.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")
