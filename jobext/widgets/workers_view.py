"""``WorkersView``: where runs execute, live: each worker's status, slots in use, CPU and memory
of its host, its succeeded and failed runs, and *drain* / *resume* buttons enabled from
:data:`jobext.states.WORKER_ACTIONS`."""

from __future__ import annotations

import threading
from typing import Any

import ipywidgets as widgets

from jobext.client import JobsClient
from jobext.states import WorkerAction, WorkerStatus, allowed_worker_actions
from jobext.widgets.common import JSON, Panel, esc, local_time

WORKER_COLORS: dict[str, str] = {"ready": "#198754", "draining": "#b35c00", "offline": "#6c757d"}
ACTIONS = tuple(a.value for a in WorkerAction)
_ICONS = {"drain": "pause-circle", "resume": "play-circle"}
_COLUMNS = ["worker", "status", "host", "slots", "CPU", "memory", "runs", "last seen", ""]
_GRID = "minmax(140px, 1fr) 80px minmax(100px, 1fr) 60px 170px 170px 90px 150px 200px"


def allowed_worker_buttons(worker: JSON) -> frozenset[str]:
    """The actions the server accepts for ``worker`` now (from the actions table)."""
    try:
        status = WorkerStatus(worker.get("status"))
    except ValueError:
        return frozenset()
    return frozenset(a.value for a in allowed_worker_actions(status))


def worker_badge(status: str | None) -> str:
    """A coloured pill naming a worker's status (HTML)."""
    text = status or "unknown"
    color = WORKER_COLORS.get(text, "#6c757d")
    return (
        f'<span class="jobext-status" style="background:{color};color:#fff;border-radius:9px;'
        f'padding:1px 8px;font-size:90%;white-space:nowrap">{esc(text)}</span>'
    )


def meter(fraction: float | None, label: str) -> str:
    """A small bar filled to ``fraction`` (0…1) with ``label`` beside it (HTML)."""
    if fraction is None:
        return '<span style="color:#6c757d">n/a</span>'
    width = round(100 * min(1.0, max(0.0, fraction)))
    color = "#dc3545" if width >= 90 else "#0d6efd"
    return (
        '<span style="display:inline-block;width:60px;height:8px;background:#e9ecef;'
        f'border-radius:4px;vertical-align:middle"><span style="display:block;width:{width}%;'
        f'height:100%;background:{color};border-radius:4px"></span></span> '
        f"<small>{esc(label)}</small>"
    )


def _cpu(stats: Any) -> str:
    try:
        system = stats["cpu"]["system"]["load"]
        process = stats["cpu"]["process"]["load"]
    except (KeyError, TypeError):
        return meter(None, "")
    return meter(system, f"{system:.0%} (own {process:.0%})")


def _memory(stats: Any) -> str:
    try:
        physical = stats["memory"]["physical"]
        used, total = physical["total"] - physical["free"], physical["total"]
    except (KeyError, TypeError):
        return meter(None, "")
    return meter(used / total if total else None, f"{used / 2**30:.1f} of {total / 2**30:.1f} GiB")


class _Row:
    """The widgets of one worker's row."""

    def __init__(self, view: WorkersView, worker_id: str):
        self.cells = [widgets.HTML() for _ in _COLUMNS[:-1]]
        self.buttons = {
            name: widgets.Button(
                description=name,
                icon=_ICONS[name],
                disabled=True,
                layout=widgets.Layout(width="95px", height="26px"),
            )
            for name in ACTIONS
        }
        for name, button in self.buttons.items():
            button.on_click(lambda _b, n=name: view.guarded(lambda: view.act(worker_id, n)))
        self.controls = widgets.HBox(list(self.buttons.values()))

    @property
    def parts(self) -> list[widgets.Widget]:
        return [*self.cells, self.controls]

    def show(self, worker: JSON) -> None:
        stats = worker.get("stats")
        totals = worker.get("totals") or {}
        values = [
            f'<span title="{esc(worker["id"])}"><b>{esc(worker.get("name"))}</b> '
            f'<small style="color:#6c757d">{esc(worker.get("kind"))}</small></span>',
            worker_badge(worker.get("status")),
            esc(worker.get("host")),
            f"{esc(worker.get('running', 0))}/{esc(worker.get('slots'))}",
            _cpu(stats),
            _memory(stats),
            f'<span title="succeeded / failed">{esc(totals.get("succeeded", 0))} / '
            f"{esc(totals.get('failed', 0))}</span>",
            esc(local_time(worker.get("last_seen"))),
        ]
        for cell, value in zip(self.cells, values, strict=True):
            cell.value = value
        allowed = allowed_worker_buttons(worker)
        for name, button in self.buttons.items():
            button.disabled = name not in allowed

    def close(self) -> None:
        for widget in (*self.cells, *self.buttons.values(), self.controls):
            widget.close()


