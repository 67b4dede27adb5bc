"""Engine, sessions and schema migration.

SQLite (the default) runs in WAL mode with a busy timeout, and write transactions begin with
``BEGIN IMMEDIATE`` so two writers queue on the lock instead of failing when one upgrades a read
lock. The same code runs on PostgreSQL (``postgresql+psycopg://``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Select, event
from sqlalchemy.engine import Connection, make_url
from sqlmodel import Session, create_engine

#: Version of the schema this jobext writes; see ``jobext/db/migrations/versions``.
SCHEMA_HEAD = "0004"


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


class Store:
    """The database: sessions for reading and for writing."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.dialect = engine.dialect.name
        self._write_engine = engine.execution_options(jobext_write=True)

    @classmethod
    def open(cls, db_url: str) -> Store:
        """Open ``db_url`` and bring its schema up to date."""
        store = cls(make_engine(db_url))
        store.migrate()
        return store

    def migrate(self) -> None:
        """Upgrade the schema to :data:`SCHEMA_HEAD` (a no-op when it is there already)."""
        from jobext.db.migrations import upgrade

        upgrade(self.engine)

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; it never holds a write lock."""
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextlib.contextmanager
    def write(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error.

        On SQLite it takes the write lock at its start, so concurrent writers wait their turn.
        """
        with Session(self._write_engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def for_update(self, stmt: Select[Any]) -> Select[Any]:
        """``stmt`` with a row lock on PostgreSQL (SQLite's write transaction locks already)."""
        if self.dialect == "postgresql":
            return stmt.with_for_update()
        return stmt

    def dispose(self) -> None:
        self.engine.dispose()
