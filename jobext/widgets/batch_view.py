"""``BatchView``: one batch, live: its status, percent complete, counts by status, a grid of its
sub-jobs, and the four directives (start, stop, pause, unpause) with the buttons that the
batch's status allows enabled from :data:`jobext.states.BATCH_ACTIONS`."""

from __future__ import annotations

import ipywidgets as widgets

from jobext.client import JobsClient
from jobext.states import BatchDirective, BatchStatus, allowed_batch_directives
from jobext.widgets.common import JSON, STATUS_COLORS, Panel, esc, local_time

#: Colours of the statuses a batch or sub-job has beyond a run's.
BATCH_COLORS: dict[str, str] = {
    **STATUS_COLORS,
    "created": "#6c757d",
    "starting": "#0d6efd",
    "re-starting": "#0d6efd",
    "pending": "#adb5bd",
    "held": "#b35c00",
    "completed": "#198754",
    "invalid": "#dc3545",
}
DIRECTIVES = tuple(d.value for d in BatchDirective)
_ICONS = {"start": "play", "stop": "stop", "pause": "pause", "unpause": "step-forward"}


def allowed_directives(batch: JSON) -> frozenset[str]:
    """The directives the server accepts for ``batch`` now (from the actions table)."""
    try:
        status = BatchStatus(batch.get("status"))
    except ValueError:
        return frozenset()
    return frozenset(d.value for d in allowed_batch_directives(status))


def batch_badge(status: str | None) -> str:
    """A coloured pill naming a batch's or sub-job's status (HTML)."""
    text = status or "unknown"
    color = BATCH_COLORS.get(text, "#6c757d")
    return (
        f'<span class="jobext-status" style="background:{color};color:#fff;border-radius:9px;'
        f'padding:1px 8px;font-size:90%;white-space:nowrap">{esc(text)}</span>'
    )


def _cell(sub_job: JSON) -> str:
    color = BATCH_COLORS.get(sub_job["status"], "#6c757d")
    tip = (
        f"sub-job {sub_job['id']}: {sub_job['status']}, iteration {sub_job['iteration']}, "
        f"{sub_job['failures']} failure(s)"
        + (f", run {sub_job['run_id']}" if sub_job.get("run_id") else "")
    )
    return (
        f'<span title="{esc(tip)}" style="display:inline-block;width:12px;height:12px;'
        f'margin:1px;border-radius:2px;background:{color}"></span>'
    )


