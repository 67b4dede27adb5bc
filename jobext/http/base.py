"""What every jobext handler shares: auth resource, JSON in and out, and the ONE place where
domain errors become HTTP replies."""

from __future__ import annotations

import json
import sys
from typing import Any

from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from tornado import web

from jobext.db.paging import PageRequest
from jobext.errors import Conflict, Forbidden, Invalid, JobExtError, NotFound
from jobext.jobs.manager import JobManager
from jobext.runs.manager import RunManager

AUTH_RESOURCE = "jobext"

STATUS = {Invalid: 400, Forbidden: 403, NotFound: 404, Conflict: 409}


def http_status(error: JobExtError) -> int:
    for cls, code in STATUS.items():
        if isinstance(error, cls):
            return code
    return 400


def _field_with_bad_text(data: Any) -> str | None:
    """The top-level key whose value holds a string that cannot be encoded as UTF-8."""
    if not isinstance(data, dict):
        return None
    for key, value in data.items():
        try:
            json.dumps({key: value}, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            return str(key).encode("utf-8", "backslashreplace").decode()
    return None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


class JobExtHandler(ExtensionHandlerMixin, APIHandler):
    """Base of the REST handlers: thin translators between HTTP and the managers."""

    auth_resource = AUTH_RESOURCE

    @property
    def jobs(self) -> JobManager:
        return self.extensionapp.jobs  # type: ignore[attr-defined,no-any-return]

    @property
    def runs(self) -> RunManager:
        return self.extensionapp.runs  # type: ignore[attr-defined,no-any-return]

    @property
    def username(self) -> str | None:
        user = self.current_user
        return getattr(user, "username", None) or (user if isinstance(user, str) else None)

    def _handle_request_exception(self, e: BaseException) -> None:
        if isinstance(e, JobExtError) and not self._finished:
            self.send_error(http_status(e), exc_info=sys.exc_info())
            return
        super()._handle_request_exception(e)

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if isinstance(value, JobExtError):
            self.log.info("jobext: %s %s: %s", self.request.method, self.request.path, value)
            return
        super().log_exception(typ, value, tb)

    def allowed_methods(self) -> list[str]:
        """The HTTP methods this route answers (what a 405 lists in ``Allow``)."""
        return [
            method
            for method in self.SUPPORTED_METHODS
            if getattr(type(self), method.lower(), None)
            is not getattr(web.RequestHandler, method.lower(), None)
        ]

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        if status_code == 405:
            # RFC 9110: a 405 says which methods the resource does answer.
            self.set_header("Allow", ", ".join(self.allowed_methods()))
        exc_info = kwargs.get("exc_info")
        error = exc_info[1] if exc_info else None
        if isinstance(error, JobExtError):
            self.set_header("Content-Type", "application/json")
            reply: dict[str, Any] = {"message": error.message, "reason": error.reason}
            if error.field:
                reply["field"] = error.field
            self.finish(json.dumps(reply))
            return
        super().write_error(status_code, **kwargs)

    # -- input

    def json_body(self, *, required: bool = False) -> Any:
        """The request body as strict JSON (``{}`` when empty, 400 when ``required``); 400
        when it is not JSON.

        NaN and Infinity are refused (no JSON reply could carry them back), as are strings
        with lone surrogates (no database can store them) and absurd nesting.
        """
        body = self.request.body
        if not body or not body.strip():
            if required:
                raise Invalid(None, "a JSON object body is required")
            return {}
        try:
            data = json.loads(body, parse_constant=_refuse_constant)
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            field = _field_with_bad_text(data)
            raise Invalid(
                field, "holds text that is not valid Unicode (a lone surrogate)"
            ) from None
        except RecursionError:
            raise Invalid(None, "the body is nested too deeply") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise Invalid(None, f"the body is not valid JSON: {exc}") from None
        return data

    def json_object(self) -> dict[str, Any]:
        body = self.json_body()
        if not isinstance(body, dict):
            raise Invalid(None, "the body must be a JSON object")
        return body

    def arg(self, name: str) -> str | None:
        value = self.get_query_argument(name, None)
        return value if value is None else value.strip()

    def flag(self, name: str) -> bool:
        """A boolean query argument: true/1/yes or false/0/no; 400 for anything else."""
        raw = self.arg(name)
        if raw is None or raw == "":
            return False
        lowered = raw.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise Invalid(name, f"must be true or false, not {raw!r}")

    def page_request(self, sortable: tuple[str, ...]) -> PageRequest:
        return PageRequest.parse(
            self.arg("page"),
            self.arg("per_page"),
            self.arg("sort"),
            self.arg("search"),
            sortable=sortable,
        )

    @staticmethod
    def path_id(raw: str, what: str) -> int:
        """A numeric id from the path; 404 ("no <what> with id ...") for anything else."""
        try:
            value = int(raw)
        except ValueError:
            raise NotFound(f"no {what} with id {raw!r}") from None
        if value < 1 or value > 2**62:
            raise NotFound(f"no {what} with id {raw!r}")
        return value

    def run_id(self, raw: str) -> int:
        """A run id from the path; 404 for anything that cannot be one."""
        return self.path_id(raw, "run")

    def wants_stream(self) -> bool:
        return "text/event-stream" in self.request.headers.get("Accept", "")

    # -- output

    def reply(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(data, ensure_ascii=False))

    def reply_page(self, items: list[Any], page: PageRequest, total: int) -> None:
        self.reply({"items": items, "page": page.page, "per_page": page.per_page, "total": total})

    def api_url(self, path: str) -> str:
        return f"{self.jobs.api_base}{path}"


__all__ = ["AUTH_RESOURCE", "JobExtHandler", "web"]
