"""``ResultView``: a run's result: a download link, a preview of a CSV's first rows, and a
button that loads it into the kernel as a pandas DataFrame."""

from __future__ import annotations

import csv
import io
from typing import Any

import ipywidgets as widgets

from jobext.client import JobextError, JobsClient
from jobext.widgets.common import JSON, Panel, esc, table

#: Bytes fetched (with a ``Range`` request) for a preview.
PREVIEW_BYTES = 64 * 1024
_TEXT_TYPES = ("text/", "application/json", "application/xml")


def _size(size: int | None) -> str:
    if size is None:
        return ""
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return ""


class ResultView(Panel):
    """The result of run ``run_id``.

    The download link points at the REST result route under the server's base URL; the
    browser fetches it with the user's Jupyter cookie. ``load()`` (or the button) reads a CSV
    result into ``self.frame`` and, inside IPython, into the variable named in the text box.
    """

    def __init__(
        self,
        run_id: int,
        *,
        client: JobsClient | None = None,
        run: JSON | None = None,
        preview_rows: int = 10,
        variable: str = "df",
    ):
        super().__init__(client)
        self.run: JSON = run if run is not None else self.client.runs.get(run_id)
        self.preview_rows = preview_rows
        #: The DataFrame loaded by :meth:`load` (None until then).
        self.frame: Any = None
        #: The preview's rows (header first), as read from the CSV.
        self.rows: list[list[str]] = []
        self.link = widgets.HTML()
        self.preview = widgets.HTML()
        self.variable = widgets.Text(
            value=variable,
            description="into",
            placeholder="variable name",
            layout=widgets.Layout(width="220px"),
            style={"description_width": "initial"},
        )
        self.load_button = widgets.Button(
            description="Load as DataFrame",
            icon="table",
            tooltip="Read the CSV into a pandas DataFrame in this kernel",
            layout=widgets.Layout(width="auto"),
        )
        self.load_button.on_click(lambda _b: self.guarded(self._load_clicked))
        controls = widgets.HBox([self.load_button, self.variable])
        self.children = [self.link, self.preview, controls, self.notice]
        self.own(self.link, self.preview, self.variable, self.load_button, controls)
        self._render()

    @property
    def result(self) -> JSON | None:
        result = self.run.get("result")
        return result if isinstance(result, dict) else None

    @property
    def href(self) -> str:
        """The result's URL path on the server (its base URL included), for the browser."""
        result = self.result
        if result and result.get("url"):
            return str(result["url"])
        return f"{self.client.base_path}jobext/api/v1/runs/{self.run['id']}/result"

    @property
    def is_csv(self) -> bool:
        result = self.result or {}
        return str(result.get("media_type") or "").startswith("text/csv") or str(
            result.get("filename") or ""
        ).endswith(".csv")

    def load(self, variable: str | None = None) -> Any:
        """Read the CSV result as a DataFrame into ``self.frame`` (and into ``variable`` of
        the IPython namespace when given and running in IPython); return it."""
        frame = self.client.runs.result_frame(int(self.run["id"]))
        self.frame = frame
        where = "view.frame"
        if variable:
            if not variable.isidentifier():
                raise ValueError(f"{variable!r} is not a Python variable name")
            shell = _ipython()
            if shell is not None:
                shell.user_ns[variable] = frame
                where = variable
        rows, columns = frame.shape
        self.say(f"loaded {rows:,} rows, {columns} columns into {where}")
        return frame

    def _load_clicked(self) -> None:
        self.load(self.variable.value.strip() or None)

    def _render(self) -> None:
        result = self.result
        if result is None:
            self.link.value = '<span style="color:#6c757d">this run has no result</span>'
            self.preview.value = ""
            self.load_button.disabled = True
            self.variable.layout.display = "none"
            return
        name = str(result.get("filename") or f"run-{self.run['id']}")
        links = [
            f'<a download="{esc(name)}" href="{esc(self.href)}" target="_blank" '
            f'style="text-decoration:underline">⬇ {esc(name)}</a>'
            f' <span style="color:#6c757d">{esc(_size(result.get("size")))}'
            f" {esc(result.get('media_type') or '')}</span>"
        ]
        if name.endswith(".ipynb") and self._has_html():
            html_name = name.rsplit(".", 1)[0] + ".html"
            links.append(
                f'<a download="{esc(html_name)}" href="{esc(self.href)}?format=html" '
                f'target="_blank" style="text-decoration:underline">⬇ {esc(html_name)}</a>'
            )
        self.link.value = " &nbsp; ".join(links)
        self.load_button.disabled = not self.is_csv
        if not self.is_csv:
            self.variable.layout.display = "none"
        try:
            self.preview.value = self._preview(result)
        except JobextError as exc:
            self.report(exc)

    def _has_html(self) -> bool:
        try:
            return self.client.runs.has_result(int(self.run["id"]), fmt="html")
        except JobextError:
            return False

    def _preview(self, result: JSON) -> str:
        media_type = str(result.get("media_type") or "")
        if not (self.is_csv or media_type.startswith(_TEXT_TYPES)):
            return ""
        head = self.client.runs.result_head(int(self.run["id"]), PREVIEW_BYTES)
        text = head.decode("utf-8", errors="replace")
        size = result.get("size")
        if size is not None and len(head) < size and "\n" in text:
            text = text[: text.rindex("\n") + 1]  # drop a line cut by the range
        if not self.is_csv:
            lines = text.splitlines()[: self.preview_rows * 2]
            return f'<pre style="font-size:12px;max-height:200px;overflow:auto">{esc(chr(10).join(lines))}</pre>'
        reader = csv.reader(io.StringIO(text, newline=""))
        rows = []
        for row in reader:
            rows.append(row)
            if len(rows) > self.preview_rows:
                break
        self.rows = rows
        if not rows:
            return '<span style="color:#6c757d">(empty)</span>'
        header, body = rows[0], rows[1:]
        total = self.run.get("records_written")
        caption = f"first {len(body)} rows" + (f" of {total:,}" if total is not None else "")
        return (
            f'<div style="color:#6c757d;font-size:90%">{esc(caption)}</div>'
            f'<div style="max-height:260px;overflow:auto">{table(header, body)}</div>'
        )


def _ipython() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()
