"""Names the client modules share."""

from __future__ import annotations

from typing import Any

from jobext.states import FINAL

JSON = dict[str, Any]
API_PATH = "jobext/api/v1"
#: The statuses a run ends in.
_FINAL = frozenset(status.value for status in FINAL)
#: Seconds a request may take unless the call says otherwise.
DEFAULT_TIMEOUT = 30.0
#: Seconds of silence after which an event stream counts as dropped (the server sends a
#: keepalive every 10 s).
STREAM_READ_TIMEOUT = 35.0
