"""Every notebook in ``notebooks/`` runs top to bottom, unedited, against a live server, says what
it should, and cleans up after itself.

One ``jupyter server`` subprocess (own Jupyter dirs, SQLite database and results) serves a copy of
``notebooks/`` as its root dir, with the ``examples`` query connection that ``.ci/lab`` configures;
each notebook runs in a fresh kernel (nbclient) that finds the server through ``JOBEXT_URL`` and
``JOBEXT_TOKEN``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
import requests
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).parent.parent / "notebooks"
START_TIMEOUT = 120.0

#: What each notebook must print (in its outputs, in order of appearance).
EXPECTED: dict[str, list[str]] = {
    "quickstart.ipynb": [
        "jobext at http://127.0.0.1:",
        "succeeded in",
        "12 records",
        "row 0",
        "close succeeded",
        "2 runs, 2 succeeded",
        "deleted quickstart-export: True",
    ],
    "saved_query_export.ipynb": [
        "connection 'examples': sqlite",
        "500 sales in examples.db",
        "sales-by-region query {'since': '2026-01-01'}",
        "succeeded, 12 rows, result sales-by-region-",
        "saved sales-by-region-",
        "revenue",
        "2026-10-25T02:30:00+02:00",
        "schedule ",
        "cleaned up",
    ],
    "operations.ipynb": [
        "paused at",
        "stopping",
        "stopped - stopped",
        "409 illegal_transition",
        "trigger restart, restarted from",
        "failed - TypeError",
        "409 in_progress",
        "is stopped now",
        "404 no run with id",
        "trigger schedule",
        "'started'",
        "deleted ops-demo",
    ],
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    def __init__(self, base: Path, *, with_examples: bool = True):
        self.root = base / "notebooks"
        shutil.copytree(NOTEBOOKS, self.root, ignore=shutil.ignore_patterns(".*", "*.db", "*.csv"))
        self.token = secrets.token_hex(16)
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log = base / "server.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JOBEXT_", "JUPYTER_"))}
        for name in ("data", "runtime", "config"):
            (base / name).mkdir()
            env[f"JUPYTER_{name.upper()}_DIR"] = str(base / name)
        env["JUPYTER_PLATFORM_DIRS"] = "1"
        connections = (
            {"examples": f"sqlite:///{self.root / 'examples.db'}"} if with_examples else {}
        )
        command = [
            sys.executable,
            "-m",
            "jupyter_server",
            "--allow-root",
            "--no-browser",
            f"--port={self.port}",
            "--ServerApp.port_retries=0",
            "--ServerApp.ip=127.0.0.1",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
            "--ServerApp.jpserver_extensions={'jobext': True}",
            f"--JobExtApp.db_url=sqlite:///{base / 'jobext.db'}",
            f"--JobExtApp.results_dir={base / 'results'}",
            f"--JobExtApp.connections={connections!r}",
            "--JobExtApp.max_workers=4",
        ]
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env
            )
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"token {self.token}"

    def get(self, path: str) -> Any:
        reply = self.http.get(f"{self.url}jobext/api/v1/{path}", timeout=30)
        reply.raise_for_status()
        return reply.json()

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            with contextlib.suppress(requests.RequestException):
                if self.http.get(f"{self.url}jobext/api/v1/stats", timeout=5).ok:
                    return
            time.sleep(0.2)
        raise AssertionError(f"the server did not start:\n{self.tail()}")

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        self.http.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = Server(tmp_path_factory.mktemp("example-notebooks"))
    try:
        running.wait_ready()
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def bare_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server without the ``examples`` connection."""
    running = Server(tmp_path_factory.mktemp("bare-server"), with_examples=False)
    try:
        running.wait_ready()
        yield running
    finally:
        running.stop()


def _texts(nb: Any) -> tuple[str, list[str]]:
    """All text output of the notebook, and the error outputs' names and values."""
    texts, errors = [], []
    for cell in nb.cells:
        previous = None
        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                # A kernel may split one print() over several stream messages.
                if previous is not None and previous.get("name") == output.name:
                    texts[-1] += output.text
                else:
                    texts.append(output.text)
                if output.name == "stderr" and "Traceback" in output.text:
                    errors.append(output.text)
            elif output.output_type in ("execute_result", "display_data"):
                texts.append(output.data.get("text/plain", ""))
            elif output.output_type == "error":
                errors.append(f"{output.ename}: {output.evalue}")
            previous = output if output.output_type == "stream" else None
    return "\n".join(texts), errors


def _widget_views(nb: Any) -> int:
    return sum(
        1
        for cell in nb.cells
        for output in cell.get("outputs", [])
        if "application/vnd.jupyter.widget-view+json" in output.get("data", {})
    )


def _execute(server: Server, name: str, monkeypatch: Any, tmp_path: Path) -> Any:
    """Run notebook ``name`` of ``server``'s root dir in a fresh kernel; the executed notebook."""
    monkeypatch.setenv("JOBEXT_URL", server.url)
    monkeypatch.setenv("JOBEXT_TOKEN", server.token)
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    nb = nbformat.read(server.root / name, as_version=4)
    client = NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(server.root)}},
    )
    try:
        client.execute()
    except Exception as exc:
        raise AssertionError(f"{name} failed: {exc}\n\nserver log:\n{server.tail()}") from None
    return nb


def _files(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name != "__pycache__")


@pytest.mark.parametrize("name", sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")))
def test_example_notebook_runs_and_cleans_up(server, name, monkeypatch, tmp_path):
    before = _files(server.root)
    nb = _execute(server, name, monkeypatch, tmp_path)

    text, errors = _texts(nb)
    assert errors == [], f"{name}: {errors}"
    position = 0
    for expected in EXPECTED.get(name, []):
        found = text.find(expected, position)
        assert found >= 0, f"{name}: {expected!r} not in its output (after {position}):\n{text}"
        position = found
    assert _widget_views(nb) >= 1, f"{name} shows no widget"

    # It cleaned up after itself: no jobs, no schedules, no files left behind.
    assert server.get("jobs")["items"] == []
    assert server.get("schedules")["items"] == []
    assert _files(server.root) == before


def test_saved_query_notebook_skips_without_the_examples_connection(
    bare_server, monkeypatch, tmp_path
):
    before = _files(bare_server.root)
    nb = _execute(bare_server, "saved_query_export.ipynb", monkeypatch, tmp_path)
    text, errors = _texts(nb)
    assert errors == []
    assert "SKIPPED: this Jupyter server has no query connection named 'examples'" in text
    assert "--JobExtApp.connections=" in text and "cleaned up" in text
    assert _widget_views(nb) == 0
    assert bare_server.get("jobs")["items"] == []
    assert _files(bare_server.root) == before
