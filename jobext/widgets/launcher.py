"""``JobLauncher``: pick a job, fill in its args, run it; the new run opens in a ``RunView``."""

from __future__ import annotations

import json
from typing import Any

import ipywidgets as widgets

from jobext.client import JobsClient
from jobext.widgets.common import JSON, Panel, esc
from jobext.widgets.run_view import RunView


def _arg_widget(name: str, value: Any) -> widgets.Widget:
    """An input for one default arg, by the type of its default value."""
    common: dict[str, Any] = {
        "description": name,
        "style": {"description_width": "120px"},
        "layout": widgets.Layout(width="420px"),
    }
    if isinstance(value, bool):
        return widgets.Checkbox(value=value, indent=False, **common)
    if isinstance(value, int):
        return widgets.IntText(value=value, **common)
    if isinstance(value, float):
        return widgets.FloatText(value=value, **common)
    if isinstance(value, str):
        return widgets.Text(value=value, **common)
    # Lists, objects and null: edited as JSON.
    return widgets.Text(value=json.dumps(value), placeholder="JSON", **common)


def _arg_value(field: widgets.Widget, default: Any) -> Any:
    if isinstance(field, widgets.Text) and not isinstance(default, str):
        text = field.value.strip()
        try:
            return json.loads(text) if text else None
        except ValueError:
            raise ValueError(f"{field.description}: not valid JSON: {text!r}") from None
    return field.value


class JobLauncher(Panel):
    """Run a job: its ``default_args`` become a form (a field each), anything else goes in the
    JSON field. ``run()`` (or the Run button) enqueues it and shows the run in ``run_view``."""

    def __init__(self, job: str | None = None, *, client: JobsClient | None = None):
        super().__init__(client)
        #: The job picked (the API's job shape).
        self.job: JSON | None = None
        #: The view of the last run started here.
        self.run_view: RunView | None = None
        self.picker = widgets.Dropdown(description="Job", layout=widgets.Layout(width="420px"))
        self.refresh_button = widgets.Button(
            icon="refresh", tooltip="Reload the job list", layout=widgets.Layout(width="40px")
        )
        self.about = widgets.HTML()
        self.form = widgets.VBox()
        self.extra = widgets.Textarea(
            value="{}",
            description="other args",
            placeholder='{"name": value} (JSON), merged over the fields above',
            style={"description_width": "120px"},
            layout=widgets.Layout(width="420px", height="60px"),
        )
        self.run_button = widgets.Button(
            description="Run", icon="play", button_style="primary", disabled=True
        )
        self.run_box = widgets.VBox()
        self.fields: dict[str, widgets.Widget] = {}
        self.refresh_button.on_click(lambda _b: self.guarded(self.refresh))
        self.run_button.on_click(lambda _b: self.guarded(self._run_clicked))
        self.picker.observe(self._picked, names="value")
        top = widgets.HBox([self.picker, self.refresh_button])
        self.children = [
            top,
            self.about,
            self.form,
            self.extra,
            self.run_button,
            self.notice,
            self.run_box,
        ]
        self.own(
            self.picker,
            self.refresh_button,
            self.about,
            self.form,
            self.extra,
            self.run_button,
            self.run_box,
            top,
        )
        self._wanted = job
        self._quiet = False
        self.refresh()

    def refresh(self) -> None:
        """Reload the job list (keeping the job picked when it still exists)."""
        names: list[str] = []
        page = 0
        while True:
            reply = self.client.jobs.list(page=page, per_page=1000, sort="name")
            names.extend(job["name"] for job in reply["items"])
            if (page + 1) * reply["per_page"] >= reply["total"]:
                break
            page += 1
        wanted = self._wanted or self.picker.value
        if wanted is not None and wanted not in names:
            # Asked for by name: say so rather than silently picking another.
            self.client.jobs.get(wanted)
            names.append(wanted)
        self._quiet = True
        try:
            self.picker.options = names
            self.picker.value = wanted if wanted in names else (names[0] if names else None)
        finally:
            self._quiet = False
        self._wanted = None
        if self.picker.value is not None and (self.job or {}).get("name") != self.picker.value:
            self.pick(self.picker.value)
        elif not names:
            self.about.value = '<span style="color:#6c757d">no jobs registered yet</span>'

    def pick(self, name: str) -> None:
        """Show job ``name``'s form."""
        job = self.client.jobs.get(name)
        self.job = job
        if self.picker.value != name:
            self.picker.value = name
        stats = job.get("stats") or {}
        self.about.value = (
            f"<b>{esc(job['name'])}</b> <code>{esc(job['kind'])}</code> "
            f"<code>{esc(job['target'])[:200]}</code>"
            + (f"<br>{esc(job['description'])}" if job.get("description") else "")
            + f'<br><span style="color:#6c757d;font-size:90%">{stats.get("total", 0)} runs, '
            f"{stats.get('succeeded', 0)} succeeded, {stats.get('failed', 0)} failed</span>"
        )
        defaults = job.get("default_args")
        for field in self.fields.values():
            field.close()
        if self._takes_command_line(job):
            # A shell job's args: a string of arguments, or a list (as JSON).
            self.fields = {"args": _arg_widget("args", "" if defaults is None else defaults)}
        elif isinstance(defaults, dict):
            self.fields = {k: _arg_widget(k, v) for k, v in defaults.items()}
        else:
            self.fields = {}
        self.form.children = list(self.fields.values())
        self.extra.value = "{}"
        self.extra.layout.display = "none" if self._takes_command_line(job) else None
        self.run_button.disabled = False

    def args(self) -> Any:
        """The args the form holds: the fields, with the JSON field merged over them (a shell
        job's command-line args as they are; None when empty)."""
        job = self.job or {}
        defaults = job.get("default_args")
        if self._takes_command_line(job):
            value = _arg_value(self.fields["args"], "" if defaults is None else defaults)
            return value if value not in ("", None) else None
        values = {
            name: _arg_value(field, (defaults or {}).get(name))
            for name, field in self.fields.items()
        }
        text = self.extra.value.strip()
        if text:
            try:
                extra = json.loads(text)
            except ValueError:
                raise ValueError(f"other args: not valid JSON: {text[:80]!r}") from None
            if not isinstance(extra, dict):
                raise ValueError("other args: must be a JSON object")
            values.update(extra)
        return values

    @staticmethod
    def _takes_command_line(job: JSON) -> bool:
        defaults = job.get("default_args")
        return job.get("kind") == "shell" or (
            defaults is not None and not isinstance(defaults, dict)
        )

    def run(self, args: Any = None) -> JSON:
        """Enqueue the picked job with ``args`` (the form's when None); show the new run."""
        if self.job is None:
            raise ValueError("pick a job first")
        run = self.client.runs.enqueue(self.job["name"], self.args() if args is None else args)
        self.disown(self.run_view)
        view = RunView(int(run["id"]), client=self.client)
        self.run_view = view
        self.own(view)
        self.run_box.children = [view]
        self.notice.value = ""
        return run

    def _run_clicked(self) -> None:
        self.run()

    def _picked(self, change: dict[str, Any]) -> None:
        name = change.get("new")
        if name and not self._quiet and (self.job or {}).get("name") != name:
            self.guarded(lambda: self.pick(name))
