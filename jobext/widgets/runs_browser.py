"""``RunsBrowser``: the run history as a table, with job, status and date filters and paging;
picking a row opens its ``RunView``."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import ipywidgets as widgets

from jobext.client import JobsClient
from jobext.widgets.common import JSON, Panel, badge, duration, esc, local_time
from jobext.widgets.run_view import RunView

STATUS_CHOICES = [
    ("any status", ""),
    ("in progress", "IN_PROGRESS"),
    ("succeeded", "SUCCEEDED"),
    ("failed", "FAILED"),
    ("stopped", "stopped"),
    ("queued", "queued"),
    ("running", "running"),
    ("paused", "pausing,paused"),
]
_COLUMNS = ["run", "job", "status", "trigger", "created", "duration", "progress / message"]
_GRID = "70px minmax(90px, 160px) 95px 75px 150px 80px minmax(120px, 1fr)"


def _cell(html: str) -> widgets.HTML:
    return widgets.HTML(html, layout=widgets.Layout(overflow="hidden"))


class RunsBrowser(Panel):
    """Run history, newest first. ``refresh()`` reloads the page; ``show_run(run_id)`` shows a run
    below the table. With ``live`` ticked the page reloads every ``interval`` seconds."""

    def __init__(
        self,
        job: str | None = None,
        *,
        client: JobsClient | None = None,
        per_page: int = 15,
        interval: float = 3.0,
    ):
        super().__init__(client)
        self.per_page = per_page
        self.interval = interval
        self.page = 0
        self.total = 0
        #: The runs on the page shown (the API's run shape).
        self.items: list[JSON] = []
        #: The view of the run picked.
        self.run_view: RunView | None = None
        label = {"description_width": "initial"}
        self.job_filter = widgets.Dropdown(
            description="Job", style=label, layout=widgets.Layout(width="220px")
        )
        self.status_filter = widgets.Dropdown(
            options=STATUS_CHOICES,
            value="",
            description="Status",
            style=label,
            layout=widgets.Layout(width="200px"),
        )
        self.from_date = widgets.DatePicker(
            description="from", style=label, layout=widgets.Layout(width="190px")
        )
        self.to_date = widgets.DatePicker(
            description="to", style=label, layout=widgets.Layout(width="175px")
        )
        self.refresh_button = widgets.Button(
            icon="refresh", tooltip="Reload", layout=widgets.Layout(width="40px")
        )
        self.live = widgets.Checkbox(
            value=False, description="live", indent=False, layout=widgets.Layout(width="60px")
        )
        self.prev_button = widgets.Button(icon="chevron-left", layout=widgets.Layout(width="40px"))
        self.next_button = widgets.Button(icon="chevron-right", layout=widgets.Layout(width="40px"))
        self.page_label = widgets.HTML()
        self.grid = widgets.GridBox(
            layout=widgets.Layout(grid_template_columns=_GRID, grid_gap="2px 6px", width="100%")
        )
        self.detail = widgets.VBox()
        filters = widgets.HBox(
            [
                self.job_filter,
                self.status_filter,
                self.from_date,
                self.to_date,
                self.refresh_button,
                self.live,
            ],
            layout=widgets.Layout(flex_flow="row wrap"),
        )
        pager = widgets.HBox(
            [self.prev_button, self.next_button, self.page_label],
            layout=widgets.Layout(align_items="center"),
        )
        self.children = [filters, self.grid, pager, self.notice, self.detail]
        self.own(
            self.job_filter,
            self.status_filter,
            self.from_date,
            self.to_date,
            self.refresh_button,
            self.live,
            self.prev_button,
            self.next_button,
            self.page_label,
            self.grid,
            self.detail,
            filters,
            pager,
        )
        self._rows: list[widgets.Widget] = []
        self._refresh_lock = threading.Lock()
        self._live_thread: threading.Thread | None = None
        self._quiet = True
        self._load_jobs(job)
        self._quiet = False
        for control in (self.job_filter, self.status_filter, self.from_date, self.to_date):
            control.observe(self._filter_changed, names="value")
        self.refresh_button.on_click(lambda _b: self.guarded(self.refresh))
        self.prev_button.on_click(lambda _b: self.guarded(lambda: self.go(self.page - 1)))
        self.next_button.on_click(lambda _b: self.guarded(lambda: self.go(self.page + 1)))
        self.live.observe(self._live_changed, names="value")
        self.refresh()

    # -- public

    def refresh(self) -> None:
        """Reload the page shown with the filters set."""
        with self._refresh_lock:
            reply = self.client.runs.history(
                **self.filters(), page=self.page, per_page=self.per_page
            )
            self.items = reply["items"]
            self.total = int(reply["total"])
            self._render()

    def filters(self) -> dict[str, Any]:
        """The filters set, as ``client.runs.history`` takes them."""
        since = until = None
        if self.from_date.value is not None:
            since = dt.datetime.combine(self.from_date.value, dt.time.min).astimezone()
        if self.to_date.value is not None:
            until = dt.datetime.combine(self.to_date.value, dt.time.max).astimezone()
        return {
            "job": self.job_filter.value or None,
            "status": self.status_filter.value or None,
            "from_": since,
            "to": until,
        }

    def go(self, page: int) -> None:
        """Show page ``page`` (0-based)."""
        last = max(0, (self.total - 1) // self.per_page)
        self.page = max(0, min(page, last))
        self.refresh()

    def show_run(self, run_id: int) -> RunView:
        """Show run ``run_id`` in a ``RunView`` below the table."""
        self.disown(self.run_view)
        view = RunView(run_id, client=self.client)
        self.run_view = view
        self.own(view)
        self.detail.children = [view]
        return view

    # -- rendering

    def _load_jobs(self, job: str | None) -> None:
        names = [j["name"] for j in self.client.jobs.list(per_page=1000, sort="name")["items"]]
        if job and job not in names:
            names.append(job)
        self.job_filter.options = [("all jobs", ""), *((n, n) for n in names)]
        self.job_filter.value = job or ""

    def _render(self) -> None:
        header = [_cell(f"<b>{esc(c)}</b>") for c in _COLUMNS]
        rows: list[widgets.Widget] = []
        for run in self.items:
            button = widgets.Button(
                description=f"#{run['id']}",
                tooltip=f"open run {run['id']}",
                layout=widgets.Layout(width="64px", height="26px"),
            )
            button.on_click(lambda _b, rid=int(run["id"]): self.guarded(lambda: self.show_run(rid)))
            progress = run.get("progress")
            detail = " · ".join(
                p
                for p in (
                    f"{progress:.0%}" if progress is not None else "",
                    (run.get("error") or "").split("\n", 1)[0] or run.get("message") or "",
                )
                if p
            )
            rows.append(button)
            rows.extend(
                [
                    _cell(esc(run.get("job"))),
                    _cell(badge(run.get("status"))),
                    _cell(esc(run.get("trigger"))),
                    _cell(esc(local_time(run.get("created_at")))),
                    _cell(esc(duration(run.get("duration_s")))),
                    _cell(f'<span title="{esc(detail)}">{esc(detail[:120])}</span>'),
                ]
            )
        if not self.items:
            rows.append(_cell('<span style="color:#6c757d">no runs</span>'))
        old = self._rows
        self._rows = header + rows
        self.grid.children = self._rows
        for widget in old:
            widget.close()
        last = max(0, (self.total - 1) // self.per_page)
        self.prev_button.disabled = self.page <= 0
        self.next_button.disabled = self.page >= last
        self.page_label.value = (
            f'<span style="color:#555">page {self.page + 1} of {last + 1} · '
            f"{self.total:,} runs</span>"
        )

    def on_close(self) -> None:
        for widget in self._rows:
            widget.close()
        self._rows = []

    # -- events

    def _filter_changed(self, _change: dict[str, Any]) -> None:
        if self._quiet:
            return
        self.page = 0
        self.guarded(self.refresh)

    def _live_changed(self, change: dict[str, Any]) -> None:
        if change.get("new") and (self._live_thread is None or not self._live_thread.is_alive()):
            self._live_thread = self.start_thread(self._live_loop, "runs-live")

    def _live_loop(self) -> None:
        while self.live.value and not self._stopping.wait(self.interval):
            if not self.live.value:
                break
            self.guarded(self.refresh)
