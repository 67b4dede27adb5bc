"""jobext: a Jupyter Server extension that makes a Jupyter server a job manager.

Inside a job, ``import jobext`` gives the job API: :func:`progress`, :func:`step`,
:func:`checkpoint`, :func:`result_path` and :func:`records_written`. This module stays light (it
is imported by every job process), so the server extension is loaded lazily.
"""

from __future__ import annotations

from jobext.job.api import (
    JobStopped,
    batch_info,
    checkpoint,
    in_job,
    progress,
    records_written,
    result_path,
    step,
)

TYPE_CHECKING = False  # not `from typing import`: job processes must not pay for typing
if TYPE_CHECKING:
    from typing import Any


__version__ = "0.1.0"

__all__ = [
    "JobStopped",
    "__version__",
    "batch_info",
    "checkpoint",
    "in_job",
    "progress",
    "records_written",
    "result_path",
    "step",
]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from jobext.app import JobExtApp

    return [{"module": "jobext", "app": JobExtApp}]
