"""What the panels share: the client they talk through, a base class that owns background
threads and child widgets, status badges, and which run actions are legal now."""

from __future__ import annotations

import datetime as dt
import html
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import ipywidgets as widgets

from jobext.client import JobextError, JobsClient
from jobext.states import RunAction, RunStatus, allowed_run_actions

JSON = dict[str, Any]

_default_client: JobsClient | None = None
_default_lock = threading.Lock()


def default_client() -> JobsClient:
    """The client panels use when given none: found once per kernel (see ``find_server``)."""
    global _default_client
    with _default_lock:
        if _default_client is None:
            _default_client = JobsClient()
        return _default_client


def resolve_client(client: JobsClient | None) -> JobsClient:
    return client if client is not None else default_client()


# ---------------------------------------------------------------------------- looks

STATUS_COLORS: dict[str, str] = {
    "queued": "#6c757d",
    "running": "#0d6efd",
    "pausing": "#b35c00",
    "paused": "#b35c00",
    "stopping": "#a3245e",
    "succeeded": "#198754",
    "failed": "#dc3545",
    "stopped": "#495057",
}

#: The progress bar's style per status.
BAR_STYLES: dict[str, str] = {
    "queued": "info",
    "running": "",
    "pausing": "warning",
    "paused": "warning",
    "stopping": "warning",
    "succeeded": "success",
    "failed": "danger",
    "stopped": "warning",
}


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value))


def badge(status: str | None) -> str:
    """A coloured pill naming the status (HTML)."""
    text = status or "unknown"
    color = STATUS_COLORS.get(text, "#6c757d")
    return (
        f'<span class="jobext-status" style="background:{color};color:#fff;border-radius:9px;'
        f'padding:1px 8px;font-size:90%;white-space:nowrap">{esc(text)}</span>'
    )


def local_time(value: str | None, *, seconds: bool = True) -> str:
    """An API time (ISO 8601 UTC with ``Z``) in the kernel's local time zone, for people."""
    if not value:
        return ""
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone()
    except ValueError:
        return value
    return when.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def elapsed(since: str) -> float:
    """Seconds from an API time until now."""
    try:
        start = dt.datetime.fromisoformat(since.replace("Z", "+00:00"))
    except ValueError:
        return 0.0
    return max(0.0, (dt.datetime.now(dt.timezone.utc) - start).total_seconds())


def duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def error_html(exc: BaseException) -> str:
    if isinstance(exc, JobextError):
        where = f" ({exc.field})" if exc.field and exc.field not in exc.message else ""
        text = esc(f"{exc.status or ''} {exc.message}{where}".strip())
    else:
        text = f"{type(exc).__name__}: {esc(exc)}"
    return f'<span style="color:#dc3545">⚠ {text}</span>'


def table(headers: Iterable[str], rows: Iterable[Iterable[str]], *, raw: bool = False) -> str:
    """A small HTML table; cells are escaped unless ``raw``."""
    cell = (lambda v: v) if raw else esc
    head = "".join(f'<th style="text-align:left;padding:2px 8px">{esc(h)}</th>' for h in headers)
    body = "".join(
        "<tr>" + "".join(f'<td style="padding:2px 8px">{cell(v)}</td>' for v in row) + "</tr>"
        for row in rows
    )
    return (
        '<table class="jobext-table" style="border-collapse:collapse;font-size:90%">'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


# ---------------------------------------------------------------------------- run actions

#: The run actions a panel offers, in button order.
RUN_ACTIONS = ("stop", "force_stop", "pause", "resume", "restart", "remove")


def allowed_actions(run: Mapping[str, Any], *, restartable: bool = True) -> frozenset[str]:
    """The actions the server accepts for ``run`` now, read from the actions table
    (:data:`jobext.states.RUN_ACTIONS`): its status allows them; ``restart`` also needs a run not
    restarted already, of a restartable job."""
    try:
        status = RunStatus(run.get("status"))
    except ValueError:
        return frozenset()
    actions = {action.value for action in allowed_run_actions(status)}
    if RunAction.RESTART.value in actions and (run.get("restarted_as") or not restartable):
        actions.discard(RunAction.RESTART.value)
    return frozenset(actions)


# ---------------------------------------------------------------------------- base class


class Panel(widgets.VBox):  # type: ignore[misc]
    """A VBox that talks to jobext through one client, shows errors in its ``notice`` line,
    and on ``close()`` stops its background threads and closes the widgets it made."""

    def __init__(self, client: JobsClient | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.client = resolve_client(client)
        #: One line for errors and confirmations.
        self.notice = widgets.HTML("")
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._owned: list[widgets.Widget] = []
        self._closed = False
        self.own(self.notice)

    def __repr__(self) -> str:
        client = getattr(self, "client", None)
        return f"{type(self).__name__}({client.url if client else ''!r})"

    # -- threads

    def start_thread(self, target: Callable[[], None], name: str) -> threading.Thread:
        """Run ``target`` in a daemon thread that ``close()`` waits for."""
        self._threads = [t for t in self._threads if t.is_alive()]
        thread = threading.Thread(target=target, name=f"jobext-{name}", daemon=True)
        self._threads.append(thread)
        thread.start()
        return thread

    @property
    def closed(self) -> bool:
        return self._closed

    # -- children

    def own(self, *children: widgets.Widget) -> None:
        """Close ``children`` with this panel."""
        self._owned.extend(children)

    def disown(self, child: widgets.Widget | None) -> None:
        if child is None:
            return
        if child in self._owned:
            self._owned.remove(child)
        child.close()

    # -- messages

    def say(self, text: str) -> None:
        self.notice.value = f'<span style="color:#198754">{esc(text)}</span>' if text else ""

    def report(self, exc: BaseException) -> None:
        self.notice.value = error_html(exc)

    def guarded(self, action: Callable[[], object]) -> bool:
        """Run ``action``; show an API or input error in ``notice`` instead of raising."""
        try:
            action()
        except (JobextError, ValueError, OSError) as exc:
            self.report(exc)
            return False
        return True

    def close(self) -> None:
        """Stop the background threads, close the owned widgets, then this one."""
        if getattr(self, "_closed", True):
            return  # closed already, or its __init__ failed
        self._closed = True
        self._stopping.set()
        self.on_close()
        for child in list(self._owned):
            child.close()
        self._owned.clear()
        current = threading.current_thread()
        for thread in self._threads:
            if thread is not current:
                thread.join(timeout=5)
        self._threads.clear()
        super().close()

    def on_close(self) -> None:
        """Subclasses release what could keep their threads waiting (streams, timers)."""
