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

import os
from collections.abc import Mapping
from typing import Any, cast
from urllib.parse import urlsplit

import requests

from jobext.client._common import API_PATH, DEFAULT_TIMEOUT, JSON, _params
from jobext.client.apps import Apps
from jobext.client.batches import Batches
from jobext.client.discovery import find_server
from jobext.client.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    JobextError,
    NoServer,
    NotFound,
    ServerError,
    _raise_for,
)
from jobext.client.jobs import Jobs
from jobext.client.runs import Runs
from jobext.client.schedules import Schedules
from jobext.client.stream import EventStream
from jobext.client.workers import Workers

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


class JobsClient:
    """The jobext API of one Jupyter server.

    ``url`` is the server's base URL (``http://127.0.0.1:8888/``, with its base path if it has
    one) and ``token`` its API token. Without them the client uses ``JOBEXT_URL`` and
    ``JOBEXT_TOKEN``, else the running server whose root dir holds the current directory
    (see :func:`find_server`).

    Resources are grouped: :attr:`jobs`, :attr:`runs`, :attr:`schedules`, :attr:`batches`,
    :attr:`apps`, :attr:`workers`.
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
        self.batches = Batches(self)
        self.apps = Apps(self)
        self.workers = Workers(self)

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
        """``{jobs, apps, schedules, batches: {status: count}, workers, runs: {status:
        count}}``."""
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
