"""The lease that lets exactly one server drive a batch.

A server takes the leases of driven batches that nobody holds (or whose holder let the lease
lapse: its server died) and renews its own at half time. Every write of a batch's step first
checks, under the batch's row lock, that this server still holds the lease (:meth:`Leases.locked`),
so two servers never both drive one batch. A server that shuts down hands its leases back.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from jobext.batches.manager import get_batch
from jobext.db.engine import Database
from jobext.db.tables import Batch
from jobext.errors import NotFound
from jobext.states import BATCH_DRIVEN
from jobext.times import utcnow

_DRIVEN = [s.value for s in BATCH_DRIVEN]


class LeaseLost(Exception):
    """This server no longer holds the batch's lease (or the batch is gone): leave it."""


class Leases:
    """This server's leases on the driven batches (every method is one transaction's part)."""

    def __init__(self, db: Database, *, server_id: str, lease_s: float):
        self.db = db
        self.server_id = server_id
        self.lease_s = lease_s

    def due(self, now: dt.datetime) -> Any:
        """Driven batches this server should take or renew."""
        renew_before = now + dt.timedelta(seconds=self.lease_s / 2)
        return (
            col(Batch.status).in_(_DRIVEN),
            or_(
                col(Batch.lease_owner).is_(None),
                col(Batch.lease_expires_at) < now,
                (col(Batch.lease_owner) == self.server_id)
                & (col(Batch.lease_expires_at) < renew_before),
            ),
        )

    def wanted(self, session: Session) -> bool:
        """Is there a lease to take or renew?"""
        due = session.exec(select(Batch.id).where(*self.due(utcnow())).limit(1)).first()
        return due is not None

    def take(self, session: Session) -> None:
        now = utcnow()
        session.execute(
            update(Batch)
            .where(*self.due(now))
            .values(
                lease_owner=self.server_id,
                lease_expires_at=now + dt.timedelta(seconds=self.lease_s),
            )
        )

    def held(self, session: Session) -> list[int]:
        """The batches this server holds the lease of now."""
        now = utcnow()
        ids = session.exec(
            select(Batch.id)
            .where(
                col(Batch.status).in_(_DRIVEN),
                Batch.lease_owner == self.server_id,
                col(Batch.lease_expires_at) > now,
            )
            .order_by(col(Batch.id))
        ).all()
        return [i for i in ids if i is not None]

    def locked(self, session: Session, batch_id: int) -> Batch:
        """The batch, row-locked, if this server still holds its lease; else :class:`LeaseLost`."""
        try:
            batch = get_batch(session, batch_id, lock=self.db)
        except NotFound:
            raise LeaseLost(batch_id) from None
        expires = batch.lease_expires_at
        if expires is not None and expires.tzinfo is None:
            expires = expires.replace(tzinfo=dt.timezone.utc)
        if batch.lease_owner != self.server_id or expires is None or expires < utcnow():
            raise LeaseLost(batch_id)
        return batch

    def release(self, session: Session) -> None:
        """Hand every lease of this server back."""
        session.execute(
            update(Batch)
            .where(col(Batch.lease_owner) == self.server_id)
            .values(lease_owner=None, lease_expires_at=None)
        )
