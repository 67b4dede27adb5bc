"""The JupyterLab panel as a user sees it: real ``jupyter lab`` with a token, headless Chromium.

Assertions are on the DOM; each test also writes screenshots to tests/browser/screenshots/.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from .labpage import Lab, open_dialog, open_panel, shot

FINAL = {"succeeded", "failed", "stopped"}


def section(panel: Any, name: str) -> Any:
    """A section of the panel, expanded."""
    body = panel.locator(f'[data-section="{name}"]')
    if not body.is_visible():
        panel.locator(".jp-AccordionPanel-title", has_text=re.compile(f"^{name}$", re.I)).click()
    body.wait_for(state="visible")
    return body


def detail(page: Any, run_id: int) -> Any:
    view = page.locator(f'.jp-jobext-detail[data-run="{run_id}"]')
    view.wait_for(state="visible")
    return view


def test_panel_opens_and_lists_jobs(page: Any, lab: Lab) -> None:
    lab.register("panel-tick", "panel_jobs:tick", default_args={"n": 3, "pause": 0.1})
    lab.register("panel-export", "panel_jobs:export", description="CSV export")
    started = time.monotonic()
    panel = open_panel(page)
    jobs = section(panel, "jobs")
    jobs.locator('[data-job="panel-export"]').wait_for()
    print(f"first paint of the panel's job list: {time.monotonic() - started:.2f} s")
    names = jobs.locator(".jp-jobext-job .jp-jobext-name").all_inner_texts()
    assert {"panel-tick", "panel-export"} <= set(names)
    # Searching asks the server and narrows the list.
    jobs.locator(".jp-jobext-search").fill("export")
    page.wait_for_function(
        "() => document.querySelectorAll('[data-section=jobs] .jp-jobext-job').length === 1"
    )
    assert jobs.locator(".jp-jobext-job .jp-jobext-name").all_inner_texts() == ["panel-export"]
    jobs.locator(".jp-jobext-search").fill("")
    jobs.locator('[data-job="panel-tick"]').wait_for()
    shot(page, "panel", panel)
    # Authentication travels in headers, never as a token in a URL.
    assert page.jobext_urls, "the panel made no API request"
    assert not [u for u in page.jobext_urls if "token=" in u]


def test_job_list_is_live(page: Any, lab: Lab) -> None:
    if lab.status("jobs/panel-arrives") == 200:
        lab.api("DELETE", "jobs/panel-arrives")
    jobs = section(open_panel(page), "jobs")
    page.locator(".jp-jobext-livemode-events").wait_for()
    jobs.locator(".jp-jobext-job").first.wait_for()
    listed = len([u for u in page.jobext_urls if "/api/v1/jobs?" in u])
    # Registered elsewhere (here: through the REST API), it appears in its place by name.
    lab.register("panel-arrives", "panel_jobs:tick", description="registered elsewhere")
    row = jobs.locator('[data-job="panel-arrives"]')
    row.wait_for(timeout=5_000)
    names = jobs.locator(".jp-jobext-job .jp-jobext-name").all_inner_texts()
    assert names == sorted(names)
    lab.api("PATCH", "jobs/panel-arrives", {"description": "changed elsewhere"})
    page.wait_for_function(
        """() => document.querySelector('[data-job="panel-arrives"] .jp-jobext-name')
                 .title === 'changed elsewhere'"""
    )
    lab.api("DELETE", "jobs/panel-arrives")
    row.wait_for(state="detached", timeout=5_000)
    # All by the event stream: the job list was not read again.
    assert len([u for u in page.jobext_urls if "/api/v1/jobs?" in u]) == listed


def test_running_a_job_shows_its_log_live(page: Any, lab: Lab) -> None:
    lab.register("panel-live", "panel_jobs:tick", default_args={"n": 8, "pause": 0.5})
    panel = open_panel(page)
    job = section(panel, "jobs").locator('[data-job="panel-live"]')
    job.locator('[data-action="run"]').click()
    dialog = open_dialog(page)
    dialog.locator('input[name="arg-pause"]').fill("0.6")
    shot(page, "run-dialog", dialog.locator(".jp-Dialog-content"))
    dialog.locator(".jp-mod-accept").click()
    view = page.locator(".jp-jobext-detail[data-run]")
    view.wait_for(state="visible")
    run_id = int(view.get_attribute("data-run") or 0)
    # Lines arrive while the run is still running: the log is live, not loaded at the end.
    page.wait_for_function(
        """() => {
            const d = document.querySelector('.jp-jobext-detail');
            return d && d.dataset.status === 'running'
                && d.querySelectorAll('.jp-jobext-log-line').length >= 2;
        }""",
        timeout=30_000,
    )
    seen_running = view.locator(".jp-jobext-log-line").count()
    assert 2 <= seen_running < 8
    shot(page, "run-detail-live")
    page.wait_for_selector('.jp-jobext-detail[data-status="succeeded"]', timeout=60_000)
    page.wait_for_function(
        "() => document.querySelectorAll('.jp-jobext-detail .jp-jobext-log-line').length === 8"
    )
    texts = view.locator(".jp-jobext-log-text").all_inner_texts()
    assert texts == [f"tick {i}" for i in range(8)]
    assert lab.api("GET", f"runs/{run_id}")["args"]["pause"] == 0.6
    # The panel's run list shows it finished, with its duration.
    row = section(panel, "runs").locator(f'[data-run="{run_id}"][data-status="succeeded"]')
    row.wait_for(timeout=5_000)
    assert re.search(r"\d+(\.\d)? s", row.locator(".jp-jobext-duration").inner_text())
    shot(page, "run-detail-succeeded")


def test_log_opens_at_its_tail_and_loads_earlier_lines(page: Any, lab: Lab) -> None:
    lab.register("panel-lines", "panel_jobs:chatty", default_args={"n": 3_000})
    run = lab.api("POST", "jobs/panel-lines/runs", {})
    lab.wait_run(run["id"], FINAL)
    panel = open_panel(page)
    section(panel, "runs").locator(f'[data-run="{run["id"]}"]').click()
    view = detail(page, run["id"])
    lines = view.locator(".jp-jobext-log-text")
    # The last 500 lines, not the first: the end of the log is what a user opens it for.
    view.locator(".jp-jobext-log-text", has_text="line 2999").wait_for()
    assert lines.count() == 500
    assert lines.first.inner_text() == "line 2500"
    earlier = view.locator(".jp-jobext-load-earlier")
    earlier.click()
    page.wait_for_function(
        "() => document.querySelectorAll('.jp-jobext-detail .jp-jobext-log-line').length === 2500"
    )
    assert lines.first.inner_text() == "line 500"
    shot(page, "run-detail-load-earlier")
    earlier.click()
    view.locator(".jp-jobext-log-text", has_text=re.compile("^line 0$")).wait_for()
    assert lines.count() == 3_000
    assert earlier.count() == 0
    texts = lines.all_inner_texts()
    assert texts == [f"line {i}" for i in range(3_000)]


def test_clear_finished_runs_of_a_job(page: Any, lab: Lab) -> None:
    fast = {"n": 1, "pause": 0}
    lab.register("panel-clear", "panel_jobs:tick", default_args=fast, max_concurrent=3)
    lab.register("panel-keep", "panel_jobs:tick", default_args=fast)
    cleared = [lab.api("POST", "jobs/panel-clear/runs", {})["id"] for _ in range(3)]
    kept = lab.api("POST", "jobs/panel-keep/runs", {})["id"]
    for run_id in [*cleared, kept]:
        lab.wait_run(run_id, FINAL)
    runs = section(open_panel(page), "runs")
    runs.locator('input[name="grouped"]').check()
    group = runs.locator('[data-group="panel-clear"]')
    group.locator(f'[data-run="{cleared[0]}"]').wait_for()
    group.locator('[data-action="clear-finished-job"]').click()
    dialog = open_dialog(page)
    # The confirmation names what goes, counted by the server (not only the rows shown).
    from playwright.sync_api import expect

    expect(dialog.locator(".jp-Dialog-content")).to_contain_text(
        "3 runs go with their logs and results: the succeeded, failed or stopped runs of job "
        '"panel-clear" (all of them'
    )
    shot(page, "clear-finished-confirm", dialog.locator(".jp-Dialog-content"))
    dialog.locator(".jp-mod-warn").click()
    page.locator(".Toastify__toast", has_text="Removed 3 finished runs.").wait_for()
    group.wait_for(state="detached")
    runs.locator(f'[data-group="panel-keep"] [data-run="{kept}"]').wait_for()
    assert lab.api("GET", "runs", job="panel-clear")["total"] == 0
    assert lab.api("GET", f"runs/{kept}")["id"] == kept
    runs.locator('input[name="grouped"]').uncheck()


def test_stopping_a_long_run(page: Any, lab: Lab) -> None:
    lab.register("panel-slow", "panel_jobs:slow")
    run = lab.api("POST", "jobs/panel-slow/runs", {})
    lab.wait_run(run["id"], {"running"})
    panel = open_panel(page)
    row = section(panel, "runs").locator(f'[data-run="{run["id"]}"]')
    row.wait_for()
    row.click()
    view = detail(page, run["id"])
    page.wait_for_selector(f'.jp-jobext-detail[data-run="{run["id"]}"][data-status="running"]')
    controls = view.locator(".jp-jobext-controls")
    # The actions table: a running run may be stopped or paused, not restarted or removed.
    assert controls.locator('[data-action="stop"]').is_enabled()
    assert controls.locator('[data-action="pause"]').is_enabled()
    assert controls.locator('[data-action="restart"]').is_disabled()
    assert controls.locator('[data-action="remove"]').is_disabled()
    view.locator(".jp-jobext-log-line").first.wait_for()
    shot(page, "run-detail-running")
    controls.locator('[data-action="stop"]').click()
    page.wait_for_selector(
        f'.jp-jobext-detail[data-run="{run["id"]}"][data-status="stopped"]', timeout=30_000
    )
    assert lab.api("GET", f"runs/{run['id']}")["status"] == "stopped"
    assert controls.locator('[data-action="stop"]').is_disabled()
    assert controls.locator('[data-action="restart"]').is_enabled()
    assert controls.locator('[data-action="remove"]').is_enabled()
    shot(page, "run-detail-stopped")


def test_downloading_a_result(page: Any, lab: Lab) -> None:
    lab.register("panel-csv", "panel_jobs:export", default_args={"rows": 4})
    run = lab.api("POST", "jobs/panel-csv/runs", {})
    lab.wait_run(run["id"], FINAL)
    open_panel(page)
    row = section(page.locator("#jp-jobext-panel"), "runs").locator(f'[data-run="{run["id"]}"]')
    row.click()
    view = detail(page, run["id"])
    # A CSV result is previewed.
    view.locator(".jp-jobext-csv tbody tr").first.wait_for()
    assert view.locator(".jp-jobext-csv th").all_inner_texts() == ["id", "name"]
    assert view.locator(".jp-jobext-csv tbody tr").count() == 4
    with page.expect_download() as info:
        view.locator('[data-action="download"]').click()
    download = info.value
    assert download.suggested_filename == f"panel-csv-{run['id']}.csv"
    body = Path(download.path()).read_text(encoding="utf-8")
    assert body.splitlines() == ["id,name", "0,row 0", "1,row 1", "2,row 2", "3,row 3"]
    shot(page, "run-detail-result")


def test_creating_a_schedule_shows_its_preview(page: Any, lab: Lab) -> None:
    lab.register("panel-nightly", "panel_jobs:tick")
    panel = open_panel(page)
    schedules = section(panel, "schedules")
    schedules.locator('[data-action="new-schedule"]').click()
    dialog = open_dialog(page)
    dialog.locator('select[name="job"]').select_option("panel-nightly")
    dialog.locator('input[name="cron"]').fill("30 2 * * *")
    dialog.locator('input[name="timezone"]').fill("Europe/Berlin")
    page.wait_for_function(
        """() => {
            const rows = document.querySelectorAll('.jp-Dialog .jp-jobext-fire-time');
            return rows.length === 5 && rows[0].textContent.includes('02:30:00');
        }"""
    )
    first = dialog.locator(".jp-jobext-fire-time").first.inner_text()
    assert re.search(r"\d{4}-\d\d-\d\d 02:30:00 (CET|CEST|GMT\+[12])", first)
    shot(page, "schedule-dialog", dialog.locator(".jp-Dialog-content"))
    # A bad expression shows the server's message, before anything is saved.
    dialog.locator('input[name="cron"]').fill("61 * * * *")
    dialog.locator(".jp-jobext-preview-error").wait_for()
    dialog.locator('input[name="cron"]').fill("30 2 * * *")
    dialog.locator(".jp-jobext-fire-time").first.wait_for()
    dialog.locator(".jp-mod-accept").click()
    schedules.locator(".jp-jobext-schedule", has_text="panel-nightly").wait_for()
    created = [s for s in lab.api("GET", "schedules")["items"] if s["job"] == "panel-nightly"]
    assert len(created) == 1
    assert created[0]["timezone"] == "Europe/Berlin"
    assert created[0]["cron"] == "30 2 * * *"
    row = schedules.locator(f'[data-schedule="{created[0]["id"]}"]')
    row.wait_for()
    row.locator(".jp-jobext-item-head").click()
    row.locator('[data-action="pause"]').click()
    row.locator(".jp-jobext-status-paused").wait_for()
    assert lab.api("GET", f"schedules/{created[0]['id']}")["active"] is False
    shot(page, "schedules", panel)


def test_file_browser_context_menu_runs_a_notebook(page: Any, lab: Lab) -> None:
    if lab.status("jobs/hello") == 200:
        lab.api("DELETE", "jobs/hello")
    item = page.locator(".jp-DirListing-item", has_text="hello.ipynb")
    item.wait_for()
    item.click(button="right")
    menu = page.locator(".lm-Menu").last
    entry = menu.locator(".lm-Menu-item", has_text="Run as job…")
    entry.wait_for()
    assert menu.locator(".lm-Menu-item", has_text="Schedule…").count() == 1
    shot(page, "context-menu")
    entry.click()
    dialog = open_dialog(page)
    # Not registered yet: the registration form comes prefilled.
    assert dialog.locator('select[name="kind"]').input_value() == "notebook"
    assert dialog.locator('textarea[name="target"]').input_value() == "hello.ipynb"
    assert dialog.locator('input[name="name"]').input_value() == "hello"
    dialog.locator(".jp-mod-accept").click()
    run_dialog = open_dialog(page, "Run hello")
    run_dialog.locator('textarea[name="args"]').fill('{"greeting": "bonjour"}')
    run_dialog.locator(".jp-mod-accept").click()
    view = page.locator(".jp-jobext-detail[data-run]")
    view.wait_for(state="visible")
    page.wait_for_function(
        """() => { const d = document.querySelector('.jp-jobext-detail');
                   return d && ['succeeded', 'failed', 'stopped'].includes(d.dataset.status); }""",
        timeout=120_000,
    )
    assert view.get_attribute("data-status") == "succeeded", view.inner_text()
    assert lab.api("GET", "jobs/hello")["kind"] == "notebook"
    run_id = view.get_attribute("data-run")
    # The run this tab started ended: a notification says so, with its actions.
    toast = page.locator(".Toastify__toast", has_text=f"hello #{run_id} succeeded")
    toast.wait_for()
    assert toast.locator("button", has_text="Open log").count() == 1
    assert toast.locator("button", has_text="Download").count() == 1
    shot(page, "notebook-run")
    # The executed notebook opens in JupyterLab, with the injected parameter's output.
    view.locator('[data-action="open-notebook"]').click()
    notebook = page.locator(".jp-NotebookPanel", has_text="bonjour from a notebook job")
    notebook.wait_for()
    assert (lab.root / "jobext-results" / f"hello-{run_id}.ipynb").exists()
    shot(page, "executed-notebook")


def test_batch_counts_and_directives(page: Any, lab: Lab) -> None:
    if lab.status("batches") == 404:
        pytest.skip("this server has no /batches yet (DESIGN.md 'Batches'): nothing to direct")
    lab.register("panel-batch", "panel_jobs:slow", default_args={"seconds": 600}, max_concurrent=2)
    batch = lab.api(
        "POST", "jobs/panel-batch/batches", {"concurrent": 2, "iterations": 1, "start": True}
    )
    idle = lab.api(
        "POST", "jobs/panel-batch/batches", {"concurrent": 3, "iterations": 1, "start": False}
    )
    from playwright.sync_api import expect

    panel = open_panel(page)
    row = section(panel, "batches").locator(f'[data-batch="{batch["id"]}"]')
    row.wait_for()
    # The sub-jobs counted by status, as the batch list counts them, kept live.
    expect(row.locator('.jp-jobext-count[data-status="running"]')).to_have_text(
        "running 2", timeout=30_000
    )
    assert row.get_attribute("data-status") == "running"
    buttons = {
        d: row.locator(f'[data-action="{d}"]') for d in ("start", "stop", "pause", "unpause")
    }
    # Enabled as the server's actions table says for a running batch.
    assert [d for d, b in buttons.items() if b.is_enabled()] == ["start", "stop", "pause"]
    for other in ("Jobs", "Runs", "Schedules", "Workers", "Apps"):
        panel.locator(".jp-AccordionPanel-title", has_text=re.compile(f"^{other}$", re.I)).click()
    shot(page, "batches", panel.locator('[data-section="batches"]'))
    buttons["pause"].click()
    page.wait_for_function(
        f"""() => ['pausing', 'paused'].includes(
                document.querySelector('[data-batch="{batch["id"]}"]').dataset.status)"""
    )
    expect(buttons["unpause"]).to_be_enabled()
    expect(buttons["pause"]).to_be_disabled()
    buttons["unpause"].click()
    expect(buttons["pause"]).to_be_enabled()
    buttons["stop"].click()
    deadline = time.monotonic() + 30
    while lab.api("GET", f"batches/{batch['id']}")["status"] not in {"stopped", "completed"}:
        assert time.monotonic() < deadline, "the batch did not stop"
        time.sleep(0.3)
    # The counts follow: what the server counts now, and nothing else.
    counts = lab.api("GET", f"batches/{batch['id']}")["counts"]
    wanted = {f"{status} {n}" for status, n in counts.items() if n}
    shown: set[str] = set()
    deadline = time.monotonic() + 10
    while shown != wanted:
        assert time.monotonic() < deadline, f"counts shown {shown}, not {wanted}"
        time.sleep(0.2)
        shown = set(row.locator(".jp-jobext-count[data-status]").all_inner_texts())
    # Another batch's counts come with the list too.
    (listed,) = [b for b in lab.api("GET", "batches")["items"] if b["id"] == idle["id"]]
    idle_row = section(panel, "batches").locator(f'[data-batch="{idle["id"]}"]')
    assert set(idle_row.locator(".jp-jobext-count[data-status]").all_inner_texts()) == {
        f"{status} {n}" for status, n in listed["counts"].items() if n
    }
    # Counts, runs running and lag all come with the list: the panel never reads a batch on its
    # own (GET /batches/{id}; the directives answer POST /batches/{id}/<directive>).
    own = re.compile(r"/batches/\d+(\?|$)")
    assert not [url for url in page.jobext_urls if own.search(url)]


def test_workers_drain_and_resume(page: Any, lab: Lab) -> None:
    from playwright.sync_api import expect

    (worker,) = lab.api("GET", "workers", status="ready")["items"]
    panel = open_panel(page)
    row = section(panel, "workers").locator(f'[data-worker="{worker["id"]}"]')
    row.wait_for()
    assert row.locator(".jp-jobext-name").inner_text() == worker["name"]
    assert row.locator('[data-field="kind"]').inner_text() == "local"
    assert row.locator('[data-field="host"]').inner_text() == worker["host"]
    assert row.locator(".jp-jobext-slots").inner_text() == f"0/{worker['slots']}"
    expect(row.locator('[data-meter="cpu"]')).to_contain_text(re.compile(r"CPU \d+%"))
    expect(row.locator('[data-meter="memory"]')).to_contain_text(re.compile(r"Mem \d+%"))
    memory = row.locator('[data-meter="memory"] .jp-jobext-progress').get_attribute("title")
    assert re.fullmatch(r"memory: [\d.]+ [kMGT]?B of [\d.]+ [kMGT]?B in use", memory or "")
    drain, resume = row.locator('[data-action="drain"]'), row.locator('[data-action="resume"]')
    try:
        assert drain.is_enabled() and resume.is_disabled()
        drain.click()
        expect(row).to_have_attribute("data-status", "draining")
        assert lab.api("GET", f"workers/{worker['id']}")["status"] == "draining"
        expect(resume).to_be_enabled()
        assert drain.is_disabled()
        for other in ("Jobs", "Runs", "Schedules", "Batches", "Apps"):
            panel.locator(
                ".jp-AccordionPanel-title", has_text=re.compile(f"^{other}$", re.I)
            ).click()
        shot(page, "workers", panel.locator('[data-section="workers"]'))
        # Resumed elsewhere: the row follows, by the event stream.
        listed = len([u for u in page.jobext_urls if "/api/v1/workers?" in u])
        lab.api("POST", f"workers/{worker['id']}/resume")
        expect(row).to_have_attribute("data-status", "ready")
        expect(drain).to_be_enabled()
        assert len([u for u in page.jobext_urls if "/api/v1/workers?" in u]) == listed
    finally:
        lab.api("POST", f"workers/{worker['id']}/resume")


APP_CODE = """
import jobext


