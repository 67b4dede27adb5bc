"""The PostgreSQL server the tests use: a fresh database per test, dropped afterwards.

``JOBEXT_TEST_POSTGRES`` points at another server than the local one. When the server cannot be
reached the tests FAIL, saying so (CI starts it with ``.ci/postgres``); they are never skipped.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import make_url

POSTGRES = os.environ.get("JOBEXT_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")


def url_of(database: str) -> str:
    """The SQLAlchemy URL of ``database`` on the test server."""
    return make_url(POSTGRES).set(database=database).render_as_string(hide_password=False)


def admin() -> psycopg.Connection[Any]:
    """An autocommit connection to the server's ``postgres`` database."""
    conninfo = make_url(POSTGRES).set(drivername="postgresql", database="postgres")
    try:
        return psycopg.connect(
            conninfo.render_as_string(hide_password=False), autocommit=True, connect_timeout=10
        )
    except psycopg.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL is not reachable at {make_url(POSTGRES).render_as_string()}: {exc}\n"
            "Start it (bash .ci/postgres) or point JOBEXT_TEST_POSTGRES at a server.",
            pytrace=False,
        )


@contextlib.contextmanager
def fresh_database(prefix: str = "jobext_test") -> Iterator[str]:
    """Create an empty database; yield its name; drop it (closing its connections) after."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    with admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def server_on_fresh_database(prefix: str = "jobext_test") -> tuple[Any, Any, Any]:
    """The fixtures that put a test's Jupyter server (and so jobext) on a fresh PostgreSQL
    database, to bind at the top of a test module::

        pg_database, jp_server_cleanup, db_url = server_on_fresh_database("jobext_jobs")

    ``pg_database`` is the database's name (dropped after the test); ``db_url`` overrides
    conftest's SQLite file; ``jp_server_cleanup`` makes pytest-jupyter's autouse cleanup, which
    stops the server (jobext writes to its database as it stops) after every other fixture, run
    before the database is dropped, by setting it up after ``pg_database``."""

    @pytest.fixture(name="pg_database")
    def database() -> Iterator[str]:
        with fresh_database(prefix) as name:
            yield name

    @pytest.fixture(name="jp_server_cleanup", autouse=True)
    def cleanup(pg_database: str, jp_server_cleanup: None) -> None:
        pass

    @pytest.fixture(name="db_url")
    def url(pg_database: str) -> str:
        return url_of(pg_database)

    return database, cleanup, url
