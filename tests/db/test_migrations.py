"""Schema migrations: the Alembic revisions in ``jobext/db/migrations`` build exactly the tables the
SQLModel models describe, on SQLite and on PostgreSQL; opening a database again changes nothing
and loses nothing; and servers that open a fresh database at the same moment all succeed.

PostgreSQL tests use a fresh database each (created and dropped here). If PostgreSQL is not
reachable they FAIL, saying so: CI starts it (``.ci/postgres``). Set ``JOBEXT_TEST_POSTGRES`` to
use another server than ``postgresql+psycopg://postgres@127.0.0.1:5432``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import multiprocessing
import os
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from pg import fresh_database, url_of
from sqlmodel import SQLModel, select

from jobext.db import tables
from jobext.db.engine import SCHEMA_HEAD, Database, make_engine
from jobext.db.migrations import alembic_config
from jobext.db.tables import Job, Run, RunEvent, Worker

VERSION_TABLE = "jobext_schema_version"
WORKER_ID = "6f1c2d3e-0000-4000-8000-000000000001"


# ---------------------------------------------------------------------------- databases


@contextlib.contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database for one test; its SQLAlchemy URL. Dropped afterwards."""
    with fresh_database() as name:
        yield url_of(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a new, empty database: a SQLite file, or a PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'jobext.db'}"
        return
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture
def fresh_postgres_url() -> Iterator[str]:
    with fresh_postgres_database() as url:
        yield url


@contextlib.contextmanager
def opened(url: str) -> Iterator[Database]:
    store = Database.open(url)
    try:
        yield store
    finally:
        store.dispose()


# ---------------------------------------------------------------------------- helpers


def jobext_tables(metadata: sa.MetaData) -> sa.MetaData:
    """A copy of the ``jobext_*`` tables of ``metadata`` (other libraries may add tables)."""
    copy = sa.MetaData()
    for table in metadata.tables.values():
        if table.name.startswith("jobext_"):
            table.to_metadata(copy)
    return copy


def schema_diff(store: Database, metadata: sa.MetaData) -> list[Any]:
    """What Alembic autogenerate would change to make the database match ``metadata``."""

    def include_name(name: str | None, type_: str, _parent: Any) -> bool:
        return not (type_ == "table" and name == VERSION_TABLE)

    with store.engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "compare_server_default": True,
                "include_name": include_name,
            },
        )
        return list(compare_metadata(context, metadata))


def versions(store: Database) -> list[str]:
    with store.engine.connect() as conn:
        return [row[0] for row in conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}"))]


def schema_snapshot(store: Database) -> dict[str, Any]:
    """Tables with their columns, indexes and unique constraints, as reflected."""
    inspector = sa.inspect(store.engine)
    snapshot: dict[str, Any] = {}
    for table in sorted(inspector.get_table_names()):
        snapshot[table] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)
            ],
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                for i in inspector.get_indexes(table)
            ),
            "unique": sorted(
                (u["name"] or "", tuple(u["column_names"]))
                for u in inspector.get_unique_constraints(table)
            ),
        }
    return snapshot


# ---------------------------------------------------------------------------- tests


def test_migrations_build_the_model_schema(fresh_url: str) -> None:
    """The revisions create exactly the tables, columns, types, nullability, indexes and unique
    constraints of the SQLModel tables; nothing is missing or extra."""
    assert tables.Run.__tablename__ in SQLModel.metadata.tables
    with opened(fresh_url) as store:
        metadata = jobext_tables(SQLModel.metadata)
        assert {"jobext_job", "jobext_run", "jobext_run_event", "jobext_worker"} <= set(
            metadata.tables
        )
        diff = schema_diff(store, metadata)
        assert diff == [], "the migrations and the models disagree:\n" + "\n".join(map(str, diff))

        # The comparison does see differences: a model column the migrations lack is reported.
        changed = jobext_tables(SQLModel.metadata)
        changed.tables["jobext_run"].append_column(sa.Column("not_migrated", sa.Integer()))
        assert any(
            d[0] == "add_column" and d[3].name == "not_migrated"
            for d in schema_diff(store, changed)
        )


def test_version_table_records_the_head_revision(fresh_url: str) -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert script.get_current_head() == SCHEMA_HEAD, "SCHEMA_HEAD is not the newest revision"
    assert [rev.revision for rev in script.walk_revisions()][-1] == "0001"
    with opened(fresh_url) as store:
        assert versions(store) == [SCHEMA_HEAD]


