"""Notebook jobs through a real server and real kernels."""

from __future__ import annotations

import asyncio
import json
import time

import nbformat
import psutil
import pytest
from waiting import eventually_async

from notebooks import write_notebook

PARAMS = {
    "text": "quotes ' \" and \\ backslash\nand a newline",
    "number": 3.5,
    "count": 7,
    "flag": True,
    "nothing": None,
    "items": [1, "two", [3]],
    "mapping": {"a": {"b": [1, 2]}, "ü": "✓"},
}


@pytest.fixture
def jobext_config():
    return {"kernel_pool_size": 1}


async def test_parameters_arrive_as_the_same_values(api, jp_root_dir):
    defaults = "\n".join(f"{name} = None" for name in PARAMS)
    write_notebook(
        jp_root_dir / "reports" / "params.ipynb",
        f"import json, os\nprint(json.dumps({{k: globals()[k] for k in {list(PARAMS)!r}}}))",
        "print('cwd', os.getcwd())",
        parameters=defaults,
    )
    await api.job("params", "reports/params.ipynb", kind="notebook")
    run = await api.wait((await api.run("params", PARAMS))["id"], timeout=60)
    assert run["status"] == "succeeded", run["error"]
    logs = [line["text"] for line in (await api.get(f"runs/{run['id']}/logs")).json()["items"]]
    printed = next(line for line in logs if line.startswith("{"))
    assert json.loads(printed) == PARAMS
    assert f"cwd {jp_root_dir / 'reports'}" in logs
    assert run["progress"] == 1.0
    assert len(run["steps"]) == 4  # parameters, injected parameters, two cells
    assert run["result"]["filename"] == f"params-{run['id']}.ipynb"
    executed = nbformat.reads((await api.get(f"runs/{run['id']}/result")).body.decode(), 4)
    tags = [c.metadata.get("tags", []) for c in executed.cells]
    assert tags.index(["injected-parameters"]) == tags.index(["parameters"]) + 1
    assert executed.cells[-2].outputs[0]["text"].startswith("{")


async def test_failing_cell_fails_the_run_and_keeps_the_partialwrite_notebook(api, jp_root_dir):
    write_notebook(jp_root_dir / "bad.ipynb", "print('before')", "1 / 0", "print('after')")
    await api.job("bad", "bad.ipynb", kind="notebook")
    run = await api.wait((await api.run("bad"))["id"], timeout=60)
    assert run["status"] == "failed"
    assert run["error"].startswith("ZeroDivisionError: division by zero")
    executed = nbformat.reads((await api.get(f"runs/{run['id']}/result")).body.decode(), 4)
    code = [c for c in executed.cells if c.cell_type == "code"]
    assert code[0].outputs[0]["text"] == "before\n"
    assert code[1].outputs[0]["output_type"] == "error"
    assert code[2].outputs == [] and code[2].execution_count is None
    logs = [line["text"] for line in (await api.get(f"runs/{run['id']}/logs")).json()["items"]]
    assert "after" not in logs


async def test_pause_between_cells_and_resume(api, jp_root_dir):
    cells = [f"import time; time.sleep(0.4); print('cell {i}')" for i in range(6)]
    write_notebook(jp_root_dir / "slow.ipynb", *cells)
    await api.job("slow", "slow.ipynb", kind="notebook")
    run = await api.run("slow")
    await api.wait_log(run["id"], "cell 1", timeout=60)
    await api.post(f"runs/{run['id']}/pause")
    await api.wait(run["id"], "paused", timeout=20)
    # Log lines are visible once written (every event_flush_s): let the last batch land.
    await asyncio.sleep(0.5)
    paused_logs = (await api.get(f"runs/{run['id']}/logs")).json()["items"]
    await asyncio.sleep(1.0)
    assert (await api.get(f"runs/{run['id']}/logs")).json()["items"] == paused_logs
    await api.post(f"runs/{run['id']}/resume")
    done = await api.wait(run["id"], timeout=60)
    assert done["status"] == "succeeded"
    await api.wait_log(run["id"], "cell 5")


