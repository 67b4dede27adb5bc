"""The discovery process (``jobext.apps.discover``, run by ``jobext.apps.plan.discover``): what
it reports of an app's code, and that the app's code can neither fool nor hold it."""

from __future__ import annotations

import compileall
import os
import textwrap
from pathlib import Path

import pytest
from waiting import eventually_async

from jobext.apps.plan import Source, discover
from jobext.errors import Invalid


async def found(tmp_path: Path, source: Source, timeout_s: float = 30.0) -> dict:
    return await discover(source, job_dir=tmp_path, root=tmp_path, timeout_s=timeout_s)


def write(path: Path, text: str, mtime: int | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    if mtime is not None:
        os.utime(path, (mtime, mtime))


async def test_the_code_is_read_from_its_source_not_stale_bytecode(tmp_path: Path) -> None:
    module = tmp_path / "same_size.py"
    write(module, "import jobext\n\n@jobext.job(retries=1)\ndef f(): pass\n", mtime=1_700_000_000)
    compileall.compile_file(str(module), quiet=1)
    # The same size and second: Python's own check would take the cached bytecode.
    write(module, "import jobext\n\n@jobext.job(retries=2)\ndef f(): pass\n", mtime=1_700_000_000)
    answer = await found(tmp_path, Source(module="same_size"))
    assert [j["options"] for j in answer["jobs"]] == [{"retries": 2}]


async def test_output_and_threads_of_the_code_do_not_disturb_it(tmp_path: Path) -> None:
    write(
        tmp_path / "noisy.py",
        """
        import os, sys, threading, time
        import jobext

        print("not JSON", flush=True)
        os.write(1, b"{ raw bytes on fd 1")
        sys.stderr.write("warning\\n")
        threading.Thread(target=time.sleep, args=(60,)).start()  # not a daemon


        @jobext.job
        def work():
            pass
        """,
    )
    answer = await found(tmp_path, Source(module="noisy"))
    assert [j["target"] for j in answer["jobs"]] == ["noisy:work"]


async def test_what_cannot_be_a_job_is_refused(tmp_path: Path) -> None:
    write(
        tmp_path / "nested.py",
        """
        import jobext


        def outer():
            @jobext.job
            def inner():
                pass


        outer()
        """,
    )
    with pytest.raises(Invalid) as refused:
        await found(tmp_path, Source(module="nested"))
    assert "outer.<locals>.inner is not reachable as nested:outer.<locals>.inner" in str(
        refused.value
    )
    assert "nested.py:6" in str(refused.value)

    write(tmp_path / "app" / "json.py", "VALUE = 1\n")
    with pytest.raises(Invalid) as taken:
        await found(tmp_path, Source(path="app"))
    assert taken.value.field == "path" and "'json' is taken" in str(taken.value)


async def test_code_that_hangs_is_stopped_with_what_it_started(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    write(
        tmp_path / "hangs.py",
        f"""
        import subprocess, time

        child = subprocess.Popen(["sleep", "60"])
        open({str(pid_file)!r}, "w").write(str(child.pid))
        time.sleep(60)
        """,
    )
    with pytest.raises(Invalid) as refused:
        await found(tmp_path, Source(module="hangs"), timeout_s=2.0)
    assert refused.value.reason == "import_timeout" and refused.value.field == "module"
    pid = int(pid_file.read_text())

    def gone() -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        # A zombie until its parent (killed too) is reaped by init.
        try:
            return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
        except OSError:
            return True

    await eventually_async(gone, message=f"the code's child process {pid} to be killed")
