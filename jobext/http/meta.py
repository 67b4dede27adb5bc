"""``/stats`` and ``/openapi.json``."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from jobext.http.base import JobExtHandler
from jobext.http.openapi import openapi_document
from jobext.kinds.registry import connection_list
from jobext.overview import count_resources


class StatsHandler(JobExtHandler):
    @web.authenticated
    @authorized("read")
    async def get(self) -> None:
        """200 ``{jobs, apps, schedules, batches: {status: count}, workers, runs: {status:
        count}}``."""
        stats = await count_resources(self.runs.db)
        stats["apps"] = await self.extensionapp.apps.count()  # type: ignore[attr-defined]
        self.reply(stats)


class OpenAPIHandler(JobExtHandler):
    @web.authenticated
    @authorized("read")
    async def get(self) -> None:
        """200 the OpenAPI 3 description of this API."""
        self.reply(openapi_document(self.jobs.api_base))


class ConnectionsHandler(JobExtHandler):
    @web.authenticated
    @authorized("read")
    async def get(self) -> None:
        """200 ``{items: [{name, dialect, driver, host, port, database}]}``: the databases
        saved-query jobs may use; never a user name's password."""
        self.reply({"items": connection_list(self.jobs.kind_env.connections)})
