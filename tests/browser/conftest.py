"""Browser tests of the JupyterLab panel: a real ``jupyter lab`` (token authentication on) with
jobext and the built extension, driven by Playwright in Debian's Chromium.

Chromium is never downloaded: the tests use ``/usr/bin/chromium`` (``.ci/run`` installs it with
apt-get) and are skipped, saying why, only where it is absent.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from labpage import Lab, shot

CHROMIUM = os.environ.get("JOBEXT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
REPO = Path(__file__).resolve().parents[2]
BUILT = REPO / "jobext" / "labextension" / "package.json"

JOBS_MODULE = """
import time

import jobext


def tick(n: int = 8, pause: float = 0.4):
    for i in range(n):
        print(f"tick {i}", flush=True)
        jobext.progress((i + 1) / n, f"{i + 1} of {n}")
        jobext.checkpoint()
        time.sleep(pause)


def slow(seconds: float = 600):
    end = time.time() + seconds
    while time.time() < end:
        print("working", flush=True)
        jobext.checkpoint()
        time.sleep(0.2)


def export(rows: int = 5):
    path = jobext.result_path(".csv")
    path.write_text("id,name\\n" + "".join(f"{i},row {i}\\n" for i in range(rows)))
    jobext.records_written(rows)
"""

NOTEBOOK = {
    "cells": [
        {
            "cell_type": "code",
            "metadata": {"tags": ["parameters"]},
            "source": "greeting = 'hello'",
            "outputs": [],
            "execution_count": None,
        },
        {
            "cell_type": "code",
            "metadata": {},
            "source": "print(greeting, 'from a notebook job')",
            "outputs": [],
            "execution_count": None,
        },
    ],
    "metadata": {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
    },
    "nbformat": 4,
    "nbformat_minor": 5,
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _lab_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")}
    env.update(
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_DATA_DIR=str(home / "data"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
        PYTHONUNBUFFERED="1",
    )
    # No "would you like news?" toast over the panel.
    news = (
        home
        / "settings"
        / "@jupyterlab"
        / "apputils-extension"
        / "notification.jupyterlab-settings"
    )
    news.parent.mkdir(parents=True, exist_ok=True)
    news.write_text(json.dumps({"fetchNews": "false"}))
    return env


@pytest.fixture
def jp_asyncio_loop() -> None:
    """Not here: Playwright's sync API keeps its own event loop current in this thread, which
    pytest-jupyter's loop fixture would take over and close. These tests start no server in
    process."""


@pytest.fixture
def jp_server_cleanup() -> None:
    """No in-process server to clean up (see ``jp_asyncio_loop``)."""


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.skip(f"{CHROMIUM} is absent: `apt-get install chromium` (.ci/run does)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("the playwright Python package is not installed (pip install '.[test]')")
    if not BUILT.exists():
        pytest.fail(f"{BUILT} is missing: build the extension first (bash .ci/setup)")
    return CHROMIUM


@pytest.fixture(scope="session")
def lab(chromium_path: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """One ``jupyter lab`` for the browser tests, with a token, on SQLite of its own."""
    home = tmp_path_factory.mktemp("lab")
    root = home / "root"
    root.mkdir()
    (root / "panel_jobs.py").write_text(JOBS_MODULE)
    (root / "hello.ipynb").write_text(json.dumps(NOTEBOOK))
    port = _free_port()
    token = secrets.token_hex(16)
    log = home / "lab.log"
    args = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        f"--port={port}",
        "--ip=127.0.0.1",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        f"--JobExtApp.db_url=sqlite:///{home / 'jobext.db'}",
        f"--JobExtApp.results_dir={home / 'results'}",
        "--JobExtApp.kernel_pool_size=0",
        "--LabApp.news_url=",
    ]
    if os.geteuid() == 0:
        args.append("--allow-root")
    with log.open("w") as out:
        proc = subprocess.Popen(
            args, cwd=root, env=_lab_env(home), stdout=out, stderr=subprocess.STDOUT
        )
    server = Lab(f"http://127.0.0.1:{port}/", token, root, log)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if server.status("stats") == 200:
                    break
            except requests.ConnectionError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"jupyter lab did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # launch() gives every run a fresh temporary profile (user data dir).
        instance = p.chromium.launch(
            executable_path=chromium_path, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture
def page(browser: Any, lab: Lab, request: pytest.FixtureRequest) -> Iterator[Any]:
    """JupyterLab opened with a fresh workspace, the Jobs panel shown. Every request the page
    makes to the jobext API is recorded in ``page.jobext_urls``."""
    context = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 900})
    context.set_default_timeout(30_000)
    pg = context.new_page()
    urls: list[str] = []
    pg.on("request", lambda r: urls.append(r.url) if "/jobext/api/" in r.url else None)
    pg.jobext_urls = urls
    pg.goto(f"{lab.url}lab?reset&token={lab.token}")
    pg.wait_for_selector("#jp-jobext-panel", state="attached", timeout=60_000)
    try:
        yield pg
    finally:
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            shot(pg, f"FAILED-{request.node.name}")
        context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
