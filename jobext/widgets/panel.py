"""``JobsPanel``: the entry point, with tabs for jobs, runs and schedules."""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from jobext.client import JobsClient
from jobext.widgets.common import Panel, esc
from jobext.widgets.jobs_list import JobsList
from jobext.widgets.runs_browser import RunsBrowser
from jobext.widgets.schedules_list import SchedulesList

TITLES = ("Jobs", "Runs", "Schedules")


class JobsPanel(Panel):
    """Everything at once: a summary line, then tabs with the :class:`JobsList` (pick a job,
    run it), the :class:`RunsBrowser` (history, open a run) and the :class:`SchedulesList`."""

    def __init__(self, *, client: JobsClient | None = None):
        super().__init__(client)
        self.summary = widgets.HTML()
        self.refresh_button = widgets.Button(
            icon="refresh", tooltip="Reload every tab", layout=widgets.Layout(width="40px")
        )
        self.jobs = JobsList(client=self.client)
        self.runs = RunsBrowser(client=self.client)
        self.schedules = SchedulesList(client=self.client)
        self.tabs = widgets.Tab(children=[self.jobs, self.runs, self.schedules], titles=TITLES)
        top = widgets.HBox(
            [widgets.HTML("<b>jobext</b>"), self.summary, self.refresh_button],
            layout=widgets.Layout(align_items="center", grid_gap="8px"),
        )
        self.children = [top, self.tabs, self.notice]
        self.own(self.summary, self.refresh_button, self.jobs, self.runs, self.schedules, self.tabs)
        self.own(top, *top.children)
        self.refresh_button.on_click(lambda _b: self.guarded(self.refresh))
        self.tabs.observe(self._tab_changed, names="selected_index")
        self._summarize()

    def refresh(self) -> None:
        """Reload the summary and every tab."""
        self._summarize()
        self.jobs.refresh()
        self.runs._load_jobs(self.runs.job_filter.value or None)
        self.runs.refresh()
        self.schedules.refresh()

    def _summarize(self) -> None:
        stats = self.client.stats()
        runs = stats.get("runs") or {}
        counts = ", ".join(f"{n} {esc(s)}" for s, n in sorted(runs.items()) if n)
        self.summary.value = (
            f'<span style="color:#555">{esc(self.client.url)} · {stats.get("jobs", 0)} jobs · '
            f"{stats.get('schedules', 0)} schedules"
            + (f" · runs: {counts}" if counts else "")
            + "</span>"
        )

    def _tab_changed(self, change: dict[str, Any]) -> None:
        # A tab shown again shows what happened meanwhile.
        tab = [self.jobs, self.runs, self.schedules][change["new"] or 0]
        self.guarded(tab.refresh)
