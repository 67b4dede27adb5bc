"""The in-job API used outside a job: harmless, and useful for trying a job function."""

from __future__ import annotations

import pytest

import jobext


def test_outside_a_job(capsys):
    assert not jobext.in_job()
    jobext.progress(0.5, "half")
    assert "[progress 50%] half" in capsys.readouterr().out
    jobext.checkpoint()
    jobext.records_written(3)
    with jobext.step("s"):
        pass
    path = jobext.result_path("csv")
    assert path.name == "result.csv"
    assert path.parent.is_dir()


def test_result_suffix_cannot_escape():
    with pytest.raises(ValueError):
        jobext.result_path("../x")


def test_importing_jobext_stays_light():
    import subprocess
    import sys

    code = "import sys, jobext; print(sorted(m for m in sys.modules if m.split('.')[0] in ('jupyter_server', 'tornado', 'sqlalchemy', 'sqlmodel')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
