"""The run state machine: the one place that says which transition is legal.

Every writer of a run's status (the REST API through the service, the supervisor when a process
reports or exits, startup recovery) asks :func:`check_transition` first.
"""

from __future__ import annotations

import enum

from jobext.errors import Conflict, Invalid


class RunStatus(str, enum.Enum):
    """Where a run is in its life."""

    #: Waiting for a free worker slot (or for its job's other runs to finish).
    QUEUED = "queued"
    #: Its process is running.
    RUNNING = "running"
    #: A pause was asked for; it takes effect at the job's next checkpoint.
    PAUSING = "pausing"
    #: Halted at a checkpoint; resume continues from there.
    PAUSED = "paused"
    #: A graceful stop was asked for; the process is ending.
    STOPPING = "stopping"
    #: Finished without error. Final.
    SUCCEEDED = "succeeded"
    #: Ended with an error, a non-zero exit, a timeout or a lost server. Final.
    FAILED = "failed"
    #: Ended because somebody stopped it. Final.
    STOPPED = "stopped"

    @property
    def is_final(self) -> bool:
        return self in FINAL

    def __str__(self) -> str:
        return self.value


class Trigger(str, enum.Enum):
    """What made a run."""

    MANUAL = "manual"
    SCHEDULE = "schedule"
    BATCH = "batch"
    RESTART = "restart"
    RETRY = "retry"


FINAL = frozenset({RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.STOPPED})
IN_PROGRESS = frozenset(set(RunStatus) - FINAL)
#: Statuses in which a run occupies a worker slot (it has a live process).
ACTIVE = frozenset({RunStatus.RUNNING, RunStatus.PAUSING, RunStatus.PAUSED, RunStatus.STOPPING})

_ENDINGS = {RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.STOPPED}

#: status -> the statuses that may follow it.
TRANSITIONS: dict[RunStatus, frozenset[RunStatus]] = {
    RunStatus.QUEUED: frozenset({RunStatus.RUNNING, RunStatus.STOPPED, RunStatus.FAILED}),
    RunStatus.RUNNING: frozenset({RunStatus.PAUSING, RunStatus.STOPPING, *_ENDINGS}),
    # A job may finish before it reaches the checkpoint where the pause would take effect.
    RunStatus.PAUSING: frozenset(
        {RunStatus.PAUSED, RunStatus.RUNNING, RunStatus.STOPPING, *_ENDINGS}
    ),
    RunStatus.PAUSED: frozenset({RunStatus.RUNNING, RunStatus.STOPPING, *_ENDINGS}),
    # A job that completes its work before it honours the stop is recorded as what it was.
    RunStatus.STOPPING: frozenset(_ENDINGS),
    RunStatus.SUCCEEDED: frozenset(),
    RunStatus.FAILED: frozenset(),
    RunStatus.STOPPED: frozenset(),
}

#: Grouped names accepted by status filters (OpenSpecimen's spelling).
GROUPS: dict[str, frozenset[RunStatus]] = {
    "IN_PROGRESS": IN_PROGRESS,
    "SUCCEEDED": frozenset({RunStatus.SUCCEEDED}),
    "FAILED": frozenset({RunStatus.FAILED}),
    "STOPPED": frozenset({RunStatus.STOPPED}),
    "FINISHED": FINAL,
}


def can_transition(current: RunStatus, new: RunStatus) -> bool:
    """True when ``new`` may follow ``current``."""
    return new in TRANSITIONS[current]


def check_transition(current: RunStatus, new: RunStatus, *, action: str) -> None:
    """Raise :class:`Conflict` naming ``action`` when ``new`` may not follow ``current``."""
    if not can_transition(current, new):
        raise Conflict(
            f"cannot {action} a run that is {current.value}",
            reason="illegal_transition",
        )


def parse_status_filter(value: str) -> frozenset[RunStatus]:
    """Parse ``queued``, ``failed,stopped`` or a group such as ``IN_PROGRESS``.

    Raises :class:`Invalid` on the ``status`` field for any unknown name.
    """
    wanted: set[RunStatus] = set()
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        if part in GROUPS:
            wanted |= GROUPS[part]
            continue
        try:
            wanted.add(RunStatus(part.lower()))
        except ValueError:
            known = ", ".join([s.value for s in RunStatus] + list(GROUPS))
            raise Invalid("status", f"unknown status {part!r}; use one of {known}") from None
    if not wanted:
        raise Invalid("status", "names no status")
    return frozenset(wanted)
