"""``RunView``: one run, live: status, progress, log tail, the controls its status allows, and
its result once it has one."""

from __future__ import annotations

import queue
import threading
from typing import Any

import ipywidgets as widgets

from jobext.client import EventStream, JobsClient, NotFound
from jobext.states import FINAL, RunStatus
from jobext.widgets.common import (
    BAR_STYLES,
    JSON,
    RUN_ACTIONS,
    Panel,
    allowed_actions,
    badge,
    duration,
    elapsed,
    esc,
    local_time,
)
from jobext.widgets.result_view import ResultView
from jobext.widgets.run_log import LogTail

#: Seconds between two repaints of a busy log: lines arriving meanwhile are shown together.
REPAINT_S = 0.15
_END = object()
_FINAL = frozenset(status.value for status in FINAL)

_BUTTONS = {
    "stop": ("Stop", "stop", "Stop gracefully: the job gets a stop request, then SIGTERM"),
    "force_stop": ("Force stop", "ban", "Mark it stopped at once and kill its processes"),
    "pause": ("Pause", "pause", "Pause at the job's next checkpoint"),
    "resume": ("Resume", "play", "Go on from where it paused"),
    "restart": ("Restart", "redo", "A new run with the same args (this one is kept)"),
    "remove": ("Remove", "trash", "Delete this run, its log and its result"),
}


