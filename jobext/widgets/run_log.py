"""The log tail of a run view: the newest lines of a run's log, styled by stream and level,
in a box that stays scrolled to its newest line."""

from __future__ import annotations

import collections
import threading

import ipywidgets as widgets

from jobext.widgets.common import JSON, esc


class LogTail:
    """The newest ``max_lines`` log lines of one run, and the HTML box that shows them. Lines
    are added from the view's threads; :meth:`render` shows them."""

    def __init__(self, *, max_lines: int, height: str):
        #: The box.
        self.html = widgets.HTML()
        self.height = height
        self._lock = threading.Lock()
        self._lines: collections.deque[str] = collections.deque(maxlen=max_lines)
        #: Lines added since the last :meth:`clear` (more than are kept).
        self._count = 0

    @property
    def lines(self) -> list[str]:
        """The lines kept (the newest ``max_lines``), rendered."""
        with self._lock:
            return list(self._lines)

    def clear(self) -> None:
        with self._lock:
            self._lines.clear()
            self._count = 0

    def add(self, line: JSON) -> None:
        """Add one line of the log (the API's log line shape), styled by stream and level."""
        stream, level, text = line.get("stream"), line.get("level"), str(line.get("text", ""))
        style = ""
        if stream == "stderr" or level in ("ERROR", "CRITICAL"):
            style = "color:#dc3545"
        elif level == "WARNING":
            style = "color:#b35c00"
        elif stream not in ("stdout", "log"):
            style = "color:#6c757d;font-style:italic"
        prefix = f"{level} " if stream == "log" and level else ""
        rendered = esc(prefix + text)
        if style:
            rendered = f'<span style="{style}">{rendered}</span>'
        with self._lock:
            self._lines.append(rendered)
            self._count += 1

    def render(self) -> None:
        """Show the lines added so far."""
        with self._lock:
            lines = list(self._lines)
            hidden = self._count - len(lines)
        if hidden > 0:
            lines.insert(
                0,
                f'<span style="color:#6c757d">… {hidden:,} earlier lines '
                "(client.runs.log_lines(run_id) has them all)</span>",
            )
        if not lines:
            lines = ['<span style="color:#6c757d">(no log lines yet)</span>']
        # column-reverse keeps the box scrolled to its newest line.
        self.html.value = (
            f'<div class="jobext-log" style="max-height:{self.height};overflow:auto;'
            "display:flex;flex-direction:column-reverse;border:1px solid #ddd;"
            'border-radius:4px;padding:4px 6px;background:#fafafa">'
            '<pre style="flex:none;margin:0;font-size:12px;line-height:1.35;white-space:pre-wrap">'
            + "\n".join(lines)
            + "</pre></div>"
        )