class WorkersView(Panel):
    """Workers (``status`` and ``kind`` filter them; both can be changed in the view), read
    again every ``interval`` seconds (``interval=None``: only on ``refresh()``). Each row has
    *drain* and *resume*, enabled as the server's actions table allows."""

    def __init__(
        self,
        *,
        client: JobsClient | None = None,
        status: str | None = None,
        kind: str | None = None,
        interval: float | None = 2.0,
        per_page: int = 100,
    ):
        super().__init__(client)
        self.interval = interval
        self.per_page = per_page
        #: The workers shown (the API's worker shape), and how many match.
        self.items: list[JSON] = []
        self.total = 0
        #: worker id → its row.
        self.rows: dict[str, _Row] = {}
        # The follower thread and clicks both change the rows.
        self._lock = threading.RLock()
        self.status_filter = widgets.Dropdown(
            options=[("any status", "")] + [(s.value, s.value) for s in WorkerStatus],
            value=status or "",
            layout=widgets.Layout(width="130px"),
        )
        self.kind_filter = widgets.Dropdown(
            options=[("any kind", ""), ("local", "local"), ("dask", "dask")],
            value=kind or "",
            layout=widgets.Layout(width="110px"),
        )
        self.refresh_button = widgets.Button(
            icon="refresh", tooltip="Reload", layout=widgets.Layout(width="40px")
        )
        self.summary = widgets.HTML()
        self.header = [widgets.HTML(f"<b>{esc(c)}</b>") for c in _COLUMNS]
        self.grid = widgets.GridBox(
            children=self.header,
            layout=widgets.Layout(grid_template_columns=_GRID, grid_gap="2px 6px", width="100%"),
        )
        top = widgets.HBox(
            [self.status_filter, self.kind_filter, self.refresh_button, self.summary]
        )
        self.children = [top, self.grid, self.notice]
        self.own(
            self.status_filter,
            self.kind_filter,
            self.refresh_button,
            self.summary,
            self.grid,
            top,
            *self.header,
        )
        for control in (self.status_filter, self.kind_filter):
            control.observe(lambda _c: self.guarded(self.refresh), names="value")
        self.refresh_button.on_click(lambda _b: self.guarded(self.refresh))
        self.refresh()
        if interval:
            self.start_thread(self._follow, "workers")

    # -- data

    def refresh(self) -> list[JSON]:
        """Read the workers again and show them."""
        with self._lock:
            return self._refresh()

    def _refresh(self) -> list[JSON]:
        reply = self.client.workers.list(
            self.status_filter.value or None,
            self.kind_filter.value or None,
            per_page=self.per_page,
        )
        self.items = reply["items"]
        self.total = int(reply["total"])
        shown = []
        for worker in self.items:
            row = self.rows.get(worker["id"])
            if row is None:
                row = self.rows[worker["id"]] = _Row(self, worker["id"])
            row.show(worker)
            shown.append(worker["id"])
        for worker_id in set(self.rows) - set(shown):
            self.rows.pop(worker_id).close()
        self.grid.children = self.header + [w for i in shown for w in self.rows[i].parts]
        ready = sum(w["status"] == "ready" for w in self.items)
        more = f" (first {len(self.items)})" if self.total > len(self.items) else ""
        self.summary.value = (
            f'<span style="color:#555">{self.total} workers{more}, {ready} ready</span>'
        )
        return self.items

    def act(self, worker_id: str, action: str) -> JSON:
        """``drain`` or ``resume`` the worker; show it after."""
        workers = self.client.workers
        if action == "drain":
            worker = workers.drain(worker_id)
        elif action == "resume":
            worker = workers.resume(worker_id)
        else:
            raise ValueError(f"unknown action {action!r}")
        with self._lock:
            row = self.rows.get(worker_id)
            if row is not None:
                row.show(worker)
        self.say(f"{action}: {worker['name']} is {worker['status']}")
        return worker

    # -- background

    def _follow(self) -> None:
        assert self.interval
        while not self._stopping.wait(self.interval):
            try:
                self.refresh()
            except Exception as exc:  # the server may be gone for a moment
                self.report(exc)

    def on_close(self) -> None:
        with self._lock:
            for row in self.rows.values():
                row.close()
            self.rows = {}
