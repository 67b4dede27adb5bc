"""Browser tests of the JupyterLab panel: a real ``jupyter lab`` (token authentication on) with
jobext and the built extension, driven by Playwright in Debian's Chromium.

Chromium is never downloaded: the tests use ``/usr/bin/chromium`` (``.ci/run`` installs it with
apt-get) and are skipped, saying why, only where it is absent.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .labpage import SCREENSHOTS, Lab, lab_page, running_lab, shot

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
    for stale in SCREENSHOTS.glob("FAILED-*.png"):
        stale.unlink()
    if not BUILT.exists():
        pytest.fail(f"{BUILT} is missing: build the extension first (bash .ci/setup)")
    return CHROMIUM


@pytest.fixture(scope="package")
def lab(chromium_path: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """One ``jupyter lab`` for the browser tests, with a token, on SQLite of its own."""
    home = tmp_path_factory.mktemp("lab")
    with running_lab(home, home / "jobext.db") as server:
        yield server


@pytest.fixture(scope="package")
def browser(chromium_path: str) -> Iterator[Any]:
    """Chromium, for this package only: Playwright's sync API keeps its event loop running in
    this thread while it is open, which would break every in-process server test after it."""
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
    """JupyterLab on the session's lab (see ``lab_page``)."""
    with lab_page(browser, lab) as pg:
        try:
            yield pg
        finally:
            report = getattr(request.node, "rep_call", None)
            if report is not None and report.failed:
                shot(pg, f"FAILED-{request.node.name}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
