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
        }


@dataclasses.dataclass(frozen=True)
class Outcome:
    """How a run's process ended: its exit status and the runner's ``end`` message, if any."""

    returncode: int | None
    end: dict[str, Any] | None


class ExecutorEvents(Protocol):
    def on_logs(self, run_id: int, lines: list[LogLine]) -> None: ...

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

    @abc.abstractmethod
    async def close(self) -> None:
        """Release what the executor holds besides runs (a fork server, a cluster client);
        called once every run has ended."""
