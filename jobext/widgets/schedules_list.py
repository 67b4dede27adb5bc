"""The schedules tab of ``JobsPanel``: schedules with their next fire; picking one opens its
``ScheduleEditor``, and a new one can be made for any job."""

from __future__ import annotations

import ipywidgets as widgets

from jobext.client import JobsClient
from jobext.widgets.common import JSON, Panel, esc, local_time
from jobext.widgets.schedule_editor import ScheduleEditor

_COLUMNS = ["schedule", "job", "cron", "time zone", "state", "next fire", "description"]
_GRID = "90px minmax(90px, 160px) 130px 140px 70px 150px minmax(80px, 1fr)"


class SchedulesList(Panel):
    """All schedules; ``edit(schedule_id)`` edits one, ``new(job)`` starts a new one."""

    def __init__(self, *, client: JobsClient | None = None, per_page: int = 100):
        super().__init__(client)
        self.per_page = per_page
        #: The schedules shown (the API's schedule shape).
        self.items: list[JSON] = []
        self.total = 0
        #: The editor open below the table.
        self.editor: ScheduleEditor | None = None
        self.job_picker = widgets.Dropdown(
            description="New schedule of", style={"description_width": "initial"}
        )
        self.new_button = widgets.Button(description="New", icon="plus")
        self.refresh_button = widgets.Button(
            icon="refresh", tooltip="Reload", layout=widgets.Layout(width="40px")
        )
        self.summary = widgets.HTML()
        self.grid = widgets.GridBox(
            layout=widgets.Layout(grid_template_columns=_GRID, grid_gap="2px 6px", width="100%")
        )
        self.detail = widgets.VBox()
        top = widgets.HBox([self.job_picker, self.new_button, self.refresh_button, self.summary])
        self.children = [top, self.grid, self.notice, self.detail]
        self.own(
            self.job_picker,
            self.new_button,
            self.refresh_button,
            self.summary,
            self.grid,
            self.detail,
            top,
        )
        self._rows: list[widgets.Widget] = []
        self.new_button.on_click(lambda _b: self.guarded(self._new_clicked))
        self.refresh_button.on_click(lambda _b: self.guarded(self.refresh))
        self.refresh()

    def refresh(self) -> None:
        """Reload the schedules and the job list."""
        jobs = self.client.jobs.list(per_page=1000, sort="name")["items"]
        picked = self.job_picker.value
        self.job_picker.options = [j["name"] for j in jobs]
        if picked in self.job_picker.options:
            self.job_picker.value = picked
        self.new_button.disabled = not jobs
        reply = self.client.schedules.list(per_page=self.per_page)
        self.items = reply["items"]
        self.total = int(reply["total"])
        header = [widgets.HTML(f"<b>{esc(c)}</b>") for c in _COLUMNS]
        rows: list[widgets.Widget] = []
        for schedule in self.items:
            button = widgets.Button(
                description=f"#{schedule['id']}",
                icon="clock-o",
                tooltip=f"edit schedule {schedule['id']}",
                layout=widgets.Layout(width="84px", height="26px"),
            )
            button.on_click(
                lambda _b, sid=int(schedule["id"]): self.guarded(lambda: self.edit(sid))
            )
            following = schedule.get("next_fire_times") or []
            rows.append(button)
            rows.extend(
                widgets.HTML(value)
                for value in (
                    esc(schedule.get("job")),
                    f"<code>{esc(schedule.get('cron'))}</code>",
                    esc(schedule.get("timezone")),
                    "active"
                    if schedule.get("active")
                    else '<span style="color:#b35c00">paused</span>',
                    esc(local_time(following[0])) if following else "",
                    esc(schedule.get("description") or ""),
                )
            )
        if not self.items:
            rows.append(widgets.HTML('<span style="color:#6c757d">no schedules</span>'))
        old, self._rows = self._rows, header + rows
        self.grid.children = self._rows
        for widget in old:
            widget.close()
        self.summary.value = f'<span style="color:#555">{self.total} schedules</span>'

    def edit(self, schedule_id: int) -> ScheduleEditor:
        """Edit schedule ``schedule_id`` below the table."""
        return self._show(
            ScheduleEditor(schedule_id=schedule_id, client=self.client, on_change=self._changed)
        )

    def new(self, job: str) -> ScheduleEditor:
        """Start a new schedule of ``job`` below the table."""
        return self._show(ScheduleEditor(job, client=self.client, on_change=self._changed))

    def _show(self, editor: ScheduleEditor) -> ScheduleEditor:
        self.disown(self.editor)
        self.editor = editor
        self.own(editor)
        self.detail.children = [editor]
        return editor

    def _new_clicked(self) -> None:
        if self.job_picker.value:
            self.new(self.job_picker.value)

    def _changed(self, _schedule: JSON | None) -> None:
        self.guarded(self.refresh)

    def on_close(self) -> None:
        for widget in self._rows:
            widget.close()
        self._rows = []
