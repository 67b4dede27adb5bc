"""``ScheduleEditor``: a job's cron schedule, with a live preview of its next fire times."""

from __future__ import annotations

import json
import os
import threading
import zoneinfo
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from jobext.client import JobextError, JobsClient
from jobext.widgets.common import JSON, Panel, error_html, esc, local_time, table

#: Seconds the preview waits after the last keystroke before it asks the server.
PREVIEW_DELAY_S = 0.3
MISFIRE = ("skip", "once", "all")
OVERLAP = ("forbid", "allow", "replace")
_TIPS = {
    "skip": "after downtime, run none of the missed fires",
    "once": "after downtime, run one catch-up for the latest missed fire",
    "all": "after downtime, run every missed fire within the grace window",
    "forbid": "skip a fire while the previous run is still going",
    "allow": "start alongside the previous run (up to the job's max_concurrent)",
    "replace": "stop the previous run and start the new one",
}


def local_zone() -> str:
    """The IANA name of the kernel's time zone (UTC when it cannot tell)."""
    name = os.environ.get("TZ", "").lstrip(":")
    if name and "/" in name:
        return name
    try:
        target = str(Path("/etc/localtime").resolve())
        if "zoneinfo/" in target:
            return target.split("zoneinfo/", 1)[1]
    except OSError:
        pass
    try:
        return Path("/etc/timezone").read_text().strip() or "UTC"
    except OSError:
        return "UTC"


