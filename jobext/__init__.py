"""jobext: a Jupyter Server extension that makes a Jupyter server a job manager.

Inside a job, ``import jobext`` gives the job API: :func:`progress`, :func:`step`,
:func:`checkpoint`, :func:`result_path` and :func:`records_written`. In an app's module,
``@jobext.job`` marks a function as a job (:mod:`jobext.job.declare`). This module stays light (it
is imported by every job process), so the server extension is loaded lazily.
"""

from __future__ import annotations

import sys

from jobext.job import declare as _declare
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
    from collections.abc import Callable
    from typing import Any, TypeVar, overload

    _F = TypeVar("_F", bound=Callable[..., Any])


__version__ = "0.1.0"


class _JobDecorator:
    """``@jobext.job`` or ``@jobext.job(name=None, description=None, schedule=None,
    timezone="UTC", args=None, **job_options)`` marks a function as a job of an app; see
    :func:`jobext.job.declare.job`.

    ``jobext/job/`` is also the package of what job processes import; its modules stay
    reachable through this name (``import jobext.job.runner`` then ``jobext.job.runner``),
    because attribute lookups that are not the decorator's go to that package.
    """

    if TYPE_CHECKING:

        @overload
        def __call__(self, name: _F, /) -> _F: ...

        @overload
        def __call__(
            self,
            name: str | None = None,
            description: str | None = None,
            schedule: str | dict[str, Any] | None = None,
            timezone: str = "UTC",
            args: Any = None,
            **job_options: Any,
        ) -> Callable[[_F], _F]: ...

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return _declare.job(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(sys.modules["jobext.job"], name)

    def __repr__(self) -> str:
        return "<jobext.job: the job decorator>"


# Bound after the subpackage jobext.job was imported above: a later `import jobext.job...` finds
# it in sys.modules and no longer sets this attribute.
job = _JobDecorator()

__all__ = [
    "JobStopped",
    "__version__",
    "batch_info",
    "checkpoint",
    "in_job",
    "job",
    "progress",
    "records_written",
    "result_path",
    "step",
]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from jobext.app import JobExtApp

    return [{"module": "jobext", "app": JobExtApp}]
