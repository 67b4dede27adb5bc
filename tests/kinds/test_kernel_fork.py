"""Kernels forked by the kernel fork server: real kernels, a real server, real notebook runs."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys

import psutil
import pytest
from jupyter_client.kernelspec import KernelSpec
from waiting import eventually_async

from jobext.kinds.kernel_fork import forkable
from notebooks import write_notebook

PROBE = (
    "import json, os, sys\n"
    "print(json.dumps({'pid': os.getpid(), 'ppid': os.getppid(), 'sid': os.getsid(0),"
    " 'cwd': os.getcwd(), 'path0': sys.path[0], 'marker': os.environ.get('JOBEXT_MARKER'),"
    " 'parent': os.environ.get('JPY_PARENT_PID')}))"
)


@pytest.fixture
def jobext_config():
    return {"kernel_pool_size": 1}


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _spec(**fields):
    return KernelSpec(
        argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        display_name="Python 3",
        language="python",
        **fields,
    )


def test_only_this_pythons_plain_ipykernel_is_forked():
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "/tmp/k.json"]
    assert forkable(argv, _spec())
    assert not forkable(argv, _spec(env={"A": "1"})), "its env may be read at import"
    assert not forkable(argv, _spec(metadata={"kernel_provisioner": {"provisioner_name": "x"}}))
    assert not forkable(["/usr/bin/python3", *argv[1:]], _spec()), "another interpreter"
    assert not forkable([sys.executable, "-m", "other_kernel", "-f", "k.json"], _spec())


def test_fork_kernels_false_leaves_the_pool_without_a_fork_server(tmp_path):
    from jobext.kinds.kernel_pool import KernelPool

    assert KernelPool(1, cwd=str(tmp_path), fork=False).forks is None
    assert KernelPool(1, cwd=str(tmp_path)).forks is not None


async def _probe(api, run_id):
    logs = [line["text"] for line in (await api.get(f"runs/{run_id}/logs")).json()["items"]]
    return json.loads(next(line for line in logs if line.startswith("{")))


async def _run_probe(api, job):
    run = await api.wait((await api.run(job))["id"], timeout=60)
    assert run["status"] == "succeeded", run["error"]
    return await _probe(api, run["id"])


async def test_a_notebook_runs_in_a_kernel_forked_as_a_started_one_would_be(
    api, jp_root_dir, jobext_app
):
    write_notebook(jp_root_dir / "sub" / "probe.ipynb", PROBE)
    await api.job("probe", "sub/probe.ipynb", kind="notebook")
    forks = jobext_app.kernels.forks
    await eventually_async(lambda: forks.ready, interval=0.1, message="the kernel fork server")
    seen = await _run_probe(api, "probe")
    assert seen["ppid"] == forks.pid, "forked by the kernel fork server"
    assert seen["sid"] == seen["pid"], "in a session of its own, as a started kernel is"
    assert seen["parent"] == str(forks.pid), "watches the process that forked it"
    assert seen["cwd"] == str(jp_root_dir / "sub"), "in the notebook's directory"
    # A pool kernel serves one run, then goes.
    await eventually_async(lambda: _gone(seen["pid"]), timeout=15, message="the kernel ending")


async def test_runs_beyond_the_pool_get_kernels_forked_on_the_spot(api, jp_root_dir, jobext_app):
    write_notebook(jp_root_dir / "probe.ipynb", PROBE)
    await api.job("probe", "probe.ipynb", kind="notebook", max_concurrent=4, queue_when_busy=True)
    forks = jobext_app.kernels.forks
    await eventually_async(lambda: forks.ready, interval=0.1, message="the kernel fork server")
    # A pool of one and two runs at once: the second finds the pool empty.
    runs = [(await api.run("probe"))["id"] for _ in range(2)]
    done = [await api.wait(run_id, timeout=60) for run_id in runs]
    assert [run["status"] for run in done] == ["succeeded"] * 2, [r["error"] for r in done]
    seen = [await _probe(api, run_id) for run_id in runs]
    assert [s["ppid"] for s in seen] == [forks.pid] * 2
    assert len({s["pid"] for s in seen}) == 2, "one kernel per run"


async def test_a_kernelspec_with_an_env_of_its_own_is_started_not_forked(
    api, jp_root_dir, jp_data_dir, jobext_app
):
    spec_dir = jp_data_dir / "kernels" / "marked"
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Python 3 (marked)",
                "language": "python",
                "env": {"JOBEXT_MARKER": "from the kernelspec"},
            }
        )
    )
    write_notebook(jp_root_dir / "probe.ipynb", PROBE)
    await api.job("marked", "probe.ipynb", kind="notebook", kernel="marked")
    seen = await _run_probe(api, "marked")
    assert seen["marker"] == "from the kernelspec"
    assert seen["ppid"] != jobext_app.kernels.forks.pid


async def test_without_its_fork_server_the_pool_starts_kernels_and_forks_again_later(
    api, jp_root_dir, jobext_app
):
    write_notebook(jp_root_dir / "probe.ipynb", PROBE)
    await api.job("probe", "probe.ipynb", kind="notebook")
    pool = jobext_app.kernels
    forks = pool.forks
    await eventually_async(lambda: pool.ready_count("python3") >= 1, interval=0.1, message="ready")
    ready = [km.provisioner.pid for km in pool._ready["python3"]]
    old = forks.pid
    os.kill(old, signal.SIGKILL)

    # Its kernels see their parent gone and end, as kernels end with their server.
    await eventually_async(
        lambda: all(_gone(pid) for pid in ready), timeout=15, message="orphaned kernels ending"
    )
    seen = await _run_probe(api, "probe")  # the dead kernel is never handed out
    assert seen["ppid"] != old
    # Started again on demand, once a pause after its death has passed: the next refill of
    # the pool waits for it, so within a few runs kernels are forked again.
    await asyncio.sleep(1.5)
    for _ in range(3):
        seen = await _run_probe(api, "probe")
        if seen["ppid"] == forks.pid:
            break
    assert forks.pid != old and seen["ppid"] == forks.pid, "forked again"


def test_a_kernel_that_ended_unreaped_counts_as_dead():
    """The run's handshake waits for a forked kernel while its process lives; a zombie (ended,
    not yet reaped by the process that started it) does not."""
    import subprocess
    import time

    from jobext.job.processes import process_lives

    ended = subprocess.Popen(["true"])
    deadline = time.monotonic() + 10
    while process_lives(ended.pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not process_lives(ended.pid)
    assert psutil.Process(ended.pid).status() == psutil.STATUS_ZOMBIE
    ended.wait()
    assert process_lives(os.getpid())
