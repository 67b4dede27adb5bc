"""Domain errors. They know nothing of HTTP; ``handlers.base`` maps them to status codes."""

from __future__ import annotations


class JobExtError(Exception):
    """Base of every error jobext raises on purpose."""

    reason = "error"

    def __init__(self, message: str, *, reason: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason
        self.field = field


class Invalid(JobExtError):
    """An input is wrong: ``field`` names it, the message says why (HTTP 400)."""

    reason = "invalid"

    def __init__(self, field: str | None, message: str, *, reason: str | None = None):
        text = f"{field}: {message}" if field else message
        super().__init__(text, reason=reason, field=field)


class NotFound(JobExtError):
    """No such job, run or file (HTTP 404)."""

    reason = "not_found"


class Conflict(JobExtError):
    """The request is legal in form but not now: an illegal transition or a clash (HTTP 409)."""

    reason = "conflict"


class Forbidden(JobExtError):
    """The configuration does not allow it (HTTP 403), e.g. a job kind that is switched off."""

    reason = "forbidden"
