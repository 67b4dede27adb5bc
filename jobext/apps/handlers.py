"""``/apps``: jobs deployed from code (``@jobext.job`` in a module, a package or a folder)."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from jobext.apps.deployer import AppDeployer
from jobext.apps.reader import APP_SORTS
from jobext.http.base import JobExtHandler


class AppHandlerBase(JobExtHandler):
    @property
    def apps(self) -> AppDeployer:
        return self.extensionapp.apps  # type: ignore[attr-defined,no-any-return]


class AppsHandler(AppHandlerBase):
    @web.authenticated
    @authorized("read")
    async def get(self) -> None:
        """200 ``{items, page, per_page, total}`` of apps with their jobs; ``search`` matches
        name, module and path; 400 for bad paging or sort."""
        page = self.page_request(APP_SORTS)
        items, total = await self.apps.list_page(page)
        self.reply_page(items, page, total)

    @web.authenticated
    @authorized("write")
    async def post(self) -> None:
        """201 the deployed app with its jobs and ``changes``. 400 naming ``module`` or
        ``path`` when the code does not import (the exception's last line and where), a job
        name is used twice or a declaration is bad; 403 for a job kind this server does not
        run; 409 when the app or one of its job names exists already."""
        detail = await self.apps.deploy(self.json_body(required=True), user=self.username)
        self.set_header("Location", self.api_url(f"/apps/{detail['name']}"))
        self.reply(detail, 201)


class AppHandler(AppHandlerBase):
    @web.authenticated
    @authorized("read")
    async def get(self, name: str) -> None:
        """200 the app: source, ``digest``, ``files``, ``deployed_at``, ``error`` of the last
        failed redeployment, and its jobs with their schedules; 404 if unknown."""
        self.reply(await self.apps.detail(name))

    @web.authenticated
    @authorized("write")
    async def put(self, name: str) -> None:
        """200 the redeployed app with ``changes`` (``added``, ``updated``, ``removed``,
        ``unchanged``): its code is imported again (from a new ``module`` or ``path`` when the
        body gives one) and its jobs synced; removed jobs keep their runs unless
        ``?delete_runs=true``. Errors as ``POST /apps``, and 409 when a job to remove has runs
        in progress; a failed redeployment changes nothing but the app's ``error``. 404 if
        unknown."""
        detail = await self.apps.redeploy(
            name, self.json_body(), user=self.username, delete_runs=self.flag("delete_runs")
        )
        self.reply(detail)

    @web.authenticated
    @authorized("write")
    async def delete(self, name: str) -> None:
        """204: the app and its jobs (with their schedules and batches) are gone; their runs
        are kept unless ``?delete_runs=true``. 404 if unknown; 409 while one of its jobs has
        runs in progress."""
        await self.apps.delete(name, delete_runs=self.flag("delete_runs"))
        self.set_status(204)
        self.finish()


class AppStatsHandler(AppHandlerBase):
    @web.authenticated
    @authorized("read")
    async def get(self, name: str) -> None:
        """200 ``{workers, jobs, schedules, runs: {status: count}}``: the workers ready to run
        the app's jobs, its jobs and active schedules, its jobs' runs; 404 if unknown."""
        self.reply(await self.apps.stats(name))