class ScheduleEditor(Panel):
    """Create or edit a schedule of ``job`` (or the schedule ``schedule_id``).

    The cron expression and time zone are previewed live (``POST /schedules/preview``, nothing
    saved) as you type; Save creates or updates the schedule; Pause, Resume and Delete act on
    the saved one.
    """

    def __init__(
        self,
        job: str | None = None,
        *,
        schedule_id: int | None = None,
        client: JobsClient | None = None,
        cron: str = "0 2 * * *",
        timezone: str | None = None,
        count: int = 5,
        on_change: Callable[[JSON | None], None] | None = None,
    ):
        super().__init__(client)
        #: Called with the schedule (None once deleted) after each save, pause, resume, delete.
        self.on_change = on_change
        #: The saved schedule (None until saved).
        self.schedule: JSON | None = None
        if schedule_id is not None:
            self.schedule = self.client.schedules.get(schedule_id)
            job = self.schedule["job"]
        if not job:
            raise ValueError("ScheduleEditor needs a job (or a schedule_id)")
        self.job = job
        self.count = count
        #: The last preview: ``{fire_times, local_times}`` (None while the input is invalid).
        self.fire_times: JSON | None = None
        saved = self.schedule or {}
        label = {"description_width": "90px"}
        wide = widgets.Layout(width="420px")
        self.title = widgets.HTML()
        self.cron = widgets.Text(
            value=saved.get("cron", cron),
            description="cron",
            placeholder="0 2 * * *  ·  @daily  ·  0 */15 * * * ?",
            style=label,
            layout=wide,
        )
        zones = sorted(zoneinfo.available_timezones())
        self.timezone = widgets.Combobox(
            value=saved.get("timezone") or timezone or local_zone(),
            options=zones,
            description="time zone",
            ensure_option=False,
            style=label,
            layout=wide,
        )
        self.args = widgets.Textarea(
            value=json.dumps(saved.get("args")) if saved.get("args") is not None else "{}",
            description="args",
            placeholder="JSON: merged over the job's default args",
            style=label,
            layout=widgets.Layout(width="420px", height="56px"),
        )
        self.misfire = widgets.ToggleButtons(
            options=MISFIRE,
            value=saved.get("misfire", "skip"),
            description="misfire",
            tooltips=[_TIPS[m] for m in MISFIRE],
            style={**label, "button_width": "80px"},
        )
        self.overlap = widgets.ToggleButtons(
            options=OVERLAP,
            value=saved.get("overlap", "forbid"),
            description="overlap",
            tooltips=[_TIPS[o] for o in OVERLAP],
            style={**label, "button_width": "80px"},
        )
        self.description = widgets.Text(
            value=saved.get("description") or "",
            description="description",
            style=label,
            layout=wide,
        )
        self.preview = widgets.HTML()
        self.save_button = widgets.Button(description="Save", icon="save", button_style="primary")
        self.pause_button = widgets.Button(description="Pause", icon="pause")
        self.resume_button = widgets.Button(description="Resume", icon="play")
        self.delete_button = widgets.Button(
            description="Delete", icon="trash", button_style="danger"
        )
        self.save_button.on_click(lambda _b: self.guarded(self.save))
        self.pause_button.on_click(lambda _b: self.guarded(lambda: self.set_active(False)))
        self.resume_button.on_click(lambda _b: self.guarded(lambda: self.set_active(True)))
        self.delete_button.on_click(lambda _b: self.guarded(self.delete))
        buttons = widgets.HBox(
            [self.save_button, self.pause_button, self.resume_button, self.delete_button]
        )
        self.children = [
            self.title,
            self.cron,
            self.timezone,
            self.preview,
            self.args,
            self.misfire,
            self.overlap,
            self.description,
            buttons,
            self.notice,
        ]
        self.own(*self.children, buttons, *buttons.children)
        self._timer: threading.Timer | None = None
        self._preview_seq = 0
        self._preview_lock = threading.Lock()
        self.cron.observe(self._input_changed, names="value")
        self.timezone.observe(self._input_changed, names="value")
        self._announce = False
        self._show_saved()
        self._announce = True
        self.refresh_preview()

    # -- public

    def refresh_preview(self) -> JSON | None:
        """Ask the server for the next fire times of the cron and zone entered; show them."""
        with self._preview_lock:
            self._preview_seq += 1
            seq = self._preview_seq
        cron, zone = self.cron.value.strip(), self.timezone.value.strip() or "UTC"
        try:
            reply: JSON | None = self.client.schedules.preview(cron, zone, count=self.count)
            text = self._times_html(reply or {})
        except JobextError as exc:
            reply, text = None, error_html(exc)
        with self._preview_lock:
            if seq != self._preview_seq or self.closed:
                return reply  # a newer preview is on its way
            self.fire_times = reply
            self.preview.value = text
        return reply

    def values(self) -> JSON:
        """The schedule the form describes, as ``POST /schedules`` takes it."""
        text = self.args.value.strip()
        try:
            args = json.loads(text) if text else None
        except ValueError:
            raise ValueError(f"args: not valid JSON: {text[:80]!r}") from None
        return {
            "cron": self.cron.value.strip(),
            "timezone": self.timezone.value.strip() or "UTC",
            "args": args if args != {} else None,
            "misfire": self.misfire.value,
            "overlap": self.overlap.value,
            "description": self.description.value,
        }

    def save(self) -> JSON:
        """Create the schedule, or update the saved one; the schedule."""
        values = self.values()
        if self.schedule is None:
            args = values.pop("args")
            self.schedule = self.client.schedules.create(self.job, args=args, **values)
            self.say(f"schedule {self.schedule['id']} created")
        else:
            if values["args"] is None:
                values["args"] = {}
            self.schedule = self.client.schedules.update(int(self.schedule["id"]), **values)
            self.say(f"schedule {self.schedule['id']} saved")
        self._show_saved()
        return self.schedule

    def set_active(self, active: bool) -> JSON:
        """Pause (``False``) or resume (``True``) the saved schedule."""
        if self.schedule is None:
            raise ValueError("save the schedule first")
        schedules = self.client.schedules
        sid = int(self.schedule["id"])
        self.schedule = schedules.resume(sid) if active else schedules.pause(sid)
        self.say(f"schedule {sid} {'resumed' if active else 'paused'}")
        self._show_saved()
        return self.schedule

    def delete(self) -> None:
        """Delete the saved schedule (its runs stay)."""
        if self.schedule is None:
            return
        sid = int(self.schedule["id"])
        self.client.schedules.delete(sid)
        self.schedule = None
        self.say(f"schedule {sid} deleted")
        self._show_saved()

    # -- internals

    def _show_saved(self) -> None:
        saved = self.schedule
        if saved is None:
            self.title.value = f"<b>New schedule</b> of <code>{esc(self.job)}</code>"
        else:
            state = "active" if saved.get("active") else "paused"
            following = saved.get("next_fire_times") or []
            upcoming = f" · next {esc(local_time(following[0]))}" if following else ""
            self.title.value = (
                f"<b>Schedule {esc(saved['id'])}</b> of <code>{esc(self.job)}</code> · "
                f"{state}{upcoming}"
            )
        if self.on_change is not None and self._announce:
            self.on_change(saved)
        self.pause_button.disabled = saved is None or not saved.get("active")
        self.resume_button.disabled = saved is None or bool(saved.get("active"))
        self.delete_button.disabled = saved is None

    def _times_html(self, reply: JSON) -> str:
        local = reply.get("local_times") or []
        utc = reply.get("fire_times") or []
        if not local:
            return '<span style="color:#6c757d">never fires</span>'
        rows = [(lt.replace("T", " "), u) for lt, u in zip(local, utc, strict=False)]
        return f'<div style="color:#555;font-size:90%">next {len(rows)} fire times</div>' + table(
            ["local time", "UTC"], rows
        )

    def _input_changed(self, _change: dict[str, Any]) -> None:
        if self._timer is not None:
            self._timer.cancel()
        timer = threading.Timer(PREVIEW_DELAY_S, self._preview_later)
        timer.daemon = True
        self._timer = timer
        timer.start()

    def _preview_later(self) -> None:
        if not self.closed:
            self.refresh_preview()

    def on_close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
