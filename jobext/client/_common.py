"""Names the client modules share."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote

from jobext.states import FINAL

if TYPE_CHECKING:
    from jobext.client import JobsClient

JSON = dict[str, Any]
API_PATH = "jobext/api/v1"
#: The statuses a run ends in.
_FINAL = frozenset(status.value for status in FINAL)
#: Seconds a request may take unless the call says otherwise.
DEFAULT_TIMEOUT = 30.0
#: Seconds of silence after which an event stream counts as dropped (the server sends a
#: keepalive every 10 s).
STREAM_READ_TIMEOUT = 35.0


def _when(value: str | dt.date | dt.datetime | None) -> str | None:
    """A time filter as the API takes it: strings as they are, datetimes in UTC."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return value.isoformat(timespec="milliseconds") + "Z"
    return value.isoformat()


def _csv(value: str | Iterable[str] | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return ",".join(value)


def _params(**values: Any) -> dict[str, Any]:
    """Query parameters without the unset ones; booleans as true/false."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue
        out[key.rstrip("_")] = ("true" if value else "false") if isinstance(value, bool) else value
    return out


class _Resource:
    def __init__(self, client: JobsClient):
        self._client = client

    def _call(self, method: str, path: str, body: Any = None, **params: Any) -> JSON:
        """The JSON object the API answers (``{}`` for a 204)."""
        return cast(JSON, self._client.call(method, path, body, **params) or {})


def _name(name: str) -> str:
    return quote(name, safe="")
