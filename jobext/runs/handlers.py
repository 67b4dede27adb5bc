"""``/runs``: history, one run, its controls, logs, events and result."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from jobext.errors import Invalid
from jobext.http.base import JobExtHandler
from jobext.http.params import parse_int
from jobext.runs.actions import pause_run, restart_run, resume_run, stop_run
from jobext.runs.filters import RunFilter
from jobext.runs.manager import RUN_SORTS
from jobext.runs.removal import remove_matching_runs, remove_run
from jobext.runs.streams import EventStreamMixin, ResultStreamMixin

FILTER_PARAMS = (
    "job",
    "status",
    "from",
    "to",
    "uuid",
    "batch",
    "schedule",
    "user",
    "worker",
    "search",
)
MAX_LOG_LIMIT = 10_000


class RunsHandler(JobExtHandler):
    @web.authenticated
    @authorized("read")
    async def get(self) -> None:
        """200 ``{items, page, per_page, total}``, newest first unless ``sort`` says otherwise.
        Filters: ``job``, ``status`` (names, comma list, or IN_PROGRESS/SUCCEEDED/FAILED),
        ``from``/``to`` (ISO 8601, 20220221, 20220221T061500), ``uuid``, ``batch``,
        ``schedule``, ``user``, ``worker`` (the worker id it ran on), ``search``. 400 names
        the bad parameter."""
        page = self.page_request(RUN_SORTS)
        filters = RunFilter.parse({k: self.arg(k) for k in FILTER_PARAMS})
        runs, total = await self.runs.list_page(filters, page)
        self.reply_page([self.runs.run_json(r) for r in runs], page, total)

    @web.authenticated
    @authorized("write")
    async def delete(self) -> None:
        """200 ``{deleted, in_progress, in_batches}``: removes every ended run the filters of
        ``GET /runs`` match, with its log and result; runs in progress and runs of batches
        stay (counted). At least one filter is required (400), so that no stray request
        empties the history."""
        params = {k: self.arg(k) for k in FILTER_PARAMS}
        if not any(params.values()):
            raise Invalid(None, "name the runs to delete with at least one filter (e.g. job)")
        self.reply(await remove_matching_runs(self.runs, RunFilter.parse(params)))


class RunHandler(JobExtHandler):
    @web.authenticated
    @authorized("read")
    async def get(self, run_id: str) -> None:
        """200 the run, current or past; 404 if unknown."""
        self.reply(await self.runs.get_json(self.run_id(run_id)))

    @web.authenticated
    @authorized("write")
    async def delete(self, run_id: str) -> None:
        """204; removes the run, its log and result; 409 while it is in progress."""
        await remove_run(self.runs, self.run_id(run_id))
        self.set_status(204)
        self.finish()


class RunActionHandler(JobExtHandler):
    """``POST /runs/{id}/stop|pause|resume``."""

    @web.authenticated
    @authorized("write")
    async def post(self, run_id: str, action: str) -> None:
        """200 the run after ``stop`` (``?force=true`` ends it at once), ``pause`` or
        ``resume``; 409 when the run's state does not allow it."""
        rid = self.run_id(run_id)
        user = self.username
        if action == "stop":
            run = await stop_run(self.runs, rid, force=self.flag("force"), user=user)
        elif action == "pause":
            run = await pause_run(self.runs, rid, user=user)
        else:
            run = await resume_run(self.runs, rid, user=user)
        self.reply(self.runs.run_json(run))


class RunRestartHandler(JobExtHandler):
    @web.authenticated
    @authorized("execute")
    async def post(self, run_id: str) -> None:
        """201 the new run (``restarted_from`` names the old one, which is kept); 409 for a run
        that is not failed or stopped, or whose job is not restartable."""
        run = await restart_run(self.runs, self.run_id(run_id), user=self.username)
        self.set_header("Location", self.api_url(f"/runs/{run.id}"))
        self.reply(self.runs.run_json(run), 201)


class RunLogsHandler(EventStreamMixin):
    @web.authenticated
    @authorized("read")
    async def get(self, run_id: str) -> None:
        """200 ``{items: [{seq, ts, stream, level, text}], after, limit, next_after, more}``
        paged by ``after`` (a seq) and ``limit``; ``tail=N`` gives the last N lines instead
        (``next_after`` then follows on from them). With ``follow=true`` or ``Accept:
        text/event-stream``, the log lines as SSE until the run ends (after ``after``, or
        after the last ``tail`` lines)."""
        rid = self.run_id(run_id)
        after = parse_int("after", self.arg("after"), 0, minimum=0, maximum=2**62) or 0
        tail = parse_int("tail", self.arg("tail"), None, minimum=1, maximum=MAX_LOG_LIMIT)
        if tail is not None and self.arg("after"):
            raise Invalid("tail", "give either after or tail, not both")
        if self.flag("follow") or self.wants_stream():
            if tail is not None:
                last = await self.runs.logs(rid, limit=tail, tail=True)
                after = last[0].seq - 1 if last else 0
            else:
                await self.runs.get(rid)
            await self.stream_run(rid, max(after, self.last_event_id()), types=frozenset({"log"}))
            return
        limit = (
            parse_int("limit", self.arg("limit"), 1000, minimum=1, maximum=MAX_LOG_LIMIT) or 1000
        )
        if tail is not None:
            events = await self.runs.logs(rid, limit=tail, tail=True)
            limit = tail
        else:
            events = await self.runs.logs(rid, after=after, limit=limit)
        next_after = events[-1].seq if events else after
        self.reply(
            {
                "items": [e.log_json() for e in events],
                "after": after,
                "limit": limit,
                "next_after": next_after,
                # With tail the page ends at the last line stored: nothing more yet.
                "more": tail is None and len(events) == limit,
            }
        )


class RunEventsHandler(EventStreamMixin):
    @web.authenticated
    @authorized("read")
    async def get(self, run_id: str) -> None:
        """200 SSE: ``state``, ``progress`` and ``log`` events, then ``close`` with the final
        run. Each event has an ``id``; ``Last-Event-ID`` resumes after it."""
        rid = self.run_id(run_id)
        await self.runs.get(rid)
        await self.stream_run(rid, self.last_event_id())


class RunResultHandler(ResultStreamMixin):
    @web.authenticated
    @authorized("read")
    async def get(self, run_id: str) -> None:
        """200 the result file (206 for a ``Range``), as an attachment; 404 when the run has
        none."""
        await self.send_result(self.run_id(run_id))

    @web.authenticated
    @authorized("read")
    async def head(self, run_id: str) -> None:
        """The headers of ``GET`` without the body."""
        await self.send_result(self.run_id(run_id))
