"""``@jobext.job``: marking is free and leaves the function as it is, and the name ``jobext.job``
is both the decorator and the package job processes import from."""

from __future__ import annotations

import subprocess
import sys

import jobext
from jobext.job import declare


def test_marking_leaves_the_function_as_it_is():
    @jobext.job
    def bare(x: int = 1) -> int:
        return x + 1

    @jobext.job(name="n", schedule="0 6 * * *", retries=2, args={"x": 3})
    def called(x: int = 1) -> int:
        return x * 2

    class Task:
        def run(self) -> str:
            return "ran"

    marked_class = jobext.job(description="a class")(Task)

    assert bare(1) == 2 and called(4) == 8 and marked_class is Task
    assert bare.__name__ == "bare" and called.__name__ == "called"
    assert bare.__jobext_job__ == {}  # type: ignore[attr-defined]
    assert called.__jobext_job__ == {  # type: ignore[attr-defined]
        "name": "n",
        "schedule": "0 6 * * *",
        "timezone": "UTC",
        "args": {"x": 3},
        "retries": 2,
    }
    assert Task.__jobext_job__ == {"description": "a class"}  # type: ignore[attr-defined]
    assert [obj for obj, _ in declare.declared[-3:]] == [bare, called, Task]


def test_the_decorator_and_the_job_package_share_the_name():
    code = """
import sys
import jobext
import jobext.job.runner
import jobext.job as job_name
from jobext.job import api, runner
from jobext import job

assert job is jobext.job and job_name is jobext.job
assert jobext.job.runner is runner and jobext.job.api is api
assert callable(jobext.job.runner.main)

@jobext.job(schedule="@daily")
def nightly():
    return "done"

assert nightly() == "done"
heavy = [m for m in sys.modules if m.split(".")[0] in
         ("jupyter_server", "tornado", "sqlalchemy", "sqlmodel", "pydantic")
         or m.startswith("jobext.apps")]
print(sorted(heavy))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
