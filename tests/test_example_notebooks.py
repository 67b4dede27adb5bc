"""Every notebook in ``notebooks/`` runs top to bottom, unedited, against a live server, says what
it should, and cleans up after itself.

One ``jupyter server`` subprocess (own Jupyter dirs, SQLite database and results) serves a copy of
``notebooks/`` as its root dir, with the ``examples`` query connection that ``.ci/lab`` configures;
each notebook runs in a fresh kernel (nbclient) that finds the server through ``JOBEXT_URL`` and
``JOBEXT_TOKEN``.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from bench.server import JupyterServer

NOTEBOOKS = Path(__file__).parent.parent / "notebooks"

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
    "batches.ipynb": [
        "registered batch-demo",
        "paused at iterations",
        "runs in progress: 0",
        "completed: 100% complete, counts {'completed': 6}",
        "18 runs, each (sub-job, iteration) once: True",
        ", iteration ",
        "409 managed_by_batch - run ",
        "managed by batch ",
        "failed - 2 run(s) failed, more than failures_to_ignore=1",
        "stopped | percent complete shown: False",
        "batches deleted: 3",
        "deleted batch-demo",
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


def _server(base: Path, *, with_examples: bool = True) -> JupyterServer:
    """A server of a copy of ``notebooks/`` (and, unless told, its ``examples`` connection)."""
    root = base / "notebooks"
    shutil.copytree(NOTEBOOKS, root, ignore=shutil.ignore_patterns(".*", "*.db", "*.csv"))
    connections = {"examples": f"sqlite:///{root / 'examples.db'}"} if with_examples else {}
    return JupyterServer(
        name="example-notebooks",
        workdir=base,
        root_dir=root,
        config={"connections": connections, "max_workers": 4},
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    with _server(tmp_path_factory.mktemp("example-notebooks")) as running:
        yield running


@pytest.fixture(scope="module")
def bare_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    """A server without the ``examples`` connection."""
    with _server(tmp_path_factory.mktemp("bare-server"), with_examples=False) as running:
        yield running


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


def _execute(server: JupyterServer, name: str, monkeypatch: Any, tmp_path: Path) -> Any:
    """Run notebook ``name`` of ``server``'s root dir in a fresh kernel; the executed notebook."""
    monkeypatch.setenv("JOBEXT_URL", f"{server.base}/")
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
        raise AssertionError(f"{name} failed: {exc}\n\nserver log:\n{server.log_tail()}") from None
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
