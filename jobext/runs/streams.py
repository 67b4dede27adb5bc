"""Server-Sent Events of a run (state, progress, log, close) and the result download."""

from __future__ import annotations

import asyncio
import json
import mimetypes
import re
import time

from tornado.iostream import StreamClosedError

from jobext.errors import NotFound
from jobext.http.base import JobExtHandler
from jobext.http.params import parse_int
from jobext.runs.event_rows import Event
from jobext.runs.followers import Subscription
from jobext.runs.results import result_file
from jobext.runs.shapes import result_filename
from jobext.states import FINAL, RunStatus

SSE_TYPE = "text/event-stream; charset=utf-8"
KEEPALIVE_S = 10.0
_POLL_S = 1.0
#: Events written to a stream at once (then the loop is handed back: a flush that the socket
#: takes at once does not yield by itself).
_SLICE = 200
_CHUNK = 256 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _final_status(event: Event) -> bool:
    if event.type != "state":
        return False
    try:
        return RunStatus(json.loads(event.text)["status"]) in FINAL
    except (ValueError, KeyError, TypeError):
        return False


class EventStreamMixin(JobExtHandler):
    """Streams one run's events; used by enqueue-with-follow, ``/events`` and ``/logs``."""

    def last_event_id(self) -> int:
        """The ``Last-Event-ID`` header (or ``last_event_id`` query value); 0 when absent."""
        raw = self.request.headers.get("Last-Event-ID") or self.arg("last_event_id")
        return parse_int("Last-Event-ID", raw, 0, minimum=0, maximum=2**62) or 0

    async def stream_run(
        self, run_id: int, after: int, *, types: frozenset[str] | None = None
    ) -> None:
        """Replay the run's events after ``after``, then follow them live until ``close``.

        Only event types in ``types`` are sent (all when None); ``close`` always ends it.
        """
        self.set_header("Content-Type", SSE_TYPE)
        self.set_header("Cache-Control", "no-cache")
        self.set_header("X-Accel-Buffering", "no")
        # Following a run is not user activity: an open stream must not keep an idle server
        # from being culled.
        self._track_activity = False
        sub = self.runs.hub.subscribe(run_id, after)
        try:
            # The headers go out now: a client knows it is connected even while the run has
            # nothing to say yet.
            self.write(": connected\n\n")
            await self.flush()
            done = False
            last_write = last_check = time.monotonic()
            while not done:
                events = await sub.get(_POLL_S)
                if events:
                    # A page replayed from the database holds thousands: write it in slices,
                    # handing the loop back between them.
                    for start in range(0, len(events), _SLICE):
                        done = await self._send(events[start : start + _SLICE], types) or done
                        await self.flush()
                        await asyncio.sleep(0)
                    last_write = time.monotonic()
                    continue
                now = time.monotonic()
                if not sub.lagging and now - last_check >= KEEPALIVE_S:
                    # Ended with its last state event sent, or removed meanwhile: say so.
                    last_check = now
                    try:
                        ended = (await self.runs.get(run_id)).state in FINAL
                    except NotFound:
                        ended = True
                    if ended:
                        done = await self._send(await self._rest(sub), types) or True
                        continue
                if now - last_write >= KEEPALIVE_S:
                    self.write(": keepalive\n\n")
                    await self.flush()
                    last_write = now
            try:
                final: dict[str, object] | None = await self.runs.get_json(run_id)
            except NotFound:
                final = None
            close_id = max(sub.last_seq, after) + 1
            self.write(f"id: {close_id}\nevent: close\ndata: {json.dumps(final)}\n\n")
            await self.flush()
        except StreamClosedError:
            pass
        finally:
            sub.close()
        self.finish(set_content_type=SSE_TYPE)

    async def _rest(self, sub: Subscription) -> list[Event]:
        """What is stored after what ``sub`` has seen (a run that ended on another server)."""
        rest = await self.runs.hub.read_after(sub.run_id, sub.last_seq)
        return [e for e in rest if e.seq > sub.last_seq]

    async def _send(self, events: list[Event], types: frozenset[str] | None) -> bool:
        if not events:
            return False
        parts = [e.sse() for e in events if types is None or e.type in types]
        if parts:
            self.write("".join(parts))
        return any(_final_status(e) for e in events)


class ResultStreamMixin(JobExtHandler):
    async def send_result(self, run_id: int) -> None:
        """Stream the result file with its type, length and name; honour a single byte
        ``Range`` (206), answer 416 for one that cannot be met, and ignore ranges of other
        units or several ranges (the whole file, as RFC 9110 allows)."""
        fmt = self.arg("format") or None
        run, path = await result_file(self.runs, run_id, fmt)
        size = path.stat().st_size
        media_type = (
            (run.result_media_type if fmt is None else None)
            or mimetypes.guess_type(path.name)[0]
            or "application/octet-stream"
        )
        filename = result_filename(run)
        if fmt is not None:
            filename = f"{filename.rsplit('.', 1)[0]}.{fmt}"
        self.set_header("Content-Disposition", f'attachment; filename="{filename}"')
        self.set_header("Accept-Ranges", "bytes")
        start, end = 0, size - 1
        range_header = self.request.headers.get("Range", "").strip()
        if range_header.lower().startswith("bytes=") and "," not in range_header:
            parsed = self._parse_range(range_header, size)
            if parsed is None:
                # Answered here, not raised: send_error would drop the Content-Range header.
                self.set_status(416)
                self.set_header("Content-Range", f"bytes */{size}")
                reply = {
                    "message": f"Range: cannot serve {range_header!r} of a {size}-byte file",
                    "reason": "range_not_satisfiable",
                    "field": "Range",
                }
                self.finish(json.dumps(reply) if self.request.method != "HEAD" else None)
                return
            start, end = parsed
            self.set_status(206)
            self.set_header("Content-Range", f"bytes {start}-{end}/{size}")
        length = max(0, end - start + 1)
        self.set_header("Content-Length", str(length))
        if self.request.method == "HEAD" or length == 0:
            self.finish(set_content_type=media_type)
            return
        self.set_header("Content-Type", media_type)
        try:
            with path.open("rb") as handle:
                handle.seek(start)
                remaining = length
                while remaining > 0:
                    chunk = handle.read(min(_CHUNK, remaining))
                    if not chunk:
                        break
                    remaining -= len(chunk)
                    self.write(chunk)
                    await self.flush()
        except StreamClosedError:
            return
        self.finish(set_content_type=media_type)

    @staticmethod
    def _parse_range(header: str, size: int) -> tuple[int, int] | None:
        match = _RANGE.match(header.replace(" ", ""))
        if not match or (not match[1] and not match[2]) or size == 0:
            return None
        if not match[1]:
            suffix = int(match[2])
            return (max(0, size - suffix), size - 1) if suffix else None
        start = int(match[1])
        end = int(match[2]) if match[2] else size - 1
        if start >= size or end < start:
            return None
        return start, min(end, size - 1)
