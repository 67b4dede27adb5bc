"""``/runs``: enqueue, history, control, logs, events and results."""

from __future__ import annotations

import datetime as dt
import os
import re
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import requests

from jobext.client._common import _FINAL, JSON, _csv, _name, _params, _Resource, _when
from jobext.client.errors import JobextError, NotFound, ServerError
from jobext.client.stream import EventStream

if TYPE_CHECKING:
    import pandas

_FILENAME = re.compile(r'filename\*?=(?:UTF-8\'\')?"?([^";]+)"?', re.IGNORECASE)


def _filename(response: requests.Response, fallback: str) -> str:
    match = _FILENAME.search(response.headers.get("Content-Disposition", ""))
    name = match[1] if match else fallback
    return Path(name).name or fallback  # never a path from the server


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
        worker: str | None = None,
        search: str | None = None,
        page: int = 0,
        per_page: int = 50,
        sort: str | None = None,
    ) -> JSON:
        """A page ``{items, page, per_page, total}`` of runs, newest first. ``status`` is a
        name, a list or a group (``IN_PROGRESS``, ``SUCCEEDED``, ``FAILED``); ``from_``/``to``
        are dates, datetimes or the API's strings (``20220221``, ISO 8601); ``worker`` is the id
        of the worker the runs ran on."""
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
            worker=worker,
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