def test_opening_again_is_a_no_op(fresh_url: str) -> None:
    """A second ``Database.open`` runs no DDL and writes nothing; the schema and version stay."""
    with opened(fresh_url) as store:
        before = schema_snapshot(store)
        assert versions(store) == [SCHEMA_HEAD]

    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", record)
    try:
        with opened(fresh_url) as store:
            opened_statements = list(statements)
            after = schema_snapshot(store)
            assert versions(store) == [SCHEMA_HEAD]
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)

    assert opened_statements, "the listener saw nothing: the check would prove nothing"
    changes = [
        s
        for s in opened_statements
        if s.lstrip().split(None, 1)[0].upper()
        in {"CREATE", "ALTER", "DROP", "INSERT", "UPDATE", "DELETE"}
    ]
    assert changes == [], f"re-opening changed the database: {changes}"
    assert after == before


def test_existing_data_survives_reopening(fresh_url: str) -> None:
    started = dt.datetime(2024, 3, 1, 12, 30, tzinfo=dt.timezone.utc)
    with opened(fresh_url) as store:
        with store.writing() as session:
            session.add(
                Job(
                    name="report",
                    kind="python",
                    target="jobs_lib:hello",
                    description="nightly report",
                    default_args={"n": 2},
                    max_concurrent=3,
                    queue_when_busy=True,
                )
            )
            session.add(
                Worker(
                    id=WORKER_ID,
                    name="host:8888",
                    kind="local",
                    host="host",
                    machine="host",
                    pid=1,
                    slots=2,
                    started_at=started,
                    stats={"memory": {"physical": {"free": 1, "total": 2}}},
                )
            )
        with store.writing() as session:
            run = Run(
                job="report",
                kind="python",
                args={"n": 2},
                status="succeeded",
                started_at=started,
                ended_at=started + dt.timedelta(seconds=5),
                duration_s=5.0,
                steps=[{"name": "load", "status": "succeeded"}],
                error=None,
            )
            session.add(run)
            session.flush()
            run_id = run.id
            uuid = run.uuid
            session.add_all(
                RunEvent(
                    run_id=run_id, seq=i, ts=started, type="log", stream="stdout", text=f"line {i}"
                )
                for i in range(1, 4)
            )

    with opened(fresh_url) as store:
        store.migrate()  # and once more, explicitly
        with store.reading() as session:
            job = session.get(Job, "report")
            assert job is not None
            assert (job.description, job.default_args, job.max_concurrent, job.queue_when_busy) == (
                "nightly report",
                {"n": 2},
                3,
                True,
            )
            again = session.get(Run, run_id)
            assert again is not None
            assert (again.uuid, again.status, again.args, again.duration_s) == (
                uuid,
                "succeeded",
                {"n": 2},
                5.0,
            )
            assert again.steps == [{"name": "load", "status": "succeeded"}]
            start = again.started_at
            assert start is not None
            if start.tzinfo is None:  # SQLite keeps no offset; jobext stores UTC
                start = start.replace(tzinfo=dt.timezone.utc)
            assert start == started
            texts = session.exec(
                select(RunEvent.text).where(RunEvent.run_id == run_id).order_by(RunEvent.seq)
            ).all()
            assert list(texts) == ["line 1", "line 2", "line 3"]
            worker = session.get(Worker, WORKER_ID)
            assert worker is not None and (worker.slots, worker.draining) == (2, False)
            assert worker.stats == {"memory": {"physical": {"free": 1, "total": 2}}}
        assert versions(store) == [SCHEMA_HEAD]


# -- several processes opening one fresh database at once


def _open_in_process(url: str, barrier: Any, results: Any) -> None:
    """Child process: wait for the others, then open (and so migrate) the database."""
    try:
        barrier.wait(timeout=120)
        Database.open(url).dispose()
        results.put((os.getpid(), None))
    except BaseException:
        results.put((os.getpid(), traceback.format_exc()))


def open_concurrently(url: str, processes: int = 3) -> None:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(processes)
    results = ctx.Queue()
    children = [
        ctx.Process(target=_open_in_process, args=(url, barrier, results)) for _ in range(processes)
    ]
    for child in children:
        child.start()
    try:
        reports = [results.get(timeout=180) for _ in children]
    finally:
        for child in children:
            child.join(timeout=60)
            if child.is_alive():
                child.kill()
    errors = [error for _, error in reports if error]
    assert not errors, "a concurrent Database.open failed:\n" + "\n".join(errors)
    assert [child.exitcode for child in children] == [0] * processes


