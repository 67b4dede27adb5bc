"""``/jobs``: job definitions, their stats, and enqueueing runs."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from jobext.http.base import JobExtHandler
from jobext.jobs.manager import JOB_SORTS
from jobext.jobs.shapes import job_json
from jobext.runs.filters import RunFilter
from jobext.runs.manager import RUN_SORTS
from jobext.runs.shapes import EnqueueRequest
from jobext.runs.streams import EventStreamMixin
from jobext.shapes import parse


class JobsHandler(JobExtHandler):
    @web.authenticated
    @authorized("read")
    async def get(self) -> None:
        """200 ``{items, page, per_page, total}`` of job definitions; ``search`` matches name,
        description and target, ``app`` keeps that app's jobs; 400 for bad paging or sort."""
        page = self.page_request(JOB_SORTS)
        jobs, total = await self.jobs.list_page(page, app=self.arg("app") or None)
        self.reply_page([job_json(j) for j in jobs], page, total)

    @web.authenticated
    @authorized("write")
    async def post(self) -> None:
        """201 the new job; 400 naming the bad field; 403 for a disabled kind; 409 if the name
        is taken."""
        job = await self.jobs.register(self.json_body(), user=self.username)
        self.set_header("Location", self.api_url(f"/jobs/{job.name}"))
        self.reply(job_json(job), 201)


class JobHandler(JobExtHandler):
    @web.authenticated
    @authorized("read")
    async def get(self, name: str) -> None:
        """200 the job with ``stats``, ``latest_run`` and ``next_run_at``; 404 if unknown."""
        self.reply(await self.jobs.detail(name))

    @web.authenticated
    @authorized("write")
    async def patch(self, name: str) -> None:
        """200 the changed job; 400 naming a bad field (``name`` and ``kind`` are fixed); 409
        for a job of an app (``managed_by_app``: redeploy the app)."""
        job = await self.jobs.update(name, self.json_body(required=True), user=self.username)
        self.reply(job_json(job))

    @web.authenticated
    @authorized("write")
    async def delete(self, name: str) -> None:
        """204; removes the job with all its runs, logs and results; 409 while runs are in
        progress, and for a job of an app (``managed_by_app``: redeploy or delete the app)."""
        await self.jobs.delete(name)
        self.set_status(204)
        self.finish()


class JobStatsHandler(JobExtHandler):
    @web.authenticated
    @authorized("read")
    async def get(self, name: str) -> None:
        """200 ``{total, succeeded, failed, stopped, in_progress, average_duration_s,
        latest_run, next_run_at}``."""
        self.reply(await self.jobs.stats(name))


class JobRunsHandler(EventStreamMixin):
    @web.authenticated
    @authorized("read")
    async def get(self, name: str) -> None:
        """200 the runs of this job, filtered and paged as ``GET /runs``."""
        await self.jobs.get(name)
        page = self.page_request(RUN_SORTS)
        names = ("status", "from", "to", "uuid", "user", "worker", "search")
        params = {k: self.arg(k) for k in names}
        filters = RunFilter.parse({**params, "job": name})
        runs, total = await self.runs.list_page(filters, page)
        self.reply_page([self.runs.run_json(r) for r in runs], page, total)

    @web.authenticated
    @authorized("execute")
    async def post(self, name: str) -> None:
        """201 the new run. With ``{"follow": true}`` or ``Accept: text/event-stream`` the reply
        is the run's event stream instead. 400 for bad args; 404 unknown job; 409 when the job
        has ``max_concurrent`` runs in progress."""
        request = parse(EnqueueRequest, self.json_body())
        run = await self.runs.enqueue(name, request.args, user=self.username)
        assert run.id is not None
        self.set_header("Location", self.api_url(f"/runs/{run.id}"))
        if request.follow or self.wants_stream():
            self.set_status(201)
            await self.stream_run(run.id, 0)
            return
        self.reply(self.runs.run_json(run), 201)
