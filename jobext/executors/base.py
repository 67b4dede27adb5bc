"""The executor interface: start a run's process, steer it, report what it says and how it ended.

An executor knows processes, not the database: it reports to an :class:`ExecutorEvents` (the
supervisor), which owns every state change.
"""

from __future__ import annotations

import abc
import dataclasses
from pathlib import Path
from typing import Any, Protocol

#: ``(stream, level, text)`` of one log line; stream is stdout, stderr, log or jobext.
LogLine = tuple[str, str | None, str]


class LogBudget:
    """At most ``limit`` bytes of log lines per run (``c.JobExtApp.max_log_bytes``).

    Past the limit the run goes on, but its lines are dropped (and counted): the first line
    over it is replaced by one ``jobext`` line saying so, and the executor reports a
    ``{"t": "log_truncated"}`` message, which the supervisor publishes as a ``truncated``
    event. Lines are measured as UTF-8 text plus a newline.
    """

    def __init__(self, limit: int | None):
        self.limit = limit
        self.kept = 0
        self.dropped_lines = 0
        self.dropped_bytes = 0

    @property
    def exhausted(self) -> bool:
        return self.limit is not None and self.kept >= self.limit

    def admit(self, lines: list[LogLine]) -> tuple[list[LogLine], dict[str, Any] | None]:
        """The lines to keep, and the truncation message when these lines cross the limit."""
        if self.limit is None:
            return lines, None
        if self.exhausted:
            self.drop(sum(_size(text) for _, _, text in lines), len(lines))
            return [], None
        kept: list[LogLine] = []
        for index, line in enumerate(lines):
            size = _size(line[2])
            if self.kept + size > self.limit:
                rest = lines[index:]
                self.drop(sum(_size(text) for _, _, text in rest), len(rest))
                self.kept = self.limit
                note = (
                    f"the log reached max_log_bytes ({self.limit:,} bytes): the run goes on, "
                    "its further output is not kept"
                )
                kept.append(("jobext", "WARNING", note))
                return kept, {"t": "log_truncated", "max_log_bytes": self.limit, "message": note}
            self.kept += size
            kept.append(line)
        return kept, None

    def drop(self, size: int, count: int) -> None:
        """Count output dropped without being split into lines."""
        self.dropped_bytes += size
        self.dropped_lines += count

    def summary(self) -> LogLine | None:
        """A closing line saying how much was dropped (None when nothing was)."""
        if not self.dropped_lines and not self.dropped_bytes:
            return None
        text = (
            f"{self.dropped_lines:,} lines ({self.dropped_bytes:,} bytes) of output were dropped"
            f" past max_log_bytes ({self.limit:,} bytes)"
        )
        return ("jobext", "WARNING", text)


def _size(text: str) -> int:
    return (len(text) if text.isascii() else len(text.encode())) + 1


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """What a job's process needs to know to run."""

    run_id: int
    uuid: str
    job: str
    kind: str
    target: str
    args: Any
    result_dir: Path
    cwd: str
    #: What the kind needs besides target and args (see ``jobext.kinds.server``).
    options: dict[str, Any] = dataclasses.field(default_factory=dict)
    #: ``{batch_id, sub_job, iteration}`` of a batch's run (``jobext.batch_info()``).
    batch: dict[str, Any] | None = None
    #: The worker (its id) the run must execute on, when a batch pinned it to a worker other
    #: than this server (a Dask worker); None: any.
    worker: str | None = None

    def payload(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "uuid": self.uuid,
            "job": self.job,
            "kind": self.kind,
            "target": self.target,
            "args": self.args,
            "result_dir": str(self.result_dir),
            "options": self.options,
            "batch": self.batch,
        }


@dataclasses.dataclass(frozen=True)
class Outcome:
    """How a run's process ended: its exit status and the runner's ``end`` message, if any."""

    returncode: int | None
    end: dict[str, Any] | None


class ExecutorEvents(Protocol):
    def on_logs(self, run_id: int, lines: list[LogLine]) -> None: ...

    async def log_room(self) -> None:
        """Return once more log lines may be passed on: an executor reading a flood waits
        here, and the job's pipe, then its ``print``, wait in turn (a bounded backlog)."""

    def on_message(self, run_id: int, message: dict[str, Any]) -> None: ...

    def on_exit(self, run_id: int, outcome: Outcome) -> None: ...


class Executor(abc.ABC):
    """Runs jobs somewhere and lets the supervisor steer them."""

    name: str = "executor"

    @abc.abstractmethod
    async def start(self, spec: RunSpec, events: ExecutorEvents) -> int | None:
        """Start the run's process; return its pid where there is one."""

    @abc.abstractmethod
    def pause(self, run_id: int) -> None:
        """Ask the run to pause (it reports ``{"t": "paused"}`` once it has)."""

    @abc.abstractmethod
    def resume(self, run_id: int) -> None:
        """Let a paused (or pausing) run go on."""

    @abc.abstractmethod
    def stop(self, run_id: int) -> None:
        """Ask the run to end now, gracefully (checkpoint or SIGTERM)."""

    @abc.abstractmethod
    def kill(self, run_id: int) -> None:
        """End the run and everything it started, at once."""

    @abc.abstractmethod
    def kill_leftovers(self, uuid: str) -> None:
        """End every process that run ``uuid`` left where this executor runs jobs, whether this
        executor started it or a previous life of the server did (after a crash, or a stop
        forced while the server did not own the process). Returns at once; the search (a scan
        of /proc, here) happens off the event loop."""

    @abc.abstractmethod
    def running(self) -> list[int]:
        """Ids of the runs whose processes are alive."""

    @abc.abstractmethod
    async def wait_all(self, timeout: float) -> None:
        """Wait until every process has ended and been reported, or ``timeout`` passes."""

    def open(self) -> None:
        """The server started: begin what the executor keeps up besides runs (the Dask one
        connects and registers the cluster's workers). Returns at once."""
        return None

    def placeable_workers(self) -> set[str]:
        """Ids of workers other than this server that this executor may place runs on now (a
        run pinned to one of them is this server's to claim); none for the local executor."""
        return set()

    @abc.abstractmethod
    async def close(self) -> None:
        """Release what the executor holds besides runs (a fork server, a cluster client);
        called once every run has ended."""
