"""Engine, sessions and schema migration.

SQLite (the default) runs in WAL mode with a busy timeout, and write transactions begin with
``BEGIN IMMEDIATE`` so two writers queue on the lock instead of failing when one upgrades a read
lock. The same code runs on PostgreSQL (``postgresql+psycopg://``).

Nothing here runs on the event loop: :class:`Database` is the boundary that moves every
transaction to a worker thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, Select, event
from sqlalchemy.engine import Connection, make_url
from sqlmodel import Session, create_engine

#: Version of the schema this jobext writes; see ``jobext/db/migrations/versions``.
SCHEMA_HEAD = "0009"


def make_engine(db_url: str, *, busy_timeout_ms: int = 30_000) -> Engine:
    """Create the engine for ``db_url``; for SQLite, set WAL, a busy timeout and sane locking."""
    url = make_url(db_url)
    if url.get_backend_name() != "sqlite":
        return create_engine(db_url, pool_pre_ping=True, pool_size=10, max_overflow=20)

    if url.database and url.database != ":memory:":
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        db_url, connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000}
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" hook below decide how each transaction starts.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("jobext_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


T = TypeVar("T")


class LoopHeld(RuntimeError):
    """Database work was started on the event loop's own thread (a bug: it would stall it)."""


class Database:
    """The one boundary between jobext and its database.

    Each transaction is a plain function over a :class:`Session`. On the event loop, ``await
    db.run(fn)`` (a write transaction) and ``await db.read(fn)`` run it on a worker thread: one
    writer thread for SQLite (its single write lock), a small pool for PostgreSQL. Scripts,
    tests and migrations use :meth:`reading` and :meth:`writing` directly; once
    :meth:`guard_loop` is called, doing so on the loop's thread raises :class:`LoopHeld`.
    """

    def __init__(self, engine: Engine, *, threads: int = 8):
        self.engine = engine
        self.dialect = engine.dialect.name
        self._write_engine = engine.execution_options(jobext_write=True)
        # A read is one snapshot: a page's items and its total, say, never disagree. SQLite's
        # transactions are snapshots already; PostgreSQL's READ COMMITTED gives each statement
        # its own, so reads ask for REPEATABLE READ (which never fails a read-only transaction).
        sqlite = self.dialect == "sqlite"
        self._read_engine = (
            engine if sqlite else engine.execution_options(isolation_level="REPEATABLE READ")
        )
        self._writer = ThreadPoolExecutor(
            1 if sqlite else threads, thread_name_prefix="db-jobext-write"
        )
        # SQLite in WAL mode reads beside its writer; PostgreSQL shares one pool.
        self._readers = (
            ThreadPoolExecutor(4, thread_name_prefix="db-jobext-read") if sqlite else self._writer
        )
        self._guarded_thread: int | None = None

    @classmethod
    def open(cls, db_url: str) -> Database:
        """Open ``db_url`` and bring its schema up to date."""
        database = cls(make_engine(db_url))
        database.migrate()
        return database

    def migrate(self) -> None:
        """Upgrade the schema to :data:`SCHEMA_HEAD` (a no-op when it is there already)."""
        from jobext.db.migrations import upgrade

        upgrade(self.engine)

    def guard_loop(self) -> None:
        """From now on, refuse synchronous database work on the calling (event-loop) thread."""
        self._guarded_thread = threading.get_ident()

    def _check_thread(self) -> None:
        if self._guarded_thread == threading.get_ident():
            raise LoopHeld("database work on the event loop's thread; use `await db.run(fn)`")

    # -- off the loop

    async def run(self, fn: Callable[[Session], T]) -> T:
        """Run ``fn(session)`` as one write transaction on a worker thread; commit on success."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writer, self._run_write, fn)

    async def read(self, fn: Callable[[Session], T]) -> T:
        """Run ``fn(session)`` in a read-only session on a worker thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, self._run_read, fn)

    async def read_rows(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn(connection)`` on a worker thread, with no ORM session: for the hottest
        reads (a run by id, which clients poll), where a session's setup costs more than the
        statement."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, self._run_rows, fn)

    async def off_loop(self, fn: Callable[..., T], *args: Any) -> T:
        """Run other blocking work (file trees, process scans) on a reader thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, fn, *args)

    def _run_write(self, fn: Callable[[Session], T]) -> T:
        with self.writing() as session:
            return fn(session)

    def _run_read(self, fn: Callable[[Session], T]) -> T:
        with self.reading() as session:
            return fn(session)

    def _run_rows(self, fn: Callable[[Connection], T]) -> T:
        self._check_thread()
        with self._read_engine.connect() as connection:
            return fn(connection)

    # -- on the calling thread

    @contextlib.contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reading, all of it one snapshot; it never holds a write lock."""
        self._check_thread()
        with Session(self._read_engine, expire_on_commit=False) as session:
            yield session

    @contextlib.contextmanager
    def writing(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error.

        On SQLite it takes the write lock at its start, so concurrent writers wait their turn.
        """
        self._check_thread()
        with Session(self._write_engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @property
    def locks_rows(self) -> bool:
        """Whether reads that must lock their rows ask for it: on PostgreSQL (SQLite's write
        transaction locks already). Statements built once keep a locked twin for it."""
        return self.dialect == "postgresql"

    def for_update(self, stmt: Select[Any]) -> Select[Any]:
        """``stmt`` with a row lock where :attr:`locks_rows`."""
        if self.locks_rows:
            return stmt.with_for_update()
        return stmt

    def dispose(self) -> None:
        """Finish the worker threads' work and close every connection."""
        self._writer.shutdown(wait=True)
        if self._readers is not self._writer:
            self._readers.shutdown(wait=True)
        self.engine.dispose()
