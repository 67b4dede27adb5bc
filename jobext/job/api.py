"""The API a job uses from inside its process: ``import jobext`` and call these.

Outside a job (say, while trying a function in a notebook) they do nothing harmful: progress and
steps are printed, checkpoints return at once, and ``result_path`` points into a temp directory.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # not `from typing import`: job processes must not pay for typing
if TYPE_CHECKING:
    from pathlib import Path
    from types import TracebackType
    from typing import Any, Protocol

    class _Channel(Protocol):
        def send(self, message: dict[str, Any]) -> None: ...

        def checkpoint(self) -> None: ...

        @property
        def result_dir(self) -> str: ...


class JobStopped(BaseException):
    """Raised inside a job when it is asked to stop; a ``BaseException`` so that a job's own
    ``except Exception`` does not swallow it."""


_channel: _Channel | None = None
#: ``{batch_id, sub_job, iteration}`` when this run is an iteration of a batch's sub-job.
_batch: dict[str, Any] | None = None


def _install(channel: _Channel) -> None:
    global _channel
    _channel = channel


def batch_info() -> dict[str, Any] | None:
    """``{"batch_id", "sub_job", "iteration"}`` when this run is part of a batch (``sub_job``
    0-based, ``iteration`` 1-based); None otherwise (and outside a job)."""
    return dict(_batch) if _batch else None


def in_job() -> bool:
    """True inside a process that jobext started for a run."""
    return _channel is not None


def progress(fraction: float, message: str | None = None) -> None:
    """Report how far the job is, from 0.0 to 1.0, with an optional message."""
    value = min(1.0, max(0.0, float(fraction)))
    if _channel is None:
        print(f"[progress {value:.0%}] {message or ''}".rstrip())
        return
    _channel.send({"t": "progress", "fraction": value, "message": message})


def records_written(count: int) -> None:
    """Report how many records the job has written so far (shown as ``records_written``)."""
    if _channel is not None:
        _channel.send({"t": "records", "count": int(count)})


class step:
    """Mark a named step of the job; its start, end and outcome appear in the run's ``steps``."""

    def __init__(self, name: str):
        self.name = str(name)

    def __enter__(self) -> None:
        if _channel is not None:
            _channel.send({"t": "step", "name": self.name, "status": "running"})

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if _channel is None:
            return
        if exc is None:
            status = "succeeded"
        else:
            status = "stopped" if isinstance(exc, JobStopped) else "failed"
        _channel.send({"t": "step", "name": self.name, "status": status})


def checkpoint() -> None:
    """A safe point: a pause takes effect here (returning on resume); a stop raises
    :class:`JobStopped` here."""
    if _channel is not None:
        _channel.checkpoint()


def result_path(suffix: str = "") -> Path:
    """Where the job writes its result file; ``suffix`` such as ``".csv"`` gives its type.

    The file found there when the job ends becomes the run's downloadable result.
    """
    if suffix and not suffix.startswith("."):
        suffix = "." + suffix
    if os.sep in suffix or (os.altsep and os.altsep in suffix):
        raise ValueError("suffix must not contain a path separator")
    from pathlib import Path

    if _channel is None:
        import tempfile

        return Path(tempfile.mkdtemp(prefix="jobext-")) / f"result{suffix}"
    path = Path(_channel.result_dir) / f"result{suffix}"
    path.parent.mkdir(parents=True, exist_ok=True)
    _channel.send({"t": "result", "path": str(path)})
    return path
