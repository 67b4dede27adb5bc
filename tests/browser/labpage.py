"""Helpers of the browser tests: the REST client of the lab under test, screenshots, the panel."""

from __future__ import annotations

import time
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
