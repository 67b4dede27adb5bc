"""The run state machine and the ONE actions table.

:data:`RUN_ACTIONS` says what a user may do to a run in each status and what the run becomes:
the managers enforce it, the widgets and the JupyterLab panel enable their buttons from it (it
is published in the OpenAPI document as ``x-jobext-actions``); :data:`BATCH_ACTIONS` and
:data:`WORKER_ACTIONS` do the same for batches and workers. :data:`TRANSITIONS` says which
status may follow which when the system itself moves a run (a process starts, halts or ends, a
dead server's run is settled); every writer of a run's status asks :func:`check_transition`.
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


class RunAction(str, enum.Enum):
    """What a user can do to a run."""

    #: Graceful stop: a queued run stops at once, a running one is ``stopping`` until it ends.
    STOP = "stop"
    #: ``stop?force=true``: ``stopped`` at once whatever the run is doing (also recovers a run
    #: that a crash left in progress).
    FORCE_STOP = "force_stop"
    #: Halt at the job's next checkpoint.
    PAUSE = "pause"
    #: Go on from where it halted.
    RESUME = "resume"
    #: A NEW run with the same args; this one is kept as it is.
    RESTART = "restart"
    #: Delete the run with its log and result.
    REMOVE = "remove"

    def __str__(self) -> str:
        return self.value


_S = RunStatus
_A = RunAction

#: ``(action, from-status) → to-status``; a pair that is missing is refused (409). A pair that
#: maps a status to itself is accepted and changes nothing (asking twice is not an error).
#: ``restart`` names the status of the NEW run (the old one is kept as it is); ``remove``
#: leaves nothing (None).
RUN_ACTIONS: dict[tuple[RunAction, RunStatus], RunStatus | None] = {
    (_A.STOP, _S.QUEUED): _S.STOPPED,
    (_A.STOP, _S.RUNNING): _S.STOPPING,
    (_A.STOP, _S.PAUSING): _S.STOPPING,
    (_A.STOP, _S.PAUSED): _S.STOPPING,
    (_A.STOP, _S.STOPPING): _S.STOPPING,
    **{(_A.FORCE_STOP, status): _S.STOPPED for status in IN_PROGRESS},
    (_A.PAUSE, _S.RUNNING): _S.PAUSING,
    (_A.PAUSE, _S.PAUSING): _S.PAUSING,
    (_A.PAUSE, _S.PAUSED): _S.PAUSED,
    (_A.RESUME, _S.PAUSING): _S.RUNNING,
    (_A.RESUME, _S.PAUSED): _S.RUNNING,
    (_A.RESTART, _S.FAILED): _S.QUEUED,
    (_A.RESTART, _S.STOPPED): _S.QUEUED,
    **{(_A.REMOVE, status): None for status in FINAL},
}


def run_action_target(action: RunAction, current: RunStatus) -> RunStatus | None:
    """What a run in ``current`` becomes by ``action``; :class:`Conflict` when it may not."""
    if (action, current) not in RUN_ACTIONS:
        verb = "stop (force)" if action is RunAction.FORCE_STOP else action.value
        raise Conflict(f"cannot {verb} a run that is {current.value}", reason="illegal_transition")
    return RUN_ACTIONS[(action, current)]


def allowed_run_actions(current: RunStatus) -> frozenset[RunAction]:
    """The actions :data:`RUN_ACTIONS` allows on a run in ``current`` that change something
    (what a client offers as a button)."""
    return frozenset(
        action
        for (action, status), target in RUN_ACTIONS.items()
        if status is current and target is not current
    )


def actions_document() -> dict[str, dict[str, dict[str, str | None]]]:
    """The actions tables as JSON: ``{"run": {action: {from-status: to-status}}, "batch":
    {directive: {from-status: to-status}}, "worker": {action: {from-status: to-status}}}``."""
    runs: dict[str, dict[str, str | None]] = {}
    for (action, current), target in RUN_ACTIONS.items():
        runs.setdefault(action.value, {})[current.value] = target.value if target else None
    batches: dict[str, dict[str, str | None]] = {}
    for (directive, status), to in BATCH_ACTIONS.items():
        batches.setdefault(directive.value, {})[status.value] = to.value
    workers: dict[str, dict[str, str | None]] = {}
    for (worker_action, worker_status), worker_to in WORKER_ACTIONS.items():
        workers.setdefault(worker_action.value, {})[worker_status.value] = worker_to.value
    return {"run": runs, "batch": batches, "worker": workers}


class BatchStatus(str, enum.Enum):
    """Where a batch is in its life (seed 000's eleven statuses)."""

    #: Made with ``start: false``; nothing has run.
    CREATED = "created"
    #: Its sub-jobs are being started, ``jobs_per_second`` at a time.
    STARTING = "starting"
    #: ``start`` on a batch with runs: they are stopped and cleared, then it starts afresh.
    RESTARTING = "re-starting"
    #: Every sub-job has started; they go through their iterations.
    RUNNING = "running"
    #: Every iteration of every sub-job is done, failures within ``failures_to_ignore``.
    COMPLETED = "completed"
    #: More runs failed than ``failures_to_ignore``; nothing new starts.
    FAILED = "failed"
    #: Held: no run in progress; ``unpause`` goes on at each sub-job's next iteration.
    PAUSED = "paused"
    #: Running runs finish; no sub-job starts another iteration.
    PAUSING = "pausing"
    #: Stopped by ``stop``; its progress is reset (``start`` begins again).
    STOPPED = "stopped"
    #: Its running runs are being stopped.
    STOPPING = "stopping"
    #: It cannot go on (job deleted, target gone, worker gone): ``error`` says why.
    INVALID = "invalid"

    def __str__(self) -> str:
        return self.value


class BatchDirective(str, enum.Enum):
    """What a user can tell a batch (seed 000's directives)."""

    #: Clear the sub-jobs' results and start every sub-job from its first iteration.
    START = "start"
    #: Stop the running run of every sub-job and reset the batch's progress.
    STOP = "stop"
    #: Let running runs finish; hold each sub-job before its next iteration.
    PAUSE = "pause"
    #: Go on at the iteration where each sub-job was held.
    UNPAUSE = "unpause"

    def __str__(self) -> str:
        return self.value


_B = BatchStatus
_D = BatchDirective
#: Batches that a server drives (holds the lease of) while they are in these statuses.
BATCH_DRIVEN = frozenset({_B.STARTING, _B.RESTARTING, _B.RUNNING, _B.PAUSING, _B.STOPPING})

#: ``(directive, from-status) → to-status`` of batches; a missing pair is refused (409), a pair
#: that maps a status to itself is accepted and changes nothing. ``start`` on a batch that has
#: runs goes through ``re-starting`` (runs stopped and cleared first); on a new one, straight to
#: ``starting``. ``DELETE`` is allowed in every status and is not a directive.
BATCH_ACTIONS: dict[tuple[BatchDirective, BatchStatus], BatchStatus] = {
    (_D.START, _B.CREATED): _B.STARTING,
    **{
        (_D.START, status): _B.RESTARTING
        for status in BatchStatus
        if status is not BatchStatus.CREATED
    },
    **{(_D.STOP, status): _B.STOPPING for status in BATCH_DRIVEN | {_B.PAUSED}},
    (_D.STOP, _B.STOPPED): _B.STOPPED,
    (_D.PAUSE, _B.STARTING): _B.PAUSING,
    (_D.PAUSE, _B.RUNNING): _B.PAUSING,
    (_D.PAUSE, _B.PAUSING): _B.PAUSING,
    (_D.PAUSE, _B.PAUSED): _B.PAUSED,
    (_D.UNPAUSE, _B.PAUSING): _B.STARTING,
    (_D.UNPAUSE, _B.PAUSED): _B.STARTING,
}

_BATCH_REFUSALS = {
    _D.STOP: "there is nothing to stop",
    _D.PAUSE: "only a starting or running batch can be paused",
    _D.UNPAUSE: "only a paused or pausing batch can be unpaused",
}


def batch_directive_target(directive: BatchDirective, current: BatchStatus) -> BatchStatus:
    """What a batch in ``current`` becomes by ``directive``; :class:`Conflict` saying why not."""
    target = BATCH_ACTIONS.get((directive, current))
    if target is None:
        why = _BATCH_REFUSALS.get(directive, "")
        if directive is BatchDirective.UNPAUSE and current is BatchStatus.STOPPED:
            why = "its progress was reset by stop; use start to begin again"
        raise Conflict(
            f"cannot {directive.value} a batch that is {current.value}"
            + (f": {why}" if why else ""),
            reason="illegal_transition",
        )
    return target


def allowed_batch_directives(current: BatchStatus) -> frozenset[BatchDirective]:
    """The directives :data:`BATCH_ACTIONS` allows on a batch in ``current`` that change
    something (what a client offers as a button)."""
    return frozenset(
        directive
        for (directive, status), target in BATCH_ACTIONS.items()
        if status is current and target is not current
    )


class WorkerKind(str, enum.Enum):
    """What executes a worker's runs."""

    #: A Jupyter server's local executor (processes on the server's machine).
    LOCAL = "local"
    #: A worker of a Dask cluster (the Dask executor).
    DASK = "dask"

    def __str__(self) -> str:
        return self.value


class WorkerStatus(str, enum.Enum):
    """Whether a worker takes runs."""

    #: Heartbeating and taking new runs.
    READY = "ready"
    #: Heartbeating; finishes the runs it has and starts no new one (JobStreamer's block).
    DRAINING = "draining"
    #: Signed off, or its heartbeat stopped: its runs were settled as for a dead server.
    OFFLINE = "offline"

    def __str__(self) -> str:
        return self.value


class WorkerAction(str, enum.Enum):
    """What a user can tell a worker (JobStreamer's block / unblock)."""

    #: Start no new run; the runs in progress finish.
    DRAIN = "drain"
    #: Take new runs again.
    RESUME = "resume"

    def __str__(self) -> str:
        return self.value


_W = WorkerStatus
#: ``(action, from-status) → to-status`` of workers; a missing pair is refused (409), a pair
#: that maps a status to itself is accepted and changes nothing. An offline worker is steered by
#: nobody: it is ready (or draining, as it was left) again when it heartbeats.
WORKER_ACTIONS: dict[tuple[WorkerAction, WorkerStatus], WorkerStatus] = {
    (WorkerAction.DRAIN, _W.READY): _W.DRAINING,
    (WorkerAction.DRAIN, _W.DRAINING): _W.DRAINING,
    (WorkerAction.RESUME, _W.DRAINING): _W.READY,
    (WorkerAction.RESUME, _W.READY): _W.READY,
}


def worker_action_target(action: WorkerAction, current: WorkerStatus) -> WorkerStatus:
    """What a worker in ``current`` becomes by ``action``; :class:`Conflict` saying why not."""
    target = WORKER_ACTIONS.get((action, current))
    if target is None:
        raise Conflict(
            f"cannot {action.value} a worker that is {current.value}: it takes no runs until it "
            "heartbeats again",
            reason="illegal_transition",
        )
    return target


def allowed_worker_actions(current: WorkerStatus) -> frozenset[WorkerAction]:
    """The actions :data:`WORKER_ACTIONS` allows on a worker in ``current`` that change
    something (what a client offers as a button)."""
    return frozenset(
        action
        for (action, status), target in WORKER_ACTIONS.items()
        if status is current and target is not current
    )


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
