"""A run's attempt on a Dask worker: its relay asks to start it, and is granted or refused.

The relay asks the executor to claim its attempt before it starts the process; the claim is made
in the database by the supervisor (:class:`AttemptClaims`), so a task Dask runs twice (a worker
died, a task was resubmitted) never starts the run's process twice. The claim names the Dask
worker's id, which becomes the run's ``worker``; a claim refused because the worker was drained
meanwhile sends the run to another worker. Commands sent before the grant wait for it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from jobext.executors.base import Outcome
from jobext.executors.dask import relay as remote
from jobext.executors.dask.fleet import DaskFleet
from jobext.executors.dask.remote_runs import RemoteRun

log = logging.getLogger(__name__)


class AttemptClaims(Protocol):
    """What the relay's claim needs from the supervisor: the database's word."""

    async def claim_attempt(self, run_id: int, worker: str) -> bool:
        """``worker``: the Dask worker's id (its address when the executor has no database)."""


class Attempts:
    """Answers the relays' claims for the runs an executor relays, and steers granted ones."""

    def __init__(
        self,
        *,
        client: Callable[[], Any],
        fleet: DaskFleet | None,
        read_identity: Callable[[Any], Awaitable[dict[str, Any]]],
        submit: Callable[[RemoteRun], Awaitable[None]],
        end: Callable[[RemoteRun, Outcome], None],
        spawn: Callable[[Any], None],
    ):
        #: The executor's client now (it reconnects).
        self._client = client
        self.fleet = fleet
        self._read_identity = read_identity
        #: Sends a run whose worker was drained to another one (a new relay task).
        self._submit = submit
        self._end = end
        self._spawn = spawn

    def on_claim(self, run: RemoteRun, worker: str) -> None:
        """The relay on ``worker`` asks to start ``run``."""
        if not run.claiming and run.worker is None:
            run.claiming = True
            self._spawn(self.claim(run, worker))
        elif run.worker is not None and run.worker != worker:
            self._spawn(self.answer(worker, run.spec.uuid, "refuse", "claimed"))
        elif run.worker is not None:
            # The grant was lost on the way: the same attempt asks again.
            self._spawn(self.answer(run.worker, run.spec.uuid, "grant"))

    async def claim(self, run: RemoteRun, worker: str) -> None:
        claims = getattr(run.events, "claim_attempt", None)
        worker_id = await self.worker_id(worker)
        granted = True if claims is None else await claims(run.spec.run_id, worker_id)
        if run.done.is_set():
            granted = False
        if not granted and self.fleet is not None and worker_id in await self.fleet.read_closed():
            # Drained (or gone) since the task was submitted: another worker starts it.
            run.claiming = False
            await self.answer(worker, run.spec.uuid, "refuse", "the worker takes no new runs")
            if not run.done.is_set():
                await self._submit(run)
            return
        if granted:
            run.worker = worker
            run.claiming = False
            await self.answer(worker, run.spec.uuid, "grant")
            for command in run.pending:
                await self.answer(worker, run.spec.uuid, command)
            run.pending.clear()
            return
        run.claiming = False
        await self.answer(worker, run.spec.uuid, "refuse", "the run is no longer to be started")
        if run.worker is None:
            end = {"t": "end", "status": "failed", "error": "the run was not started"}
            self._end(run, Outcome(None, end))

    async def worker_id(self, address: str) -> str:
        """The id of the Dask worker at ``address`` (registered now if it was not yet); its
        address when there is no database."""
        if self.fleet is None:
            return address
        if self.fleet.id_of(address) is None:
            await self.fleet.sync(self._client(), await self._read_identity(self._client()))
        return self.fleet.id_of(address) or address

    async def answer(
        self, worker: str, uuid: str, command: str, argument: str | None = None
    ) -> bool:
        try:
            reply = await self._client().run(
                remote.control, uuid, command, argument, workers=[worker], on_error="return"
            )
        except Exception as exc:
            log.info("jobext: %s to run %s on %s not delivered: %s", command, uuid, worker, exc)
            return False
        return reply.get(worker) is True

    def steer(self, run: RemoteRun, command: str) -> None:
        """Send ``command`` to the run's attempt (once granted)."""
        if run.worker is None:
            run.pending.append(command)
            return
        self._spawn(self.answer(run.worker, run.spec.uuid, command))