@jobext.job
def hello():
    print("hello")


@jobext.job(schedule="0 6 * * *", timezone="Europe/Berlin")
def report():
    print("report")
"""


def test_apps_redeploy_and_delete(page: Any, lab: Lab) -> None:
    from playwright.sync_api import expect

    if lab.status("apps/panel-app") == 200:
        lab.api("DELETE", "apps/panel-app")
    code = lab.root / "panel_app.py"
    code.write_text(APP_CODE)
    lab.api("POST", "apps", {"name": "panel-app", "path": "panel_app.py"})
    panel = open_panel(page)
    for other in ("Runs", "Schedules", "Batches", "Workers"):
        panel.locator(".jp-AccordionPanel-title", has_text=re.compile(f"^{other}$", re.I)).click()
    row = section(panel, "apps").locator('[data-app="panel-app"]')
    row.wait_for()
    assert row.locator('[data-field="source"]').inner_text() == "path panel_app.py"
    jobs = row.locator(".jp-jobext-app-jobs [data-job]")
    expect(jobs).to_have_count(2)
    report = row.locator('[data-job="panel-app.report"] [data-field="schedule"]')
    assert report.inner_text().strip() == "0 6 * * * Europe/Berlin"
    # Its jobs are the code's: the Jobs section says whose, and offers no edit.
    job = section(panel, "jobs").locator('[data-job="panel-app.hello"]')
    assert job.locator('[data-field="app"]').inner_text() == "panel-app"
    job.locator(".jp-jobext-item-head").click()
    assert job.locator('[data-action="edit"]').is_disabled()
    shot(page, "apps", panel.locator('[data-section="apps"]'))
    # Redeployed from changed code: one job added, one gone, said so.
    code.write_text(APP_CODE.replace("def report", "def summary"))
    row.locator('[data-action="redeploy"]').click()
    page.locator(".jp-Dialog .jp-mod-accept").click()
    page.locator(
        ".Toastify__toast",
        has_text="Redeployed panel-app: 1 added (panel-app.summary), 1 removed (panel-app.report)",
    ).wait_for()
    expect(jobs.locator("a")).to_have_text(["panel-app.hello", "panel-app.summary"])
    # Code that no longer imports: the dialog shows the server's error, and so does the app.
    code.write_text("import no_such_module_here\n")
    row.locator('[data-action="redeploy"]').click()
    page.locator(".jp-Dialog .jp-mod-accept").click()
    expect(page.locator(".jp-Dialog .jp-jobext-form-error")).to_contain_text("no_such_module_here")
    page.locator(".jp-Dialog .jp-mod-reject").click()
    expect(row.locator('[data-field="error"]')).to_contain_text("no_such_module_here")
    expect(jobs).to_have_count(2)
    # Deleted, after a confirmation naming its jobs.
    row.locator('[data-action="delete"]').click()
    dialog = open_dialog(page)
    expect(dialog).to_contain_text("panel-app.hello, panel-app.summary")
    dialog.locator(".jp-mod-warn").click()
    row.wait_for(state="detached")
    assert lab.status("apps/panel-app") == 404
    assert lab.status("jobs/panel-app.hello") == 404
    job.wait_for(state="detached")


def test_notebook_toolbar_button(page: Any, lab: Lab) -> None:
    page.locator(".jp-DirListing-item", has_text="hello.ipynb").dblclick()
    button = page.locator('.jp-NotebookPanel-toolbar [data-jp-item-name="jobext-run"]')
    button.wait_for()
    button.locator("button").click()
    dialog = open_dialog(page)
    # Registered already (by another test) or not: either way the dialog is about this notebook
    # (its title is filled in once the panel knows which).
    from playwright.sync_api import expect

    expect(dialog.locator(".jp-Dialog-header")).to_have_text(
        re.compile(r"^\s*(Run hello|Register hello\.ipynb as a job)\s*$")
    )
    shot(page, "notebook-toolbar")
    dialog.locator(".jp-mod-reject").click()
