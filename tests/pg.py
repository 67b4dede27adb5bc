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
