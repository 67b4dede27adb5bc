"""Errors of the client: each carries the server's status, message, reason and field."""

from __future__ import annotations

import requests

# ---------------------------------------------------------------------------- errors


class JobextError(Exception):
    """An error answer of the jobext API (or no answer at all: ``status`` 0)."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 0,
        reason: str | None = None,
        field: str | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.status = status
        self.reason = reason
        self.field = field

    def __str__(self) -> str:
        return f"{self.status} {self.message}" if self.status else self.message


class BadRequest(JobextError):
    """400: an input is wrong; ``field`` names it."""


class Forbidden(JobextError):
    """403: the user or the server's configuration does not allow it."""


class NotFound(JobextError):
    """404: no such job, run, schedule or result."""


class Conflict(JobextError):
    """409: an illegal transition (stopping an ended run, ...) or a clash (a taken name)."""


class ServerError(JobextError):
    """Any other error status (5xx, a proxy's answer, ...)."""


class NoServer(JobextError):
    """No jobext server could be found or reached."""


_ERRORS: dict[int, type[JobextError]] = {
    400: BadRequest,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
}


def _raise_for(response: requests.Response) -> None:
    if response.status_code < 400:
        return
    message, reason, field = response.reason or "error", None, None
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        message = str(body.get("message") or message)
        reason = body.get("reason")
        field = body.get("field")
    elif response.text and not response.text.lstrip().startswith("<"):
        message = response.text[:500]
    cls = _ERRORS.get(response.status_code, ServerError)
    raise cls(message, status=response.status_code, reason=reason, field=field)


# ---------------------------------------------------------------------------- discovery
