"""What the supervisor knows of a run whose process it owns, and how it judges the ending."""

from __future__ import annotations

import asyncio
import dataclasses
import mimetypes
from pathlib import Path
from typing import Any

from jobext.executors import Outcome
from jobext.states import RunStatus
from jobext.times import iso, utcnow

_MAX_MESSAGE = 2000


@dataclasses.dataclass
class LiveRun:
    """Progress, steps and result of a running run, as its process reported them."""

    run_id: int
    uuid: str
    kind: str
    job: str = ""
    progress: float | None = None
    message: str | None = None
    records: int | None = None
    steps: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    result_path: str | None = None
    progress_dirty: bool = False
    progress_saved_at: float = 0.0
    #: The status the process was last steered to (so a heartbeat applies only changes).
    applied: RunStatus = RunStatus.RUNNING
    timed_out: float | None = None
    shutdown: bool = False
    timers: list[asyncio.TimerHandle] = dataclasses.field(default_factory=list)

    def take(self, message: dict[str, Any]) -> None:
        """Record a ``progress``, ``records``, ``step`` or ``result`` message of the job."""
        kind = message.get("t")
        if kind == "progress":
            self.progress = message.get("fraction")
            if message.get("message") is not None:
                self.message = str(message["message"])[:_MAX_MESSAGE]
        elif kind == "records":
            self.records = message.get("count")
        elif kind == "step":
            self._step(str(message.get("name")), str(message.get("status")))
        elif kind == "result":
            self.result_path = message.get("path")
            return
        else:
            return
        self.progress_dirty = True

    def _step(self, name: str, status: str) -> None:
        now = iso(utcnow())
        if status == "running":
            self.steps.append({"name": name, "status": status, "started_at": now, "ended_at": None})
            return
        for step in reversed(self.steps):
            if step["name"] == name and step["status"] == "running":
                step.update(status=status, ended_at=now)
                return

    def progress_payload(self) -> dict[str, Any]:
        """The data of a ``progress`` event."""
        return {
            "progress": self.progress,
            "message": self.message,
            "records_written": self.records,
            "steps": self.steps,
        }

    def judge(
        self, outcome: Outcome, current: RunStatus
    ) -> tuple[RunStatus, str | None, int | None]:
        """How the run ended: from its exit, the runner's ``end`` message and what was asked of
        it (``current`` is its status when the process ended). Returns status, error, exit code.
        """
        end = outcome.end or {}
        code = outcome.returncode
        if self.timed_out is not None:
            return RunStatus.FAILED, f"timed out after {self.timed_out:g} s", code
        ended = end.get("status")
        error = end.get("error")
        if end.get("traceback"):
            error = f"{error}\n\n{end['traceback']}"
        exit_code = end.get("exit_code", code)
        if ended == "succeeded":
            return RunStatus.SUCCEEDED, None, exit_code
        if current is RunStatus.STOPPING or ended == "stopped":
            why = "stopped because the Jupyter server shut down" if self.shutdown else "stopped"
            return RunStatus.STOPPED, why, exit_code
        if ended == "failed":
            return RunStatus.FAILED, error or "failed", exit_code
        if code is not None and code < 0:
            return RunStatus.FAILED, f"the job's process was killed by signal {-code}", code
        return RunStatus.FAILED, f"the job's process exited with code {code} unexpectedly", code

    def final_fields(self, status: RunStatus, results_dir: Path) -> dict[str, Any]:
        """The columns to store with the final status."""
        fields: dict[str, Any] = self._result_fields(results_dir)
        if self.progress is not None:
            fields["progress"] = self.progress
        if status is RunStatus.SUCCEEDED:
            fields["progress"] = 1.0
        if self.message is not None:
            fields["message"] = self.message
        if self.records is not None:
            fields["records_written"] = self.records
        if self.steps:
            fields["steps"] = self.steps
        return fields

    def _result_fields(self, results_dir: Path) -> dict[str, Any]:
        """The result file, if the job wrote one inside the results dir."""
        if not self.result_path:
            return {}
        root = results_dir.resolve()
        path = Path(self.result_path).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            return {}
        return {
            "result_file": str(path.relative_to(root)),
            "result_size": path.stat().st_size,
            "result_media_type": mimetypes.guess_type(path.name)[0] or "application/octet-stream",
        }
