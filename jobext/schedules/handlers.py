"""``/schedules``: cron schedules of jobs, their preview and their log."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from jobext.errors import Invalid
from jobext.http.base import JobExtHandler
from jobext.schedules.manager import SCHEDULE_SORTS, ScheduleService


class ScheduleHandlerBase(JobExtHandler):
    @property
    def schedules(self) -> ScheduleService:
        return self.extensionapp.schedules  # type: ignore[attr-defined,no-any-return]

    def schedule_id(self, raw: str) -> int:
        """A schedule id from the path; 404 for anything that cannot be one."""
        return self.path_id(raw, "schedule")


class SchedulesHandler(ScheduleHandlerBase):
    @web.authenticated
    @authorized("read")
    async def get(self) -> None:
        """200 ``{items, page, per_page, total}``; filters ``job`` and ``active``."""
        page = self.page_request(SCHEDULE_SORTS)
        active = self.arg("active")
        items, total = await self.schedules.list_page(
            page,
            job=self.arg("job") or None,
            active=self.flag("active") if active not in (None, "") else None,
        )
        self.reply_page([self.schedules.json(s) for s in items], page, total)

    @web.authenticated
    @authorized("write")
    async def post(self) -> None:
        """201 the new schedule with its ``next_fire_times``; 400 naming ``job``, ``cron``,
        ``timezone``, ``args`` or another field."""
        schedule = await self.schedules.create(self.json_body(), user=self.username)
        self.set_header("Location", self.api_url(f"/schedules/{schedule.id}"))
        self.reply(self.schedules.json(schedule), 201)


class SchedulePreviewHandler(ScheduleHandlerBase):
    @web.authenticated
    @authorized("read")
    async def post(self) -> None:
        """200 ``{fire_times, local_times}`` of ``{cron, timezone, after?, count?}``; nothing
        is saved. 400 naming the bad field."""
        self.reply(self.schedules.preview(self.json_body()))


class ScheduleHandler(ScheduleHandlerBase):
    @web.authenticated
    @authorized("read")
    async def get(self, schedule_id: str) -> None:
        """200 the schedule with its ``next_fire_times``; 404 if unknown."""
        self.reply(self.schedules.json(await self.schedules.get(self.schedule_id(schedule_id))))

    @web.authenticated
    @authorized("write")
    async def patch(self, schedule_id: str) -> None:
        """200 the changed schedule; a new cron, time zone or activation counts from now."""
        schedule = await self.schedules.update(
            self.schedule_id(schedule_id), self.json_body(required=True), user=self.username
        )
        self.reply(self.schedules.json(schedule))

    @web.authenticated
    @authorized("write")
    async def delete(self, schedule_id: str) -> None:
        """204; the schedule and its log go, its runs stay."""
        await self.schedules.delete(self.schedule_id(schedule_id))
        self.set_status(204)
        self.finish()


class ScheduleActionHandler(ScheduleHandlerBase):
    @web.authenticated
    @authorized("write")
    async def post(self, schedule_id: str, action: str) -> None:
        """200 the schedule after ``pause`` (stop firing) or ``resume`` (fire again from now)."""
        if action not in ("pause", "resume"):
            raise Invalid(None, f"unknown action {action!r}")
        schedule = await self.schedules.set_active(
            self.schedule_id(schedule_id), action == "resume", user=self.username
        )
        self.reply(self.schedules.json(schedule))


class ScheduleFiresHandler(ScheduleHandlerBase):
    @web.authenticated
    @authorized("read")
    async def get(self, schedule_id: str) -> None:
        """200 the schedule's log, newest first: each handled fire time with its ``outcome``
        (started, skipped, missed, failed), ``run_id`` and ``message``."""
        page = self.page_request(("scheduled_for",))
        items, total = await self.schedules.fires(self.schedule_id(schedule_id), page)
        self.reply_page(items, page, total)
