"""The jobs tab of ``JobsPanel``: registered jobs with a search; picking one opens its
``JobLauncher``."""

from __future__ import annotations

import ipywidgets as widgets

from jobext.client import JobsClient
from jobext.widgets.common import JSON, Panel, esc, local_time
from jobext.widgets.launcher import JobLauncher

_COLUMNS = ["job", "kind", "target", "description", "registered"]
_GRID = "minmax(100px, 200px) 75px minmax(120px, 1fr) minmax(100px, 1fr) 150px"


class JobsList(Panel):
    """Jobs, filtered by ``search`` (name, description, target); ``show_job(name)`` shows a
    launcher for one below the table."""

    def __init__(self, *, client: JobsClient | None = None, per_page: int = 50):
        super().__init__(client)
        self.per_page = per_page
        #: The jobs shown (the API's job shape).
        self.items: list[JSON] = []
        self.total = 0
        #: The launcher of the job picked.
        self.launcher: JobLauncher | None = None
        self.search = widgets.Text(
            placeholder="search name, description, target",
            continuous_update=False,
            layout=widgets.Layout(width="320px"),
        )
        self.refresh_button = widgets.Button(
            icon="refresh", tooltip="Reload", layout=widgets.Layout(width="40px")
        )
        self.summary = widgets.HTML()
        self.grid = widgets.GridBox(
            layout=widgets.Layout(grid_template_columns=_GRID, grid_gap="2px 6px", width="100%")
        )
        self.detail = widgets.VBox()
        top = widgets.HBox([self.search, self.refresh_button, self.summary])
        self.children = [top, self.grid, self.notice, self.detail]
        self.own(self.search, self.refresh_button, self.summary, self.grid, self.detail, top)
        self._rows: list[widgets.Widget] = []
        self.search.observe(lambda _c: self.guarded(self.refresh), names="value")
        self.refresh_button.on_click(lambda _b: self.guarded(self.refresh))
        self.refresh()

    def refresh(self) -> None:
        """Reload the job list."""
        reply = self.client.jobs.list(
            self.search.value.strip() or None, per_page=self.per_page, sort="name"
        )
        self.items = reply["items"]
        self.total = int(reply["total"])
        header = [widgets.HTML(f"<b>{esc(c)}</b>") for c in _COLUMNS]
        rows: list[widgets.Widget] = []
        for job in self.items:
            button = widgets.Button(
                description=job["name"],
                tooltip=f"run {job['name']}",
                icon="play",
                layout=widgets.Layout(width="auto", height="26px"),
            )
            button.on_click(lambda _b, name=job["name"]: self.guarded(lambda: self.show_job(name)))
            target = str(job.get("target") or "")
            rows.append(button)
            rows.extend(
                widgets.HTML(value)
                for value in (
                    f"<code>{esc(job.get('kind'))}</code>",
                    f'<code title="{esc(target)}">{esc(target[:80])}</code>',
                    esc(job.get("description") or ""),
                    esc(local_time(job.get("created_at"), seconds=False)),
                )
            )
        if not self.items:
            rows.append(widgets.HTML('<span style="color:#6c757d">no jobs</span>'))
        old, self._rows = self._rows, header + rows
        self.grid.children = self._rows
        for widget in old:
            widget.close()
        more = f" (first {len(self.items)})" if self.total > len(self.items) else ""
        self.summary.value = f'<span style="color:#555">{self.total} jobs{more}</span>'

    def show_job(self, name: str) -> JobLauncher:
        """Show a launcher of job ``name`` below the table."""
        self.disown(self.launcher)
        launcher = JobLauncher(name, client=self.client)
        self.launcher = launcher
        self.own(launcher)
        self.detail.children = [launcher]
        return launcher

    def on_close(self) -> None:
        for widget in self._rows:
            widget.close()
        self._rows = []
