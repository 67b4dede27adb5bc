"""``GET /events``: the server-wide stream of changes that keeps lists live."""

from __future__ import annotations

import time

from jupyter_server.auth.decorator import authorized
from tornado import web
from tornado.iostream import StreamClosedError

from jobext.errors import Invalid
from jobext.http.base import JobExtHandler
from jobext.http.params import parse_int

SSE_TYPE = "text/event-stream; charset=utf-8"
KEEPALIVE_S = 10.0


class FeedHandler(JobExtHandler):
    # An open panel must not keep a JupyterHub server from being culled.
    _track_activity = False

    @web.authenticated
    @authorized("read")
    async def get(self) -> None:
        """200 SSE of every run state change (``run``) and progress report (``progress``),
        each with an ``id``; ``Last-Event-ID`` resumes after it, or gets ``reset`` when what
        came after it is no longer kept. A ``: keepalive`` comment every 10 s."""
        feed = self.runs.hub.feed
        raw = self.request.headers.get("Last-Event-ID") or self.arg("last_event_id")
        epoch, _, number = (raw or "").rpartition("-")
        try:
            last = parse_int("Last-Event-ID", number or None, 0, minimum=0, maximum=2**62) or 0
        except Invalid:
            # Not an id this feed gave: as one of another server life, the client is reset.
            epoch, last = "", 0
        self.set_header("Content-Type", SSE_TYPE)
        self.set_header("Cache-Control", "no-cache")
        self.set_header("X-Accel-Buffering", "no")
        if raw and epoch != feed.epoch:
            last = feed.latest()  # ids of another server life mean nothing here
            self.write(f"id: {feed.epoch}-{last}\nevent: reset\ndata: {{}}\n\n")
        elif not raw:
            last = feed.latest()
        feed.listeners += 1
        try:
            self.write(": connected\n\n")
            await self.flush()
            last_write = time.monotonic()
            while True:
                changes = feed.since(last)
                if changes is None:
                    last = feed.latest()
                    self.write(f"id: {feed.epoch}-{last}\nevent: reset\ndata: {{}}\n\n")
                elif changes:
                    last = changes[-1].id
                    self.write("".join(c.sse(feed.epoch) for c in changes))
                elif time.monotonic() - last_write >= KEEPALIVE_S:
                    self.write(": keepalive\n\n")
                else:
                    await feed.wait(last, KEEPALIVE_S)
                    continue
                await self.flush()
                last_write = time.monotonic()
        except StreamClosedError:
            pass
        finally:
            feed.listeners -= 1
