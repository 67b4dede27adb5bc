"""A small Python client of the jobext REST API, for notebooks, scripts and the widgets.

Inside a kernel started by a Jupyter server it finds that server by itself::

    from jobext.client import JobsClient

    jobs = JobsClient()                      # JOBEXT_URL/JOBEXT_TOKEN, else the running server
    jobs.jobs.register("export", "python", "etl:export", default_args={"rows": 3})
    run = jobs.runs.enqueue("export", {"rows": 5})
    for event in jobs.runs.follow(run["id"]):
        print(event["id"], event["event"])
    frame = jobs.runs.result_frame(run["id"])

Every method returns what the API answers, as plain dicts (a page is ``{items, page,
per_page, total}``); an error answer raises a :class:`JobextError` subclass carrying the
server's ``status``, ``message``, ``reason`` and ``field``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import socket
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote, urlsplit

import requests

from .states import FINAL

if TYPE_CHECKING:
    import pandas

__all__ = [
    "BadRequest",
    "Conflict",
    "EventStream",
    "Forbidden",
    "JobextError",
    "JobsClient",
    "NoServer",
    "NotFound",
    "ServerError",
    "find_server",
]

JSON = dict[str, Any]
API_PATH = "jobext/api/v1"
#: The statuses a run ends in.
_FINAL = frozenset(status.value for status in FINAL)
#: Seconds a request may take unless the call says otherwise.
DEFAULT_TIMEOUT = 30.0
#: Seconds of silence after which an event stream counts as dropped (the server sends a
#: keepalive every 10 s).
STREAM_READ_TIMEOUT = 35.0


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


def _runtime_mtime(info: Mapping[str, Any]) -> float:
    """When the server wrote its runtime file: how 'new' it is (0 when unknown)."""
    try:
        from jupyter_core.paths import jupyter_runtime_dir

        path = Path(jupyter_runtime_dir()) / f"jpserver-{info.get('pid')}.json"
        return path.stat().st_mtime
    except (OSError, ImportError):
        return 0.0


def _contains(root: str, path: Path) -> bool:
    try:
        path.resolve().relative_to(Path(root).expanduser().resolve())
    except (ValueError, OSError):
        return False
    return True


def find_server(cwd: str | os.PathLike[str] | None = None) -> tuple[str, str | None]:
    """``(url, token)`` of the running Jupyter server to talk to.

    ``JOBEXT_URL`` (and ``JOBEXT_TOKEN``) win when set. Otherwise the servers in Jupyter's
    runtime dir are asked: the newest one whose root dir contains ``cwd`` (the current
    directory, i.e. the notebook's folder inside a kernel), else the newest one of all.
    Raises :class:`NoServer` when none runs.
    """
    env_url = os.environ.get("JOBEXT_URL")
    if env_url:
        return env_url, os.environ.get("JOBEXT_TOKEN") or None
    from jupyter_server.serverapp import list_running_servers

    servers = [s for s in list_running_servers() if s.get("url")]
    if not servers:
        raise NoServer(
            "no running Jupyter server found; pass url= and token=, or set JOBEXT_URL "
            "and JOBEXT_TOKEN"
        )
    here = Path(cwd) if cwd is not None else Path.cwd()
    servers.sort(key=lambda s: (_runtime_mtime(s), s.get("pid", 0)), reverse=True)
    inside = [s for s in servers if s.get("root_dir") and _contains(s["root_dir"], here)]
    chosen = (inside or servers)[0]
    return str(chosen["url"]), chosen.get("token") or os.environ.get("JOBEXT_TOKEN") or None


# ---------------------------------------------------------------------------- helpers


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


_FILENAME = re.compile(r'filename\*?=(?:UTF-8\'\')?"?([^";]+)"?', re.IGNORECASE)


def _filename(response: requests.Response, fallback: str) -> str:
    match = _FILENAME.search(response.headers.get("Content-Disposition", ""))
    name = match[1] if match else fallback
    return Path(name).name or fallback  # never a path from the server


# ---------------------------------------------------------------------------- event stream


class EventStream(Iterator[JSON]):
    """The events of one run, ``{"id": int, "event": str, "data": dict}``, until ``close``.

    A dropped connection is resumed with ``Last-Event-ID``, so each event is seen exactly once
    and in order. ``close()`` (from any thread) ends the iteration.
    """

    def __init__(
        self,
        client: JobsClient,
        run_id: int,
        last_event_id: int | None = None,
        *,
        retries: int = 5,
        types: Iterable[str] | None = None,
    ):
        self.run_id = run_id
        #: The id of the last event handed out (where a reconnect resumes).
        self.last_event_id = last_event_id or 0
        #: How many times the stream was resumed after a dropped connection.
        self.reconnects = 0
        #: The HTTP response being read (None between connections).
        self.response: requests.Response | None = None
        self._client = client
        self._retries = retries
        self._types = frozenset(types) if types is not None else None
        self._closed = threading.Event()
        self._session = client._new_session()
        self._events = self._generate()

    def __iter__(self) -> EventStream:
        return self

    def __next__(self) -> JSON:
        return next(self._events)

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def close(self) -> None:
        """Stop following: the iteration ends (a thread blocked reading wakes up)."""
        self._closed.set()
        response = self.response
        if response is not None:
            # Closing the socket alone would not wake a thread blocked in recv(); a shutdown does.
            with contextlib.suppress(Exception):
                sock = response.raw.connection.sock  # type: ignore[union-attr]
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(Exception):
                response.close()
        with contextlib.suppress(Exception):
            self._session.close()

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _generate(self) -> Iterator[JSON]:
        failures = 0
        try:
            while not self.closed:
                try:
                    for event in self._connect():
                        failures = 0
                        yield event
                        if event["event"] == "close":
                            return
                except (
                    requests.ConnectionError,
                    requests.Timeout,
                    requests.exceptions.ChunkedEncodingError,
                    OSError,
                ) as exc:
                    if self.closed:
                        return
                    failures += 1
                    if failures > self._retries:
                        raise NoServer(
                            f"lost the event stream of run {self.run_id} "
                            f"({failures} failures in a row): {exc}"
                        ) from exc
                else:
                    # The server ended the reply without a close event: resume right away.
                    if self.closed:
                        return
                    failures += 1
                    if failures > self._retries:
                        raise NoServer(f"the event stream of run {self.run_id} keeps ending")
                self.reconnects += 1
                if failures > 1:
                    self._closed.wait(min(5.0, 0.2 * 2 ** (failures - 2)))
        finally:
            self.close()

    def _connect(self) -> Iterator[JSON]:
        headers = {"Accept": "text/event-stream"}
        if self.last_event_id:
            headers["Last-Event-ID"] = str(self.last_event_id)
        response = self._session.get(
            self._client._url(f"runs/{self.run_id}/events"),
            headers=headers,
            stream=True,
            timeout=(self._client.timeout, STREAM_READ_TIMEOUT),
        )
        self.response = response
        try:
            _raise_for(response)
            for event in _parse_sse(_chunks(response)):
                if self.closed:
                    return
                if event["id"] is not None:
                    if event["id"] <= self.last_event_id:
                        continue  # already handed out before a reconnect
                    self.last_event_id = event["id"]
                if (
                    self._types is None
                    or event["event"] in self._types
                    or event["event"] == "close"
                ):
                    yield event
        finally:
            self.response = None
            response.close()


def _chunks(response: requests.Response) -> Iterator[bytes]:
    """The body of a streamed response as it arrives; a response closed under the reader
    (a dropped connection, or ``close()`` from another thread) ends it with a
    ``ConnectionError`` whatever urllib3 makes of it."""
    try:
        yield from response.iter_content(chunk_size=None)
    except (requests.RequestException, OSError):
        raise
    except Exception as exc:
        if getattr(response.raw, "closed", False):
            raise requests.ConnectionError("the event stream was closed") from exc
        raise


def _parse_sse(chunks: Iterable[bytes]) -> Iterator[JSON]:
    """Events of an SSE byte stream: ``{"id": int | None, "event": str, "data": Any}``."""
    buffer = b""
    fields: dict[str, str] = {}
    data: list[str] = []
    for chunk in chunks:
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for raw in lines:
            line = raw.decode("utf-8").rstrip("\r")
            if not line:
                if data:
                    text = "\n".join(data)
                    try:
                        payload: Any = json.loads(text)
                    except ValueError:
                        payload = text
                    raw_id = fields.get("id")
                    yield {
                        "id": int(raw_id) if raw_id and raw_id.isdigit() else None,
                        "event": fields.get("event", "message"),
                        "data": payload,
                    }
                fields, data = {}, []
                continue
            if line.startswith(":"):
                continue  # a comment: keepalive
            key, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if key == "data":
                data.append(value)
            else:
                fields[key] = value


# ---------------------------------------------------------------------------- the client


class JobsClient:
    """The jobext API of one Jupyter server.

    ``url`` is the server's base URL (``http://127.0.0.1:8888/``, with its base path if it has
    one) and ``token`` its API token. Without them the client uses ``JOBEXT_URL`` and
    ``JOBEXT_TOKEN``, else the running server whose root dir holds the current directory
    (see :func:`find_server`).

    Resources are grouped: :attr:`jobs`, :attr:`runs`, :attr:`schedules`.
    """

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
    ):
        if url is None:
            url, found_token = find_server()
            token = token if token is not None else found_token
        elif token is None:
            token = os.environ.get("JOBEXT_TOKEN") or None
        #: The server's base URL, ending in ``/``.
        self.url = url if url.endswith("/") else url + "/"
        self.token = token
        self.timeout = timeout
        #: The API's root: ``{url}jobext/api/v1``.
        self.api = self.url + API_PATH
        self._session = self._new_session()
        self.jobs = Jobs(self)
        self.runs = Runs(self)
        self.schedules = Schedules(self)

    def __repr__(self) -> str:
        return f"JobsClient({self.url!r})"

    @property
    def base_path(self) -> str:
        """The path part of the server's base URL (``/`` or ``/user/ann/``): what a browser
        on the same server puts before ``jobext/api/v1``."""
        return urlsplit(self.url).path or "/"

    def _new_session(self) -> requests.Session:
        session = requests.Session()
        if self.token:
            session.headers["Authorization"] = f"token {self.token}"
        session.headers["User-Agent"] = "jobext-client"
        return session

    def _url(self, path: str) -> str:
        return f"{self.api}/{path.lstrip('/')}"

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        stream: bool = False,
        timeout: float | None = None,
    ) -> requests.Response:
        """Send one request to ``{api}/{path}``; raise :class:`JobextError` on an error answer
        (:class:`NoServer` when the server cannot be reached or does not answer in time)."""
        try:
            response = self._session.request(
                method,
                self._url(path),
                json=json_body,
                params=params,
                headers=dict(headers) if headers else None,
                stream=stream,
                timeout=timeout or self.timeout,
            )
        except requests.RequestException as exc:
            raise NoServer(f"cannot reach the jobext API at {self.api}: {exc}") from exc
        try:
            _raise_for(response)
        except JobextError:
            response.close()
            raise
        return response

    def call(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        """``request`` and decode the JSON answer (None for 204)."""
        response = self.request(
            method,
            path,
            json_body=body if method in ("POST", "PATCH", "PUT") else None,
            params=_params(**params) or None,
        )
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    # -- whole server

    def stats(self) -> JSON:
        """``{jobs, schedules, workers, runs: {status: count}}``."""
        return cast(JSON, self.call("GET", "stats"))

    def connections(self) -> list[JSON]:
        """The configured query connections: ``[{name, dialect, driver, host, port, database}]``."""
        return cast(list[JSON], self.call("GET", "connections")["items"])

    def openapi(self) -> JSON:
        """The OpenAPI description of the API."""
        return cast(JSON, self.call("GET", "openapi.json"))

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> JobsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Resource:
    def __init__(self, client: JobsClient):
        self._client = client

    def _call(self, method: str, path: str, body: Any = None, **params: Any) -> JSON:
        """The JSON object the API answers (``{}`` for a 204)."""
        return cast(JSON, self._client.call(method, path, body, **params) or {})


def _name(name: str) -> str:
    return quote(name, safe="")


class Jobs(_Resource):
    """``/jobs``: job definitions."""

    def list(
        self,
        search: str | None = None,
        *,
        page: int = 0,
        per_page: int = 50,
        sort: str | None = None,
    ) -> JSON:
        """A page ``{items, page, per_page, total}`` of jobs; ``search`` matches name,
        description and target."""
        return self._call("GET", "jobs", search=search, page=page, per_page=per_page, sort=sort)

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


class Runs(_Resource):
    """``/runs``: enqueue, history, control, logs, events and results."""

    def enqueue(self, job: str, args: Any = None) -> JSON:
        """Start a run of ``job`` (``args`` merged over its default args); the new run."""
        body = {} if args is None else {"args": args}
        return self._call("POST", f"jobs/{_name(job)}/runs", body)

    def history(
        self,
        job: str | None = None,
        status: str | Iterable[str] | None = None,
        *,
        from_: str | dt.date | dt.datetime | None = None,
        to: str | dt.date | dt.datetime | None = None,
        uuid: str | None = None,
        schedule: int | None = None,
        batch: int | None = None,
        user: str | None = None,
        search: str | None = None,
        page: int = 0,
        per_page: int = 50,
        sort: str | None = None,
    ) -> JSON:
        """A page ``{items, page, per_page, total}`` of runs, newest first. ``status`` is a
        name, a list or a group (``IN_PROGRESS``, ``SUCCEEDED``, ``FAILED``); ``from_``/``to``
        are dates, datetimes or the API's strings (``20220221``, ISO 8601)."""
        return self._call(
            "GET",
            "runs",
            job=job,
            status=_csv(status),
            from_=_when(from_),
            to=_when(to),
            uuid=uuid,
            schedule=schedule,
            batch=batch,
            user=user,
            search=search,
            page=page,
            per_page=per_page,
            sort=sort,
        )

    def get(self, run_id: int) -> JSON:
        """One run, current or past."""
        return self._call("GET", f"runs/{int(run_id)}")

    def stop(self, run_id: int, *, force: bool = False) -> JSON:
        """Stop gracefully (``stopping`` until its process ends) or, with ``force``, at once."""
        return self._call("POST", f"runs/{int(run_id)}/stop", None, force=force or None)

    def pause(self, run_id: int) -> JSON:
        """Pause at the job's next checkpoint (``pausing`` → ``paused``)."""
        return self._call("POST", f"runs/{int(run_id)}/pause")

    def resume(self, run_id: int) -> JSON:
        """Resume a pausing or paused run."""
        return self._call("POST", f"runs/{int(run_id)}/resume")

    def restart(self, run_id: int) -> JSON:
        """A new run from a failed or stopped one (the old run is kept); the new run."""
        return self._call("POST", f"runs/{int(run_id)}/restart")

    def remove(self, run_id: int) -> None:
        """Delete an ended run with its log and result (409 while in progress)."""
        self._call("DELETE", f"runs/{int(run_id)}")

    def logs(self, run_id: int, after: int = 0, limit: int = 1000) -> JSON:
        """``{items: [{seq, ts, stream, level, text}], next_after, more}``: log lines after
        the sequence number ``after``; pass ``next_after`` back to read on."""
        return self._call("GET", f"runs/{int(run_id)}/logs", after=after, limit=limit)

    def log_lines(self, run_id: int) -> list[str]:
        """The whole log of a run as text lines (every page)."""
        lines: list[str] = []
        after = 0
        while True:
            page = self.logs(run_id, after=after, limit=10_000)
            lines.extend(item["text"] for item in page["items"])
            if not page["items"] or not page.get("more"):
                return lines
            after = page["next_after"]

    def follow(
        self,
        run_id: int,
        last_event_id: int | None = None,
        *,
        types: Iterable[str] | None = None,
        retries: int = 5,
    ) -> EventStream:
        """The run's events (``state``, ``progress``, ``log``, then ``close``) as an iterator
        of ``{"id", "event", "data"}`` dicts, from after ``last_event_id``. A dropped
        connection is resumed with ``Last-Event-ID`` (up to ``retries`` failures in a row);
        ``types`` keeps only those event types (``close`` always comes)."""
        return EventStream(self._client, int(run_id), last_event_id, retries=retries, types=types)

    def wait(
        self,
        run_id: int,
        until: str | Iterable[str] | None = None,
        *,
        timeout: float | None = None,
    ) -> JSON:
        """Block until the run's status is in ``until`` (a status or several; by default any
        final one), following its events; return the run then. Raises ``TimeoutError`` after
        ``timeout`` seconds, and :class:`JobextError` when the run ends elsewhere."""
        wanted = set(_FINAL if until is None else [until] if isinstance(until, str) else until)
        run = self.get(run_id)
        if run["status"] in wanted:
            return run
        seen = run.get("updated_at") or ""
        stream = self.follow(run_id, types=("state",))
        timer = threading.Timer(timeout, stream.close) if timeout is not None else None
        if timer is not None:
            timer.daemon = True
            timer.start()
        try:
            for event in stream:
                data = event["data"]
                # The stream replays the run's history first: skip states older than `run`.
                if not isinstance(data, dict) or (data.get("updated_at") or "") < seen:
                    continue
                if data.get("status") in wanted:
                    return data
                if event["event"] == "close" or data.get("status") in _FINAL:
                    raise JobextError(
                        f"run {run_id} ended {data.get('status')} instead of reaching "
                        f"{' or '.join(sorted(wanted))}"
                    )
        finally:
            if timer is not None:
                timer.cancel()
            stream.close()
        raise TimeoutError(
            f"run {run_id} did not reach {' or '.join(sorted(wanted))} within {timeout:g} s"
            if timeout is not None
            else f"the event stream of run {run_id} ended early"
        )

    def result_url(self, run_id: int, *, fmt: str | None = None) -> str:
        """The absolute URL of the run's result (``?format=html`` with ``fmt``)."""
        url = self._client._url(f"runs/{int(run_id)}/result")
        return f"{url}?format={quote(fmt)}" if fmt else url

    def has_result(self, run_id: int, *, fmt: str | None = None) -> bool:
        """Whether the run has a result (in form ``fmt``, e.g. ``html`` of a notebook's)."""
        try:
            self._client.request(
                "HEAD", f"runs/{int(run_id)}/result", params=_params(format=fmt) or None
            ).close()
        except NotFound:
            return False
        return True

    def result_bytes(self, run_id: int, *, fmt: str | None = None) -> bytes:
        """The run's whole result file."""
        response = self._client.request(
            "GET", f"runs/{int(run_id)}/result", params=_params(format=fmt) or None
        )
        return response.content

    def result_head(self, run_id: int, max_bytes: int = 65536) -> bytes:
        """The first ``max_bytes`` of the run's result (a ``Range`` request): for previews."""
        try:
            response = self._client.request(
                "GET",
                f"runs/{int(run_id)}/result",
                headers={"Range": f"bytes=0-{max(0, max_bytes - 1)}"},
            )
        except ServerError as exc:
            if exc.status == 416:
                return b""  # an empty file has no first byte
            raise
        return response.content[:max_bytes]

    def result_frame(self, run_id: int, **read_csv: Any) -> pandas.DataFrame:
        """The run's CSV result as a pandas DataFrame (``read_csv`` options passed on)."""
        try:
            import pandas
        except ImportError:
            raise ImportError(
                "result_frame needs pandas: pip install pandas (or result_bytes for the raw CSV)"
            ) from None
        import io

        return pandas.read_csv(io.BytesIO(self.result_bytes(run_id)), **read_csv)

    def download(
        self, run_id: int, path: str | os.PathLike[str] = ".", *, fmt: str | None = None
    ) -> Path:
        """Save the run's result; ``path`` is a file, or a folder to save it in under the
        server's name for it (``<job>-<run id>.<ext>``). Returns the file's path."""
        response = self._client.request(
            "GET",
            f"runs/{int(run_id)}/result",
            params=_params(format=fmt) or None,
            stream=True,
        )
        target = Path(path)
        if target.is_dir():
            target = target / _filename(response, f"run-{run_id}.result")
        partial = target.with_name(target.name + ".part")
        try:
            with response, partial.open("wb") as out:
                for chunk in response.iter_content(chunk_size=256 * 1024):
                    out.write(chunk)
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)
        return target


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