def test_concurrent_open_of_a_fresh_postgres_database(fresh_postgres_url: str) -> None:
    open_concurrently(fresh_postgres_url, processes=3)
    with opened(fresh_postgres_url) as store:
        assert versions(store) == [SCHEMA_HEAD]
        assert schema_diff(store, jobext_tables(SQLModel.metadata)) == []


def test_concurrent_open_of_a_fresh_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared' / 'jobext.db'}"
    open_concurrently(url, processes=3)
    with opened(url) as store:
        assert versions(store) == [SCHEMA_HEAD]
        assert schema_diff(store, jobext_tables(SQLModel.metadata)) == []


def test_a_database_of_the_first_release_upgrades_with_its_data(fresh_url: str) -> None:
    """A database written at revision 0001 upgrades to the head and keeps every row."""
    from jobext.db.migrations import upgrade

    engine = make_engine(fresh_url)
    try:
        upgrade(engine, "0001")
        now = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO jobext_job (name, kind, target, description, max_concurrent,"
                    " queue_when_busy, retries, retry_backoff_s, restartable, created_at,"
                    " updated_at) VALUES ('old', 'python', 'm:f', '', 1, false, 0, 60, true,"
                    " :now, :now)"
                ),
                {"now": now},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO jobext_run (uuid, job, kind, status, trigger, created_at,"
                    " updated_at, attempt) VALUES ('u-1', 'old', 'python', 'succeeded',"
                    " 'manual', :now, :now, 1)"
                ),
                {"now": now},
            )
        upgrade(engine, "head")
    finally:
        engine.dispose()
    with opened(fresh_url) as store:
        assert versions(store) == [SCHEMA_HEAD]
        with store.reading() as session:
            job = session.get(Job, "old")
            assert job is not None and job.keep_days is None
            run = session.exec(select(Run).where(Run.uuid == "u-1")).one()
            assert run.status == "succeeded" and run.not_before is None
            assert run.created_at == now


def test_servers_become_workers_and_runs_keep_their_worker(fresh_url: str) -> None:
    """0008 replaces ``jobext_server`` by ``jobext_worker``; runs keep the ``worker`` they had
    (a server id of before), so their history still says where they ran."""
    from jobext.db.migrations import upgrade

    engine = make_engine(fresh_url)
    try:
        upgrade(engine, "0007")
        now = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO jobext_server (id, hostname, pid, started_at, heartbeat_at,"
                    " max_workers) VALUES ('host@ab-1:42:abcdef12', 'host@ab-1', 42, :now, :now,"
                    " 4)"
                ),
                {"now": now},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO jobext_run (uuid, job, kind, status, trigger, created_at,"
                    " updated_at, attempt, worker) VALUES ('u-2', 'old', 'python', 'succeeded',"
                    " 'manual', :now, :now, 1, 'host@ab-1:42:abcdef12')"
                ),
                {"now": now},
            )
        upgrade(engine, "head")
        names = set(sa.inspect(engine).get_table_names())
        assert "jobext_server" not in names and "jobext_worker" in names
    finally:
        engine.dispose()
    with opened(fresh_url) as store, store.reading() as session:
        run = session.exec(select(Run).where(Run.uuid == "u-2")).one()
        assert run.worker == "host@ab-1:42:abcdef12"
        assert session.exec(select(Worker)).all() == []


def test_runs_in_progress_get_their_worker_as_their_server(fresh_url: str) -> None:
    """0009 adds ``jobext_run.server``: runs in progress get their ``worker`` (until then the
    server that claimed them), so the server that owns them is still judged; ended runs none."""
    from jobext.db.migrations import upgrade

    engine = make_engine(fresh_url)
    try:
        upgrade(engine, "0008")
        now = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
        with engine.begin() as conn:
            for uuid, status in (("u-run", "running"), ("u-done", "succeeded")):
                conn.execute(
                    sa.text(
                        "INSERT INTO jobext_run (uuid, job, kind, status, trigger, created_at,"
                        " updated_at, attempt, worker) VALUES (:uuid, 'old', 'python', :status,"
                        " 'manual', :now, :now, 1, 'w-1')"
                    ),
                    {"uuid": uuid, "status": status, "now": now},
                )
        upgrade(engine, "head")
    finally:
        engine.dispose()
    with opened(fresh_url) as store, store.reading() as session:
        running = session.exec(select(Run).where(Run.uuid == "u-run")).one()
        done = session.exec(select(Run).where(Run.uuid == "u-done")).one()
        assert (running.worker, running.server) == ("w-1", "w-1")
        assert (done.worker, done.server) == ("w-1", None)
