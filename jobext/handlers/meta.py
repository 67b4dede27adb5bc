"""``/stats`` and ``/openapi.json``."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..openapi import openapi_document
from .base import JobExtHandler


class StatsHandler(JobExtHandler):
    @web.authenticated
    @authorized("read")
    async def get(self) -> None:
        """200 ``{jobs, schedules, workers, runs: {status: count}}``."""
        self.reply(self.service.stats())


class OpenAPIHandler(JobExtHandler):
    @web.authenticated
    @authorized("read")
    async def get(self) -> None:
        """200 the OpenAPI 3 description of this API."""
        self.reply(openapi_document(self.service.api_base))