class RunView(Panel):
    """A live view of run ``run_id``.

    The log tail and the state follow the run's event stream from background threads (they
    never block the kernel); the buttons are enabled only for actions the run's status allows.
    ``close()`` ends the threads. Restart opens the new run in this view.
    """

    def __init__(
        self,
        run_id: int,
        *,
        client: JobsClient | None = None,
        max_lines: int = 500,
        log_height: str = "240px",
        show_result: bool = True,
    ):
        super().__init__(client)
        self.max_lines = max_lines
        self.show_result = show_result
        #: The run as last seen (the API's run shape).
        self.run: JSON = {}
        self.title = widgets.HTML()
        self.badge = widgets.HTML()
        self.progress = widgets.FloatProgress(
            value=0.0, min=0.0, max=1.0, layout=widgets.Layout(width="45%")
        )
        self.message = widgets.HTML()
        self.details = widgets.HTML()
        self.buttons: dict[str, widgets.Button] = {}
        for action in RUN_ACTIONS:
            label, icon, tip = _BUTTONS[action]
            button = widgets.Button(
                description=label,
                icon=icon,
                tooltip=tip,
                disabled=True,
                button_style="danger" if action in ("force_stop", "remove") else "",
                layout=widgets.Layout(width="auto"),
            )
            button.on_click(lambda _b, a=action: self.act(a))
            self.buttons[action] = button
        self.log_tail = LogTail(max_lines=max_lines, height=log_height)
        #: The log tail's box.
        self.log_html = self.log_tail.html
        self.result_box = widgets.VBox()
        #: The result of the run, once it has one (and ``show_result``).
        self.result_view: ResultView | None = None
        self.children = [
            widgets.HBox([self.title, self.badge], layout=widgets.Layout(align_items="center")),
            widgets.HBox(
                [self.progress, self.message], layout=widgets.Layout(align_items="center")
            ),
            self.details,
            widgets.HBox(list(self.buttons.values())),
            self.notice,
            self.log_html,
            self.result_box,
        ]
        self.own(
            self.title,
            self.badge,
            self.progress,
            self.message,
            self.details,
            *self.buttons.values(),
            self.log_html,
            self.result_box,
            *self.children,
        )
        self._lock = threading.RLock()
        self._generation = 0
        self._stream: EventStream | None = None
        self._painter: threading.Thread | None = None
        self._restartable = True
        self._result_for: int | None = None
        self.show(run_id)

    def __repr__(self) -> str:
        return f"RunView(run {self.run.get('id')}, {self.status})"

    # -- public

    @property
    def run_id(self) -> int:
        return int(self.run["id"])

    @property
    def status(self) -> str:
        return str(self.run.get("status", ""))

    @property
    def lines(self) -> list[str]:
        """The log lines shown (the newest ``max_lines``)."""
        return self.log_tail.lines

    def show(self, run_id: int) -> None:
        """Show run ``run_id`` (dropping the one shown so far) and follow it."""
        self._stop_following()
        run = self.client.runs.get(run_id)
        try:
            self._restartable = bool(self.client.jobs.get(run["job"]).get("restartable", True))
        except NotFound:
            self._restartable = False  # its job is gone: nothing to restart it with
        with self._lock:
            self._generation += 1
            generation = self._generation
            self.run = {}
            self.log_tail.clear()
            self.disown(self.result_view)
            self.result_view = None
            self._result_for = None
            self.result_box.children = []
            self.notice.value = ""
        self._apply_run(run)
        self.log_tail.render()
        stream = self.client.runs.follow(run_id)
        events: queue.Queue[Any] = queue.Queue()
        self._stream = stream
        self.start_thread(lambda: self._read(stream, events), f"run-{run_id}-reader")
        self._painter = self.start_thread(
            lambda: self._paint(generation, events), f"run-{run_id}-painter"
        )

    def wait(self, timeout: float | None = None) -> JSON:
        """Block until the view has shown the run's end (or ``timeout``); the run."""
        painter = self._painter
        if painter is not None and painter is not threading.current_thread():
            painter.join(timeout)
            if painter.is_alive():
                raise TimeoutError(f"run {self.run.get('id')} is still {self.status}")
        return self.run

    def act(self, action: str) -> None:
        """Do one of :data:`RUN_ACTIONS` to the run shown; an error shows in ``notice``."""
        run_id = self.run_id
        runs = self.client.runs

        def do() -> None:
            if action == "stop":
                self._apply_run(runs.stop(run_id))
            elif action == "force_stop":
                self._apply_run(runs.stop(run_id, force=True))
            elif action == "pause":
                self._apply_run(runs.pause(run_id))
            elif action == "resume":
                self._apply_run(runs.resume(run_id))
            elif action == "restart":
                new = runs.restart(run_id)
                self.show(int(new["id"]))
                self.say(f"run {run_id} restarted as run {new['id']}")
            elif action == "remove":
                runs.remove(run_id)
                self._removed()
            else:
                raise ValueError(f"unknown action {action!r}")

        if self.guarded(do) and action in ("stop", "force_stop", "pause", "resume"):
            self.notice.value = ""

    # -- following

    def _stop_following(self) -> None:
        stream, painter = self._stream, self._painter
        self._stream = self._painter = None
        if stream is not None:
            stream.close()
        if painter is not None and painter is not threading.current_thread():
            painter.join(timeout=5)

    def on_close(self) -> None:
        if self._stream is not None:
            self._stream.close()

    @staticmethod
    def _read(stream: EventStream, events: queue.Queue[Any]) -> None:
        try:
            for event in stream:
                events.put(event)
        except Exception as exc:
            events.put(exc)
        finally:
            events.put(_END)

    def _paint(self, generation: int, events: queue.Queue[Any]) -> None:
        while True:
            batch = [events.get()]
            while True:
                try:
                    batch.append(events.get_nowait())
                except queue.Empty:
                    break
            if generation != self._generation or self.closed:
                return
            ended = False
            for item in batch:
                if item is _END:
                    ended = True
                elif isinstance(item, BaseException):
                    if not self.closed:
                        self.report(item)
                else:
                    self._apply_event(item)
            self.log_tail.render()
            if ended:
                return
            if self._stopping.wait(REPAINT_S):
                return

    def _apply_event(self, event: JSON) -> None:
        kind, data = event["event"], event["data"]
        if kind == "log" and isinstance(data, dict):
            self.log_tail.add(data)
        elif kind in ("state", "close") and isinstance(data, dict):
            self._apply_run(data, snapshot=kind == "state")
        elif kind == "progress" and isinstance(data, dict):
            with self._lock:
                if self.run.get("status") in _FINAL:
                    return  # a replayed report: the run as shown is newer
                run = dict(self.run)
                run.update({k: v for k, v in data.items() if k in run})
                self._show(run)

    # -- rendering

    def _apply_run(self, run: JSON, *, snapshot: bool = False) -> None:
        """Show ``run`` unless the one shown is newer. Replies and stream events may cross,
        and a stream starts with a replay of the run's history: a ``snapshot`` (a state event,
        the run as it was then) of the same time and status as the run shown is not news
        (the run shown may know more, such as ``restarted_as``)."""
        with self._lock:
            current = self.run
            if current and current.get("id") == run.get("id"):
                new, old = run.get("updated_at") or "", current.get("updated_at") or ""
                if new < old or (
                    snapshot and new == old and run.get("status") == current.get("status")
                ):
                    return
            self._show(run)
        if run.get("status") in _FINAL:
            self._offer_result(run)

    def _show(self, run: JSON) -> None:
        self.run = run
        status = str(run.get("status", ""))
        self.title.value = (
            f"<b>Run {esc(run.get('id'))}</b> · {esc(run.get('job'))}"
            f' <span style="color:#6c757d">({esc(run.get("trigger"))})</span>'
        )
        self.badge.value = badge(status)
        fraction = run.get("progress")
        if fraction is None and status == RunStatus.SUCCEEDED.value:
            fraction = 1.0
        self.progress.value = max(0.0, min(1.0, float(fraction or 0.0)))
        self.progress.bar_style = BAR_STYLES.get(status, "")
        percent = f"{self.progress.value:.0%}" if fraction is not None else ""
        self.message.value = esc(" · ".join(p for p in (percent, run.get("message") or "") if p))
        self.details.value = self._details(run)
        allowed = allowed_actions(run, restartable=self._restartable)
        for action, button in self.buttons.items():
            button.disabled = action not in allowed

    @staticmethod
    def _details(run: JSON) -> str:
        parts = []
        if run.get("started_at"):
            parts.append(f"started {local_time(run['started_at'])}")
        else:
            parts.append(f"created {local_time(run.get('created_at'))}")
        if run.get("ended_at"):
            parts.append(f"ended {local_time(run['ended_at'])}")
        if run.get("ended_at") and run.get("duration_s") is not None:
            parts.append(duration(run["duration_s"]))
        elif run.get("started_at"):
            parts.append(f"{duration(elapsed(run['started_at']))} so far")
        if run.get("records_written") is not None:
            parts.append(f"{run['records_written']:,} records")
        if run.get("user"):
            parts.append(f"by {run['user']}")
        if (run.get("attempt") or 1) > 1:
            parts.append(f"attempt {run['attempt']}")
        if run.get("restarted_from"):
            parts.append(f"restart of run {run['restarted_from']}")
        if run.get("restarted_as"):
            parts.append(f"restarted as run {run['restarted_as']}")
        steps = run.get("steps") or []
        marks = {"succeeded": "✓", "failed": "✗", "running": "…", "stopped": "■"}
        if steps:
            parts.append(
                "steps: "
                + ", ".join(f"{s.get('name')} {marks.get(s.get('status'), '')}" for s in steps)
            )
        text = esc(" · ".join(parts))
        error = str(run.get("error") or "")
        if error:
            first, _, rest = error.partition("\n")
            text += f'<br><span style="color:#dc3545">{esc(first)}</span>'
            if rest.strip():
                text += (
                    '<details><summary style="cursor:pointer;color:#6c757d">details</summary>'
                    f'<pre style="font-size:11px;white-space:pre-wrap">{esc(rest)}</pre></details>'
                )
        return f'<span style="color:#555;font-size:90%">{text}</span>'

    def _offer_result(self, run: JSON) -> None:
        if not self.show_result or not run.get("result") or self.closed:
            return
        with self._lock:
            if self.result_view is not None or self._result_for == run["id"]:
                return
            self._result_for = run["id"]
            generation = self._generation
        # Made outside the lock: it asks the server for a preview.
        view = ResultView(int(run["id"]), client=self.client, run=run)
        with self._lock:
            if generation != self._generation or self.closed:
                view.close()
                return
            self.result_view = view
            self.own(view)
            self.result_box.children = [view]

    def _removed(self) -> None:
        self._stop_following()
        with self._lock:
            self._generation += 1
            self.disown(self.result_view)
            self.result_view = None
            self.result_box.children = []
            for button in self.buttons.values():
                button.disabled = True
            self.badge.value = badge("removed")
            self.say(f"run {self.run.get('id')} removed")
