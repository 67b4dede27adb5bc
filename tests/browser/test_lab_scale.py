"""The panel at scale, measured (printed with ``-s``, never a timed assertion): first paint with
1,000 jobs and 100,000 runs in the database, and a run detail on a 100,000-line log.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .labpage import Lab, lab_page, open_panel, running_lab, shot

JOBS = 1_000
RUNS = 100_000
LOG_LINES = 100_000


def _add_jobs(db: Path, total: int) -> None:
    """Copies of the fill's first job under new names, up to ``total`` jobs."""
    with sqlite3.connect(db) as conn:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(jobext_job)")]
        have = conn.execute("SELECT count(*) FROM jobext_job").fetchone()[0]
        first = conn.execute("SELECT name FROM jobext_job ORDER BY name LIMIT 1").fetchone()[0]
        others = ", ".join(c for c in columns if c != "name")
        conn.executemany(
            f"INSERT INTO jobext_job (name, {others}) "
            f"SELECT ?, {others} FROM jobext_job WHERE name = ?",
            [(f"extra-{k:04d}", first) for k in range(total - have)],
        )


@pytest.fixture(scope="module")
def big_lab(chromium_path: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    from bench.fill import fill

    home = tmp_path_factory.mktemp("big-lab")
    db = home / "jobext.db"
    began = time.perf_counter()
    fill(db, RUNS, log=lambda *_: None)
    _add_jobs(db, JOBS)
    print(f"\n  filled {JOBS:,} jobs and {RUNS:,} runs in {time.perf_counter() - began:.1f} s")
    with running_lab(home, db) as server:
        yield server


def test_first_paint_with_1000_jobs_and_100000_runs(browser: Any, big_lab: Lab) -> None:
    with lab_page(browser, big_lab) as page:
        began = time.perf_counter()
        panel = open_panel(page)
        panel.locator('[data-section="runs"] .jp-jobext-run').first.wait_for()
        panel.locator('[data-section="jobs"] .jp-jobext-job').first.wait_for()
        shown = time.perf_counter()
        print(
            f"\n  JupyterLab opened to panel listing jobs and runs: {shown - page.opened_at:.2f} s"
            f"; panel shown to lists painted: {shown - began:.2f} s"
        )
        # Paged by the server: one page shown, the total known.
        assert panel.locator(".jp-jobext-run").count() == 50
        hint = panel.locator('[data-section="runs"] .jp-jobext-hint').last.inner_text()
        assert f"of {RUNS}" in hint
        began = time.perf_counter()
        panel.locator('select[name="filter-status"]').select_option("failed")
        page.wait_for_function(
            """() => [...document.querySelectorAll('.jp-jobext-run')]
                   .every(r => r.dataset.status === 'failed')"""
        )
        print(f"  filtering 100,000 runs by status: {time.perf_counter() - began:.2f} s")
        shot(page, "panel-100000-runs", panel)


def test_run_detail_on_a_100000_line_log(page: Any, lab: Lab) -> None:
    lab.register("panel-chatty", "panel_jobs:chatty", default_args={"n": LOG_LINES})
    run = lab.api("POST", "jobs/panel-chatty/runs", {})
    lab.wait_run(run["id"], {"succeeded"}, timeout=180)
    began = time.perf_counter()
    panel = open_panel(page)
    panel.locator(f'[data-run="{run["id"]}"]').click()
    view = page.locator(f'.jp-jobext-detail[data-run="{run["id"]}"]')
    view.locator(".jp-jobext-log-text", has_text=f"line {LOG_LINES - 1}").wait_for(timeout=120_000)
    print(
        f"\n  run detail open at the last lines of {LOG_LINES:,}: {time.perf_counter() - began:.2f} s"
    )
    # It reads the log's tail, not the whole log; earlier lines are one click away.
    shown = view.locator(".jp-jobext-log-line").count()
    assert shown == 500
    assert view.locator(".jp-jobext-log-text").first.inner_text() == f"line {LOG_LINES - 500}"
    earlier = view.locator(".jp-jobext-load-earlier")
    began = time.perf_counter()
    earlier.click()
    page.wait_for_function(
        "() => document.querySelectorAll('.jp-jobext-detail .jp-jobext-log-line').length === 2500"
    )
    print(f"  load earlier (2,000 more lines): {time.perf_counter() - began:.2f} s")
    # Still responsive: a control answers at once.
    began = time.perf_counter()
    view.locator(".jp-jobext-args summary").click()
    view.locator(".jp-jobext-args pre").wait_for()
    print(f"  a click in the detail after that: {time.perf_counter() - began:.2f} s")
    shot(page, "run-detail-100000-lines")
