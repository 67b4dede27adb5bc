"""Helpers of the browser tests: the REST client of the lab under test, screenshots, the panel."""

from __future__ import annotations

import contextlib
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

import requests

SCREENSHOTS = Path(__file__).parent / "screenshots"


class Lab:
    """A running ``jupyter lab`` and a REST client of its jobext API."""

    def __init__(self, url: str, token: str, root: Path, log: Path) -> None:
        self.url = url
        self.token = token
        self.root = root
        self.log = log
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"token {token}"

    def api(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        reply = self.session.request(
            method, f"{self.url}jobext/api/v1/{path}", json=body, params=params, timeout=30
        )
        if reply.status_code >= 400:
            raise AssertionError(f"{method} {path}: {reply.status_code} {reply.text}")
        return reply.json() if reply.content else None

    def status(self, path: str) -> int:
        return self.session.get(f"{self.url}jobext/api/v1/{path}", timeout=30).status_code

    def register(self, name: str, target: str, kind: str = "python", **extra: Any) -> Any:
        if self.status(f"jobs/{name}") == 200:
            self.api("DELETE", f"jobs/{name}")
        return self.api("POST", "jobs", {"name": name, "kind": kind, "target": target, **extra})

    def wait_run(self, run_id: int, statuses: set[str], timeout: float = 60) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            run = self.api("GET", f"runs/{run_id}")
            if run["status"] in statuses:
                return run
            if time.monotonic() > deadline:
                raise AssertionError(f"run {run_id} is {run['status']}, not in {statuses}")
            time.sleep(0.2)


def shot(page: Any, name: str, locator: Any = None) -> Path:
    """Write a screenshot to tests/browser/screenshots/ (git-ignored)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    (locator or page).screenshot(path=str(path))
    return path


def open_panel(page: Any) -> Any:
    """Show the Jobs side panel; the panel's locator."""
    panel = page.locator("#jp-jobext-panel")
    if not panel.is_visible():
        page.locator('.jp-SideBar [data-id="jp-jobext-panel"]').click()
    panel.wait_for(state="visible")
    return panel


def open_dialog(page: Any, has_text: str | None = None) -> Any:
    """The open dialog, once JupyterLab has put the focus in it. It focuses its first field
    only after the form has rendered: text typed before that may land in the wrong field."""
    found = (
        page.locator(".jp-Dialog", has_text=has_text) if has_text else page.locator(".jp-Dialog")
    )
    found.wait_for()
    page.wait_for_function("() => !!document.activeElement?.closest('.jp-Dialog')")
    return found


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


def chatty(n: int = 100_000):
    for i in range(n):
        print(f"line {i}")


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


@contextlib.contextmanager
def running_lab(home: Path, db: Path) -> Iterator[Lab]:
    """A ``jupyter lab`` with a token on the SQLite database ``db``, root dir ``home/root``."""
    root = home / "root"
    root.mkdir(exist_ok=True)
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
        f"--JobExtApp.db_url=sqlite:///{db}",
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


@contextlib.contextmanager
def lab_page(browser: Any, lab: Lab) -> Iterator[Any]:
    """JupyterLab opened with a fresh workspace. Every request the page makes to the jobext API
    is recorded in ``page.jobext_urls``; a test that fails leaves a screenshot."""
    context = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 900})
    context.set_default_timeout(30_000)
    pg = context.new_page()
    urls: list[str] = []
    pg.on("request", lambda r: urls.append(r.url) if "/jobext/api/" in r.url else None)
    pg.jobext_urls = urls
    pg.opened_at = time.perf_counter()
    pg.goto(f"{lab.url}lab?reset&token={lab.token}")
    pg.wait_for_selector("#jp-jobext-panel", state="attached", timeout=60_000)
    try:
        yield pg
    finally:
        context.close()
