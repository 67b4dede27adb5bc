"""The ipywidgets panels against a live server, in this process (no kernel: widgets talk to a
dummy comm, and their traits are what a browser would be sent).

The server runs in this event loop, so widgets are made, clicked and closed in threads
(``asyncio.to_thread``); their own background threads talk to the server meanwhile.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from waiting import eventually_async

from jobext.client import JobsClient
from jobext.widgets import (
    JobLauncher,
    JobsPanel,
    ResultView,
    RunsBrowser,
    RunView,
    ScheduleEditor,
    allowed_actions,
)


@pytest.fixture
def client(
    jobext_app: Any, http_server: Any, jp_serverapp: Any, jp_http_port: int, jp_base_url: str
) -> JobsClient:
    """A client of the test server (``http_server`` makes it listen on ``jp_http_port``)."""
    url = f"http://127.0.0.1:{jp_http_port}{jp_base_url}"
    return JobsClient(url=url, token=jp_serverapp.identity_provider.token)


@pytest.fixture
def make(client: JobsClient, jp_asyncio_loop: Any) -> Any:
    """``await make(Widget, *args, **kwargs)``: a widget of the test server, closed after the
    test (from a thread: closing joins its background threads, which may need the server)."""
    made: list[Any] = []

    async def factory(cls: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        widget = await asyncio.to_thread(cls, *args, client=client, **kwargs)
        made.append(widget)
        return widget

    yield factory

    def close_all() -> None:
        for widget in made:
            widget.close()

    jp_asyncio_loop.run_until_complete(asyncio.to_thread(close_all))


def jobext_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("jobext-")]


def enabled(view: RunView) -> set[str]:
    return {name for name, button in view.buttons.items() if not button.disabled}


# ---------------------------------------------------------------------------- RunView


async def test_run_view_of_a_finished_run_shows_its_log_and_status(api, make):
    await api.job("hello", "jobs_lib:hello")
    run = await api.wait((await api.run("hello", {"name": "ann", "n": 3}))["id"])
    view = await make(RunView, run["id"])
    final = await asyncio.to_thread(view.wait, 20)
    assert final["status"] == "succeeded" and view.status == "succeeded"
    assert "succeeded" in view.badge.value
    assert view.progress.value == 1.0 and view.progress.bar_style == "success"
    assert f"Run {run['id']}" in view.title.value and "hello" in view.title.value
    assert view.lines[:3] == ["hello ann 0", "hello ann 1", "hello ann 2"]
    assert "hello ann 2" in view.log_html.value
    assert "WARNING jobs_lib: done greeting" in view.log_html.value
    # Ended and succeeded: it can only be removed.
    assert enabled(view) == {"remove"}
    assert view.result_view is None  # hello writes no result
    assert not [t for t in jobext_threads() if f"run-{run['id']}" in t]


async def test_run_view_buttons_follow_the_state_machine(api, make):
    await api.job("loop", "jobs_lib:loop", default_args={"seconds": 30.0})
    run = await api.run("loop")
    await api.wait(run["id"], "running")
    view = await make(RunView, run["id"])
    await eventually_async(lambda: view.status == "running", message="the view to show running")
    await eventually_async(
        lambda: any("tick" in line for line in view.lines), message="ticks in the log"
    )
    assert enabled(view) == {"stop", "force_stop", "pause"}

    await asyncio.to_thread(view.buttons["pause"].click)
    await eventually_async(lambda: view.status == "paused", message="paused")
    assert enabled(view) == {"stop", "force_stop", "resume"}
    assert "paused" in view.badge.value

    await asyncio.to_thread(view.buttons["resume"].click)
    await eventually_async(lambda: view.status == "running", message="running again")
    await asyncio.to_thread(view.buttons["stop"].click)
    await eventually_async(lambda: view.status == "stopped", timeout=30, message="stopped")
    assert enabled(view) == {"restart", "remove"}
    assert view.notice.value == ""

    # Restart opens the new run in the same view.
    await asyncio.to_thread(view.buttons["restart"].click)
    assert view.run_id != run["id"] and view.run["restarted_from"] == run["id"]
    assert f"restarted as run {view.run_id}" in view.notice.value
    await eventually_async(lambda: view.status == "running", message="the new run running")
    await asyncio.to_thread(view.buttons["force_stop"].click)
    await eventually_async(lambda: view.status == "stopped", message="force-stopped")
    # The old run is restarted already: the server would refuse another restart.
    old = await make(RunView, run["id"])
    assert old.status == "stopped" and "restart" not in enabled(old)
    assert "remove" in enabled(old)


async def test_failed_run_offers_restart_unless_the_job_is_not_restartable(api, make):
    await api.job("fail", "jobs_lib:fail")
    await api.job("once", "jobs_lib:fail", restartable=False)
    failed = await api.wait((await api.run("fail"))["id"])
    view = await make(RunView, failed["id"])
    await asyncio.to_thread(view.wait, 20)
    assert view.status == "failed" and enabled(view) == {"restart", "remove"}
    assert "ValueError: boom" in view.details.value
    assert view.progress.bar_style == "danger"
    assert "about to fail" in view.log_html.value

    fixed = await api.wait((await api.run("once"))["id"])
    strict = await make(RunView, fixed["id"])
    assert strict.status == "failed" and enabled(strict) == {"remove"}


async def test_action_refused_by_the_server_shows_its_message(api, make, client):
    await api.job("noop", "jobs_lib:noop")
    run = await api.wait((await api.run("noop"))["id"])
    view = await make(RunView, run["id"])
    await asyncio.to_thread(view.act, "pause")  # no button for it; the server says no
    assert "409" in view.notice.value and "cannot pause" in view.notice.value
    await asyncio.to_thread(view.buttons["remove"].click)
    assert "removed" in view.badge.value and enabled(view) == set()
    assert (await api.get(f"runs/{run['id']}")).code == 404


def test_allowed_actions_match_the_servers_rules():
    assert allowed_actions({"status": "queued"}) == {"stop", "force_stop"}
    assert allowed_actions({"status": "running"}) == {"stop", "force_stop", "pause"}
    assert allowed_actions({"status": "pausing"}) == {"stop", "force_stop", "resume"}
    assert allowed_actions({"status": "paused"}) == {"stop", "force_stop", "resume"}
    assert allowed_actions({"status": "stopping"}) == {"force_stop"}
    assert allowed_actions({"status": "succeeded"}) == {"remove"}
    assert allowed_actions({"status": "failed"}) == {"restart", "remove"}
    assert allowed_actions({"status": "stopped", "restarted_as": 7}) == {"remove"}
    assert allowed_actions({"status": "failed"}, restartable=False) == {"remove"}
    assert allowed_actions({"status": "unheard-of"}) == set()


async def test_closing_a_run_view_stops_its_threads(api, make, client):
    await api.job("loop", "jobs_lib:loop", default_args={"seconds": 30.0})
    run = await api.run("loop")
    view = await make(RunView, run["id"])
    await eventually_async(lambda: view.status == "running", message="running")
    assert any(f"run-{run['id']}" in t for t in jobext_threads())
    started = time.monotonic()
    await asyncio.to_thread(view.close)
    assert time.monotonic() - started < 3
    assert not [t for t in jobext_threads() if f"run-{run['id']}" in t]
    await api.post(f"runs/{run['id']}/stop", params={"force": "true"})


# ---------------------------------------------------------------------------- ResultView


async def test_result_view_offers_the_download_link_and_preview_rows(api, make, jp_base_url):
    await api.job("export", "jobs_lib:write_result")
    run = await api.wait((await api.run("export", {"rows": 25}))["id"])
    view = await make(ResultView, run["id"], preview_rows=5)
    assert view.href.endswith(f"/jobext/api/v1/runs/{run['id']}/result")
    assert view.href.startswith(jp_base_url)  # the server's base URL path: works in JupyterLab
    assert f'href="{view.href}"' in view.link.value
    assert f'download="export-{run["id"]}.csv"' in view.link.value
    assert view.rows[0] == ["id", "name"]
    assert view.rows[1:] == [[str(i), f"row {i}"] for i in range(5)]
    assert "first 5 rows of 25" in view.preview.value and "row 4" in view.preview.value
    assert "row 5" not in view.preview.value

    frame = await asyncio.to_thread(view.load)
    assert frame.shape == (25, 2) and view.frame is frame
    assert "loaded 25 rows" in view.notice.value
    # In IPython, the button also puts it into the variable named.
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        view.variable.value = "sales"
        await asyncio.to_thread(view.load_button.click)
        assert shell.user_ns["sales"].shape == (25, 2)
        assert "into sales" in view.notice.value
    finally:
        InteractiveShell.clear_instance()
    view.variable.value = "not a name"
    await asyncio.to_thread(view.load_button.click)
    assert "not a Python variable name" in view.notice.value


async def test_result_view_of_a_run_without_result(api, make):
    await api.job("noop", "jobs_lib:noop")
    run = await api.wait((await api.run("noop"))["id"])
    view = await make(ResultView, run["id"])
    assert "no result" in view.link.value and view.load_button.disabled


async def test_run_view_shows_the_result_once_the_run_has_one(api, make):
    await api.job("export", "jobs_lib:write_result")
    run = await api.run("export", {"rows": 2})
    view = await make(RunView, run["id"])
    await asyncio.to_thread(view.wait, 20)
    await eventually_async(lambda: view.result_view is not None, message="a result view")
    assert view.result_view.rows == [["id", "name"], ["0", "row 0"], ["1", "row 1"]]
    assert list(view.result_box.children) == [view.result_view]


# ---------------------------------------------------------------------------- RunsBrowser


async def test_runs_browser_filters_pages_and_opens_runs(api, make):
    await api.job("hello", "jobs_lib:hello", default_args={"n": 1})
    await api.job("fail", "jobs_lib:fail")
    ids = [(await api.wait((await api.run("hello"))["id"]))["id"] for _ in range(3)]
    bad = await api.wait((await api.run("fail"))["id"])
    browser = await make(RunsBrowser, per_page=2)
    assert browser.total == 4 and [r["id"] for r in browser.items] == [bad["id"], ids[2]]
    assert "page 1 of 2" in browser.page_label.value and browser.prev_button.disabled
    await asyncio.to_thread(browser.next_button.click)
    assert [r["id"] for r in browser.items] == [ids[1], ids[0]] and browser.next_button.disabled

    await asyncio.to_thread(setattr, browser.status_filter, "value", "FAILED")
    assert browser.page == 0 and [r["id"] for r in browser.items] == [bad["id"]]
    await asyncio.to_thread(setattr, browser.status_filter, "value", "")
    await asyncio.to_thread(setattr, browser.job_filter, "value", "hello")
    assert browser.total == 3
    import datetime as dt

    tomorrow = dt.date.today() + dt.timedelta(days=1)
    await asyncio.to_thread(setattr, browser.from_date, "value", tomorrow)
    assert browser.total == 0 and "no runs" in browser.grid.children[-1].value
    await asyncio.to_thread(setattr, browser.from_date, "value", None)
    assert browser.total == 3

    # A row's button opens the run below the table.
    row_button = browser.grid.children[7]  # the first cell of the first row
    assert row_button.description == f"#{ids[2]}"
    await asyncio.to_thread(row_button.click)
    assert browser.run_view is not None and browser.run_view.run_id == ids[2]
    assert list(browser.detail.children) == [browser.run_view]


async def test_runs_browser_for_one_job(api, make):
    await api.job("a", "jobs_lib:noop")
    await api.job("b", "jobs_lib:noop")
    await api.wait((await api.run("a"))["id"])
    await api.wait((await api.run("b"))["id"])
    browser = await make(RunsBrowser, "b")
    assert browser.job_filter.value == "b" and [r["job"] for r in browser.items] == ["b"]


# ---------------------------------------------------------------------------- JobLauncher


async def test_launcher_builds_a_form_from_default_args_and_runs_the_job(api, make):
    await api.job(
        "hello", "jobs_lib:hello", default_args={"name": "world", "n": 2}, description="greets"
    )
    await api.job("other", "jobs_lib:noop")
    launcher = await make(JobLauncher, "hello")
    assert launcher.picker.value == "hello" and set(launcher.picker.options) == {"hello", "other"}
    assert set(launcher.fields) == {"name", "n"} and "greets" in launcher.about.value
    launcher.fields["name"].value = "bob"
    launcher.extra.value = '{"n": 1}'
    assert launcher.args() == {"name": "bob", "n": 1}
    await asyncio.to_thread(launcher.run_button.click)
    view = launcher.run_view
    assert view is not None and view.run["args"] == {"name": "bob", "n": 1}
    await asyncio.to_thread(view.wait, 20)
    assert view.status == "succeeded" and view.lines[0] == "hello bob 0"

    launcher.extra.value = "{not json"
    await asyncio.to_thread(launcher.run_button.click)
    assert "not valid JSON" in launcher.notice.value and launcher.run_view is view

    await asyncio.to_thread(setattr, launcher.picker, "value", "other")
    assert launcher.job["name"] == "other" and launcher.fields == {}
    assert launcher.args() == {}


async def test_launcher_of_a_shell_job_takes_a_command_line(api, make):
    await api.job("echo", "echo", kind="shell")
    launcher = await make(JobLauncher, "echo")
    assert list(launcher.fields) == ["args"] and launcher.extra.layout.display == "none"
    assert launcher.args() is None
    launcher.fields["args"].value = "hello 'big world'"
    run = await asyncio.to_thread(launcher.run)
    assert run["args"] == "hello 'big world'"
    await asyncio.to_thread(launcher.run_view.wait, 20)
    assert launcher.run_view.status == "succeeded"
    assert "hello big world" in launcher.run_view.lines


# ---------------------------------------------------------------------------- ScheduleEditor


async def test_schedule_editor_previews_live_and_saves(api, make, client):
    await api.job("noop", "jobs_lib:noop")
    editor = await make(ScheduleEditor, "noop", cron="30 2 * * *", timezone="Europe/Berlin")
    assert len(editor.fire_times["local_times"]) == 5
    assert "02:30:00+0" in editor.preview.value and editor.delete_button.disabled

    editor.cron.value = "61 * * * *"  # typing: the preview follows on its own
    await eventually_async(
        lambda: "cron" in editor.preview.value and "⚠" in editor.preview.value,
        message="the cron error",
    )
    assert editor.fire_times is None
    editor.cron.value = "0 6 * * mon-fri"
    await eventually_async(lambda: editor.fire_times is not None, message="a new preview")
    assert all("T06:00:00" in t for t in editor.fire_times["local_times"])

    editor.misfire.value = "once"
    editor.overlap.value = "replace"
    editor.args.value = '{"x": 1}'
    saved = await asyncio.to_thread(editor.save)
    remote = (await api.get(f"schedules/{saved['id']}")).json()
    assert (remote["cron"], remote["timezone"]) == ("0 6 * * mon-fri", "Europe/Berlin")
    assert (remote["misfire"], remote["overlap"], remote["args"]) == ("once", "replace", {"x": 1})
    assert not editor.pause_button.disabled and editor.resume_button.disabled

    await asyncio.to_thread(editor.pause_button.click)
    assert (await api.get(f"schedules/{saved['id']}")).json()["active"] is False
    assert editor.pause_button.disabled and not editor.resume_button.disabled
    await asyncio.to_thread(editor.resume_button.click)
    assert (await api.get(f"schedules/{saved['id']}")).json()["active"] is True

    editor.cron.value = "15 4 * * *"
    await asyncio.to_thread(editor.save_button.click)
    assert (await api.get(f"schedules/{saved['id']}")).json()["cron"] == "15 4 * * *"

    # Another editor opens the saved schedule.
    again = await make(ScheduleEditor, schedule_id=saved["id"])
    assert again.cron.value == "15 4 * * *" and again.misfire.value == "once"

    await asyncio.to_thread(editor.delete_button.click)
    assert (await api.get(f"schedules/{saved['id']}")).code == 404
    assert editor.schedule is None and editor.delete_button.disabled


# ---------------------------------------------------------------------------- JobsPanel


async def test_jobs_panel_has_tabs_for_jobs_runs_and_schedules(api, make, client):
    await api.job("hello", "jobs_lib:hello", default_args={"n": 1})
    await api.wait((await api.run("hello"))["id"])
    await api.post("schedules", {"job": "hello", "cron": "0 3 * * *"})
    panel = await make(JobsPanel)
    assert panel.tabs.titles == ("Jobs", "Runs", "Schedules")
    assert [j["name"] for j in panel.jobs.items] == ["hello"]
    assert panel.runs.total == 1
    assert [s["job"] for s in panel.schedules.items] == ["hello"]
    assert "1 jobs" in panel.summary.value

    launcher = await asyncio.to_thread(panel.jobs.show_job, "hello")
    assert launcher.job["name"] == "hello"
    editor = await asyncio.to_thread(panel.schedules.edit, panel.schedules.items[0]["id"])
    assert editor.cron.value == "0 3 * * *"
    await asyncio.to_thread(launcher.run)
    await asyncio.to_thread(launcher.run_view.wait, 20)
    await asyncio.to_thread(setattr, panel.tabs, "selected_index", 1)  # reloads the runs tab
    assert panel.runs.total == 2

    await asyncio.to_thread(panel.close)
    assert panel.closed and launcher.closed and editor.closed
    assert jobext_threads() == []
