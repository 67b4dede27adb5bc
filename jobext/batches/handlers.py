"""``/batches`` and ``/jobs/{name}/batches``: batches of sub-jobs and their directives."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from jobext.batches.manager import (
    BATCH_SORTS,
    MAX_SUB_JOBS_PER_PAGE,
    SUB_JOBS_PER_PAGE,
    BatchManager,
)
from jobext.batches.shapes import MAX_JOBS_PER_SECOND
from jobext.errors import Invalid
from jobext.http.base import JobExtHandler
from jobext.http.params import parse_int
from jobext.states import BatchDirective


class BatchHandlerBase(JobExtHandler):
    @property
    def batches(self) -> BatchManager:
        return self.extensionapp.batches  # type: ignore[attr-defined,no-any-return]

    def batch_id(self, raw: str) -> int:
        """A batch id from the path; 404 for anything that cannot be one."""
        return self.path_id(raw, "batch")

    async def reply_batches(self, job: str | None) -> None:
        page = self.page_request(BATCH_SORTS)
        items, total = await self.batches.list_page(
            page, job=job, status=self.arg("status") or None
        )
        self.reply_page(items, page, total)


class BatchesHandler(BatchHandlerBase):
    @web.authenticated
    @authorized("read")
    async def get(self) -> None:
        """200 ``{items, page, per_page, total}``, newest first, each batch with its
        ``counts``; filters ``job`` and ``status`` (a status or a comma list); 400 names a bad
        parameter."""
        await self.reply_batches(self.arg("job") or None)


class JobBatchesHandler(BatchHandlerBase):
    @web.authenticated
    @authorized("read")
    async def get(self, name: str) -> None:
        """200 the job's batches, paged like ``GET /batches``."""
        await self.reply_batches(name)

    @web.authenticated
    @authorized("execute")
    async def post(self, name: str) -> None:
        """201 the new batch (started at once unless ``start: false``); 400 naming the bad
        field, 403 for a disabled kind, 404 for an unknown job."""
        batch = await self.batches.create(name, self.json_body(), user=self.username)
        self.set_header("Location", self.api_url(f"/batches/{batch.id}"))
        self.reply(await self.batches.detail(batch.id or 0), 201)

    @web.authenticated
    @authorized("write")
    async def delete(self, name: str) -> None:
        """200 ``{deleted: n}``: every batch of the job is stopped and deleted with all its
        runs, logs and results; 404 when there is no such job and no batch of it."""
        self.reply({"deleted": await self.batches.delete_of_job(name)})


class BatchHandler(BatchHandlerBase):
    @web.authenticated
    @authorized("read")
    async def get(self, batch_id: str) -> None:
        """200 the batch with ``counts``, ``concurrent_jobs``, ``lag_s`` and a page of
        ``sub_jobs`` (``sub_jobs_page``, ``sub_jobs_per_page``); 404 if unknown."""
        page = parse_int("sub_jobs_page", self.arg("sub_jobs_page"), 0, minimum=0, maximum=10**6)
        per_page = parse_int(
            "sub_jobs_per_page",
            self.arg("sub_jobs_per_page"),
            SUB_JOBS_PER_PAGE,
            minimum=1,
            maximum=MAX_SUB_JOBS_PER_PAGE,
        )
        self.reply(
            await self.batches.detail(
                self.batch_id(batch_id), page=page or 0, per_page=per_page or SUB_JOBS_PER_PAGE
            )
        )

    @web.authenticated
    @authorized("write")
    async def delete(self, batch_id: str) -> None:
        """204: what runs is stopped; the batch and every run of it (logs, results) are gone."""
        await self.batches.delete(self.batch_id(batch_id))
        self.set_status(204)
        self.finish()


class BatchDirectiveHandler(BatchHandlerBase):
    async def direct(self, batch_id: str, directive: str) -> None:
        try:
            which = BatchDirective(directive)
        except ValueError:
            raise Invalid(None, f"unknown directive {directive!r}") from None
        jobs_per_second = parse_int(
            "jobs_per_second",
            self.arg("jobs_per_second"),
            None,
            minimum=1,
            maximum=MAX_JOBS_PER_SECOND,
        )
        batch = await self.batches.direct(
            self.batch_id(batch_id), which, jobs_per_second=jobs_per_second, user=self.username
        )
        self.reply(await self.batches.detail(batch.id or 0))


class BatchStartHandler(BatchDirectiveHandler):
    """``POST /batches/{id}/start|unpause``: they start runs, so they need ``execute``."""

    @web.authenticated
    @authorized("execute")
    async def post(self, batch_id: str, directive: str) -> None:
        """200 the batch after ``start`` (runs cleared, every sub-job from its first
        iteration) or ``unpause`` (on at the held iteration); ``?jobs_per_second=`` paces
        them. 409 saying why when the batch's status does not allow it."""
        await self.direct(batch_id, directive)


class BatchSteerHandler(BatchDirectiveHandler):
    """``POST /batches/{id}/stop|pause``."""

    @web.authenticated
    @authorized("write")
    async def post(self, batch_id: str, directive: str) -> None:
        """200 the batch after ``stop`` (its runs stopped, progress reset: ``stopping`` then
        ``stopped``) or ``pause`` (running runs finish: ``pausing`` then ``paused``); 409 saying
        why when the batch's status does not allow it; 400 for ``jobs_per_second``."""
        await self.direct(batch_id, directive)