async def test_stop_interrupts_the_running_cell(api, jp_root_dir):
    write_notebook(
        jp_root_dir / "long.ipynb",
        "import os; print('KPID', os.getpid(), flush=True)",
        "import time; time.sleep(120)",
    )
    await api.job("long", "long.ipynb", kind="notebook")
    run = await api.run("long")
    logs = await api.wait_log(run["id"], "KPID ", timeout=60)
    pid = int(next(line["text"] for line in logs if line["text"].startswith("KPID ")).split()[1])
    await asyncio.sleep(0.5)
    started = time.monotonic()
    await api.post(f"runs/{run['id']}/stop")
    done = await api.wait(run["id"], timeout=30)
    assert done["status"] == "stopped"
    assert time.monotonic() - started < 10
    await eventually_async(
        lambda: not psutil.pid_exists(pid) or psutil.Process(pid).status() == "zombie",
        timeout=15,
        interval=0.1,
        message="the kernel to end with its run (it outlived its run)",
    )
    assert done["result"] is not None  # the partial notebook


async def test_each_run_gets_a_fresh_kernel_from_the_pool(api, jp_root_dir, jobext_app):
    write_notebook(jp_root_dir / "pid.ipynb", "import os; print('kernel', os.getpid())")
    await api.job("pid", "pid.ipynb", kind="notebook")
    await eventually_async(
        lambda: jobext_app.kernels.ready_count("python3") >= 1,
        interval=0.1,
        message="a pre-started kernel",
    )
    pids = []
    for _ in range(2):
        run = await api.wait((await api.run("pid"))["id"], timeout=60)
        assert run["status"] == "succeeded", run["error"]
        logs = (await api.get(f"runs/{run['id']}/logs")).json()["items"]
        pids.append(next(line["text"] for line in logs if line["text"].startswith("kernel ")))
    assert pids[0] != pids[1]


@pytest.mark.parametrize("jobext_config", [{"kernel_pool_size": 0}])
async def test_without_a_pool_and_with_html(api, jp_root_dir, jobext_config):
    write_notebook(jp_root_dir / "h.ipynb", "print('hello html')")
    await api.job("h", "h.ipynb", kind="notebook", options={"html": True})
    run = await api.wait((await api.run("h"))["id"], timeout=60)
    assert run["status"] == "succeeded", run["error"]
    html = await api.get(f"runs/{run['id']}/result", params={"format": "html"})
    assert html.code == 200
    assert html.headers["Content-Type"].startswith("text/html")
    assert f'filename="h-{run["id"]}.html"' in html.headers["Content-Disposition"]
    assert b"hello html" in html.body
    assert (await api.get(f"runs/{run['id']}/result", params={"format": "pdf"})).code == 404


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"target": "../outside.ipynb"}, "target"),
        ({"target": "/etc/passwd.ipynb"}, "target"),
        ({"target": "missing.ipynb"}, "target"),
        ({"target": "jobs_lib.py"}, "target"),
        ({"target": "ok.ipynb", "kernel": "no-such-kernel"}, "kernel"),
        ({"target": "ok.ipynb", "options": {"colour": 1}}, "options"),
        ({"target": "ok.ipynb", "default_args": {"not a name": 1}}, "default_args"),
    ],
)
async def test_bad_notebook_jobs_are_refused(api, jp_root_dir, fields, field):
    write_notebook(jp_root_dir / "ok.ipynb", "print(1)")
    reply = await api.post("jobs", {"name": "nb", "kind": "notebook", **fields})
    assert reply.code == 400, reply
    assert reply.json()["field"] == field


async def test_a_dead_pool_kernel_is_never_handed_out(api, jp_root_dir, jobext_app):
    import os
    import signal

    write_notebook(jp_root_dir / "alive.ipynb", "print('alive')")
    await api.job("alive", "alive.ipynb", kind="notebook")
    pool = jobext_app.kernels
    await eventually_async(
        lambda: pool.ready_count("python3") >= 1, interval=0.1, message="a pre-started kernel"
    )
    for km in pool._ready["python3"]:
        os.kill(km.provisioner.pid, signal.SIGKILL)
    await asyncio.sleep(0.3)
    run = await api.wait((await api.run("alive"))["id"], timeout=60)
    assert run["status"] == "succeeded", run["error"]
