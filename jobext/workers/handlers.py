"""``/workers``: where runs execute, and their drain / resume."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from jobext.http.base import JobExtHandler
from jobext.states import WorkerAction
from jobext.workers.manager import WORKER_SORTS, WorkerManager


class WorkerHandlerBase(JobExtHandler):
    @property
    def workers(self) -> WorkerManager:
        return self.extensionapp.workers  # type: ignore[attr-defined,no-any-return]


class WorkersHandler(WorkerHandlerBase):
    @web.authenticated
    @authorized("read")
    async def get(self) -> None:
        """200 ``{items, page, per_page, total}`` of workers, newest first; filters ``status``
        (ready, draining, offline, or a comma list) and ``kind`` (local, dask); ``search``
        matches name, host and id. 400 names a bad parameter."""
        page = self.page_request(WORKER_SORTS)
        items, total = await self.workers.list_page(
            page, status=self.arg("status") or None, kind=self.arg("kind") or None
        )
        self.reply_page(items, page, total)


class WorkerHandler(WorkerHandlerBase):
    @web.authenticated
    @authorized("read")
    async def get(self, worker_id: str) -> None:
        """200 the worker with its runs in progress, host, OS, CPU and memory stats and
        totals; 404 if unknown."""
        self.reply(await self.workers.get(worker_id))


class WorkerActionHandler(WorkerHandlerBase):
    """``POST /workers/{id}/drain|resume``."""

    @web.authenticated
    @authorized("write")
    async def post(self, worker_id: str, action: str) -> None:
        """200 the worker after ``drain`` (it starts no new run; its runs in progress finish;
        queued runs go to other workers) or ``resume`` (it takes runs again); 404 if unknown;
        409 for an offline worker."""
        self.reply(await self.workers.act(worker_id, WorkerAction(action), user=self.username))