class BatchView(Panel):
    """A live view of batch ``batch_id``; ``refresh()`` reloads it, the buttons (in
    :attr:`buttons`) send its directives, and it reloads by itself every ``interval`` seconds
    (``interval=None``: only on ``refresh()``). The grid shows the first ``sub_jobs_shown``
    sub-jobs, one square each, coloured by status (hover for details)."""

    def __init__(
        self,
        batch_id: int,
        *,
        client: JobsClient | None = None,
        interval: float | None = 1.0,
        sub_jobs_shown: int = 500,
    ):
        super().__init__(client)
        self.batch_id = int(batch_id)
        self.interval = interval
        self.sub_jobs_shown = sub_jobs_shown
        #: The batch as last read (the API's shape).
        self.batch: JSON = {}
        self.title = widgets.HTML()
        self.badge = widgets.HTML()
        self.progress = widgets.FloatProgress(
            value=0.0, min=0.0, max=100.0, description="complete", bar_style=""
        )
        self.percent = widgets.HTML()
        self.counts = widgets.HTML()
        self.grid = widgets.HTML()
        self.details = widgets.HTML()
        self.pace = widgets.BoundedIntText(
            value=0,
            min=0,
            max=10_000,
            description="per second",
            tooltip="jobs_per_second for start and unpause (0: as the batch says)",
            layout=widgets.Layout(width="170px"),
        )
        self.buttons: dict[str, widgets.Button] = {
            name: widgets.Button(description=name, icon=_ICONS[name], disabled=True)
            for name in DIRECTIVES
        }
        self.delete_button = widgets.Button(
            description="delete", icon="trash", button_style="danger"
        )
        for name, button in self.buttons.items():
            button.on_click(lambda _b, n=name: self.guarded(lambda: self.direct(n)))
        self.delete_button.on_click(lambda _b: self.guarded(self.delete))
        head = widgets.HBox([self.title, self.badge, self.percent])
        controls = widgets.HBox([*self.buttons.values(), self.pace, self.delete_button])
        self.children = [
            head,
            self.progress,
            self.details,
            self.counts,
            self.grid,
            controls,
            self.notice,
        ]
        self.own(
            self.title,
            self.badge,
            self.progress,
            self.percent,
            self.counts,
            self.grid,
            self.details,
            self.pace,
            self.delete_button,
            *self.buttons.values(),
            head,
            controls,
        )
        self.refresh()
        if interval:
            self.start_thread(self._follow, f"batch-{self.batch_id}")

    # -- data

    @property
    def status(self) -> str | None:
        return self.batch.get("status")

    def refresh(self) -> JSON:
        """Read the batch again and show it."""
        batch = self.client.batches.get(self.batch_id, sub_jobs_per_page=self.sub_jobs_shown)
        self.show(batch)
        return batch

    def show(self, batch: JSON) -> None:
        self.batch = batch
        status = batch.get("status", "")
        self.title.value = (
            f"<b>Batch {esc(batch.get('id'))}</b> of <code>{esc(batch.get('job'))}</code>"
        )
        self.badge.value = batch_badge(status)
        percent = batch.get("percent_complete")
        self.progress.layout.display = "none" if percent is None else None
        self.progress.value = float(percent or 0.0)
        self.progress.bar_style = {
            "completed": "success",
            "failed": "danger",
            "invalid": "danger",
            "paused": "warning",
            "pausing": "warning",
            "stopped": "warning",
        }.get(status, "")
        self.percent.value = "" if percent is None else f"{percent:g} %"
        iterations = batch.get("iterations")
        parts = [
            f"{batch.get('concurrent')} sub-jobs",
            f"{'∞' if iterations is None else iterations} iteration(s) each",
            f"{batch.get('jobs_per_second') or 'all'} per second",
            f"running now: {batch.get('concurrent_jobs', 0)}",
            f"failures: {batch.get('failures', 0)} (ignored up to "
            f"{batch.get('failures_to_ignore', 0)})",
            f"lag: {batch.get('lag_s', 0):g} s",
        ]
        if batch.get("start_time"):
            parts.append(f"started {local_time(batch['start_time'])}")
        if batch.get("stop_time"):
            parts.append(f"ended {local_time(batch['stop_time'])}")
        error = batch.get("error")
        self.details.value = " · ".join(esc(p) for p in parts) + (
            f'<br><span style="color:#dc3545">{esc(error)}</span>' if error else ""
        )
        counts = batch.get("counts") or {}
        self.counts.value = " ".join(
            f"{batch_badge(name)} {n}" for name, n in sorted(counts.items())
        )
        sub_jobs = batch.get("sub_jobs") or []
        more = batch.get("sub_jobs_total", len(sub_jobs)) - len(sub_jobs)
        self.grid.value = (
            '<div style="line-height:0">' + "".join(_cell(s) for s in sub_jobs) + "</div>"
        ) + (f"<small>… and {more} more</small>" if more > 0 else "")
        allowed = allowed_directives(batch)
        for name, button in self.buttons.items():
            button.disabled = name not in allowed

    # -- directives

    def direct(self, directive: str) -> JSON:
        """Send ``directive`` (start, stop, pause, unpause); show the batch after it."""
        pace = self.pace.value or None
        batches = self.client.batches
        if directive == "start":
            batch = batches.start(self.batch_id, jobs_per_second=pace)
        elif directive == "unpause":
            batch = batches.unpause(self.batch_id, jobs_per_second=pace)
        elif directive == "stop":
            batch = batches.stop(self.batch_id)
        elif directive == "pause":
            batch = batches.pause(self.batch_id)
        else:
            raise ValueError(f"unknown directive {directive!r}")
        self.show(batch)
        self.say(f"{directive}: the batch is {batch['status']}")
        return batch

    def delete(self) -> None:
        """Delete the batch with all its runs (what runs is stopped)."""
        self.client.batches.delete(self.batch_id)
        self._stopping.set()
        for button in (*self.buttons.values(), self.delete_button):
            button.disabled = True
        self.say(f"batch {self.batch_id} deleted")

    # -- background

    def _follow(self) -> None:
        assert self.interval
        while not self._stopping.wait(self.interval):
            try:
                self.refresh()
            except Exception as exc:  # the server may be gone for a moment
                self.report(exc)

    def __repr__(self) -> str:
        return f"BatchView({self.batch_id})"
