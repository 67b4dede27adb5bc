"""Engine, sessions, schema migration, and the filtered + paginated list query.

SQLite (the default) runs in WAL mode with a busy timeout, and write transactions begin with
``BEGIN IMMEDIATE`` so two writers queue on the lock instead of failing when one upgrades a read
lock. The same code runs on PostgreSQL (``postgresql+psycopg://``).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Select, event, func
from sqlalchemy.engine import Connection, make_url
from sqlmodel import Session, create_engine, select

from .errors import Invalid
from .params import parse_int

#: Version of the schema this jobext writes; see ``jobext/migrations/versions``.
SCHEMA_HEAD = "0004"
MAX_PER_PAGE = 1000


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
        from .migrations import upgrade

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


# ---------------------------------------------------------------------------- lists


@dataclasses.dataclass(frozen=True)
class PageRequest:
    """``page``/``per_page``/``sort``/``search`` of a list request, already validated."""

    page: int = 0
    per_page: int = 50
    sort: str | None = None
    search: str | None = None

    @classmethod
    def parse(
        cls,
        page: str | None,
        per_page: str | None,
        sort: str | None,
        search: str | None,
        *,
        sortable: Sequence[str],
    ) -> PageRequest:
        """Validate raw query values; raise :class:`Invalid` naming the bad one."""
        page_n = parse_int("page", page, 0, minimum=0, maximum=10**9) or 0
        per_page_n = parse_int("per_page", per_page, 50, minimum=1, maximum=MAX_PER_PAGE) or 50
        if sort is not None:
            sort = sort.strip()
            if sort.lstrip("-") not in sortable:
                raise Invalid("sort", f"cannot sort by {sort!r}; use one of {', '.join(sortable)}")
        search = search.strip() or None if search is not None else None
        return cls(page=page_n, per_page=per_page_n, sort=sort or None, search=search)


def paginate(
    session: Session,
    stmt: Select[Any],
    request: PageRequest,
    *,
    columns: dict[str, Any],
    default_sort: str,
    tiebreak: Any,
) -> tuple[list[Any], int]:
    """Run ``stmt`` for one page; return the rows and the total count of matches."""
    sort = request.sort or default_sort
    column = columns[sort.lstrip("-")]
    descending = sort.startswith("-")
    order = [column.desc() if descending else column.asc()]
    if column is not tiebreak:
        order.append(tiebreak.desc() if descending else tiebreak.asc())
    total = session.exec(select(func.count()).select_from(stmt.order_by(None).subquery())).one()
    rows = session.exec(
        stmt.order_by(*order).offset(request.page * request.per_page).limit(request.per_page)
    ).all()
    return list(rows), int(total)
