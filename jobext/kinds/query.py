"""``query`` jobs: saved SQL with ``:name`` parameters, exported as CSV.

``connection`` names one of ``JobExtApp.connections`` (name → SQLAlchemy URL); the URL reaches
the job's process through :func:`launch_options` only, never the API or the log.

Args are a JSON object of SQL parameters (``:name``), never formatted into the SQL text by
jobext: scalars as they are, a list as an expanding parameter (``WHERE id IN :ids``). Every
``:name`` of the SQL needs a value and every arg must be a ``:name`` of the SQL; a run whose args
do not match fails naming the parameter (``default_args`` are checked at registration).

The statement runs in a read-only transaction (PostgreSQL ``transaction_read_only``, SQLite
``PRAGMA query_only``; elsewhere it is rolled back) and its rows stream, ``options.chunk_size``
at a time, into ``result.csv`` in PostgreSQL's COPY CSV format: NULL as an empty field, the
empty string as ``""`` (see :mod:`jobext.kinds.csv_export`, which also says how parameters
reach PostgreSQL's ``COPY``). A pause or a stop takes effect between chunks. Only a succeeded
run has a result file.
"""

from __future__ import annotations

import re
import sys
import time

from jobext.errors import Invalid

TYPE_CHECKING = False  # not `from typing import`: job processes must not pay for typing
if TYPE_CHECKING:
    from typing import Any

    from jobext.db.tables import Job
    from jobext.kinds.registry import KindEnv

#: Rows fetched (and written) between two checkpoints, unless the job's options say otherwise.
CHUNK_SIZE = 10_000
MAX_CHUNK_SIZE = 1_000_000
OPTIONS = ("chunk_size",)
#: What ``sqlalchemy.text`` takes for a parameter name.
_PARAM_NAME = re.compile(r"\w+")
#: ``:day::date``: sqlalchemy.text does not read ``:day`` as a parameter when ``::`` follows.
_CAST_AFTER_PARAM = re.compile(r"(?<![:\w\\]):(\w+)::(\w+)")


# ---------------------------------------------------------------------------- server side


def bind_names(sql: str) -> list[str]:
    """The ``:name`` parameters of ``sql`` as ``sqlalchemy.text`` reads them, in order."""
    from sqlalchemy import text

    return list(text(sql).compile().params)


def check(job: Job, env: KindEnv) -> str:
    """The job must name a configured ``connection`` and have SQL as ``target``; ``options``
    may set ``chunk_size``; ``default_args`` may only name parameters the SQL has."""
    configured = sorted(env.connections)
    known = f"configured: {configured}" if configured else "none is configured"
    if not job.connection:
        raise Invalid("connection", f"query jobs name a database connection ({known})")
    if job.connection not in env.connections:
        raise Invalid("connection", f"no connection named {job.connection!r} ({known})")
    target = job.target.strip()
    if not target:
        raise Invalid("target", "must be SQL text")
    if "\x00" in target:
        raise Invalid("target", "must not contain NUL characters")
    cast = _CAST_AFTER_PARAM.search(target)
    if cast:
        name, type_ = cast.groups()
        raise Invalid(
            "target",
            f"write CAST(:{name} AS {type_}) instead of :{name}::{type_}, "
            f"which would not make :{name} a parameter",
        )
    chunk_size(job.options)
    if isinstance(job.default_args, dict):
        names = bind_names(target)
        for key in job.default_args:
            if key not in names:
                raise Invalid("default_args", _not_a_parameter(key, names))
    return target


def chunk_size(options: Any) -> int:
    """The rows per chunk that ``options`` sets (the default when it sets none)."""
    options = options or {}
    if not isinstance(options, dict):
        raise Invalid("options", "must be a JSON object")
    for key in options:
        if key not in OPTIONS:
            raise Invalid("options", f"unknown option {key!r}; query jobs take {list(OPTIONS)}")
    size = options.get("chunk_size", CHUNK_SIZE)
    if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= MAX_CHUNK_SIZE:
        raise Invalid("options", f"chunk_size must be a whole number from 1 to {MAX_CHUNK_SIZE:,}")
    return size


def merge_args(default_args: Any, args: Any, *, field: str) -> dict[str, Any]:
    """Parameters are a JSON object: the job's ``default_args`` overlaid with the run's
    ``args``; each value a scalar (string, number, boolean, null) or a list of scalars."""
    if args is not None and not isinstance(args, dict):
        raise Invalid(field, "query jobs take a JSON object of SQL parameters")
    merged: dict[str, Any] = dict(default_args) if isinstance(default_args, dict) else {}
    merged.update(args or {})
    for key, value in merged.items():
        if not _PARAM_NAME.fullmatch(key):
            raise Invalid(field, f"{key!r} is not a parameter name (letters, digits and _)")
        items = value if isinstance(value, list) else [value]
        if not all(item is None or isinstance(item, (str, int, float)) for item in items):
            raise Invalid(
                field,
                f"parameter {key!r} must be a string, number, boolean, null or a list of them",
            )
    return merged


def check_args(sql: str, params: dict[str, Any], *, field: str = "args") -> None:
    """Every ``:name`` of ``sql`` must have a value and every parameter must be used."""
    names = bind_names(sql)
    for name in names:
        if name not in params:
            raise Invalid(field, f"missing parameter {name!r} (the SQL uses :{name})")
    for key in params:
        if key not in names:
            raise Invalid(field, _not_a_parameter(key, names))


def _not_a_parameter(key: str, names: list[str]) -> str:
    uses = ", ".join(f":{n}" for n in names) if names else "no parameters"
    return f"{key!r} is not a parameter of the SQL (it uses {uses})"


def launch_options(job: Job, env: KindEnv, run_uuid: str | None = None) -> dict[str, Any]:
    """The connection's URL (secret: for the job's process only) and the chunk size."""
    if not job.connection or job.connection not in env.connections:
        raise Invalid("connection", f"no connection named {job.connection!r} is configured")
    return {
        "connection": job.connection,
        "url": env.connections[job.connection],
        "chunk_size": chunk_size(job.options),
    }


# ---------------------------------------------------------------------------- job process


def preload() -> None:
    """Import what every export needs (the fork server calls this once): SQLAlchemy, the
    drivers of SQLite and PostgreSQL, when installed, and the C module of SQLite exports, when
    built. No connection is opened."""
    import csv  # noqa: F401
    import sqlite3  # noqa: F401

    import sqlalchemy.dialects.postgresql.psycopg
    import sqlalchemy.dialects.sqlite.pysqlite
    import sqlalchemy.pool  # noqa: F401

    try:
        import psycopg  # noqa: F401
    except ImportError:
        pass

    from jobext.kinds import csv_export  # noqa: F401

    try:
        from jobext.kinds import _sqlite_csv  # type: ignore[attr-defined]  # noqa: F401
    except ImportError:
        pass  # not built: the export says so in the run's log


def execute(spec: dict[str, Any], channel: Any) -> dict[str, Any]:
    """Export the query's rows to ``result.csv``; a database error fails the run with the
    database's own message."""
    import logging
    import os

    from jobext.job import api as context
    from jobext.kinds import csv_export

    options = spec.get("options") or {}
    url = str(options["url"])
    sql = str(spec["target"])
    params = spec.get("args") or {}
    try:
        check_args(sql, params)
    except Invalid as exc:
        return {"t": "end", "status": "failed", "error": exc.message}

    path = context.result_path(".csv")
    partial = path.with_name(path.name + ".part")
    began = time.perf_counter()
    try:
        rows = csv_export.export(
            url, sql, params, partial, int(options.get("chunk_size") or CHUNK_SIZE), channel
        )
        os.replace(partial, path)
    except Exception as exc:
        return _failure(exc, url)
    finally:
        if partial.exists():
            partial.unlink()
    seconds = time.perf_counter() - began
    logging.getLogger("jobext.query").info(
        "exported %s rows (%.1f MB) from %r in %.2f s; peak memory %.0f MB",
        f"{rows:,}",
        path.stat().st_size / 1e6,
        options.get("connection"),
        seconds,
        _peak_rss_bytes() / 1e6,
    )
    return {"t": "end", "status": "succeeded", "exit_code": 0}


def _failure(exc: Exception, url: str) -> dict[str, Any]:
    """The ``end`` message of a failed export: the database's own message for a database
    error (without SQLAlchemy's statement dump and links), never the connection's password."""
    import traceback

    from sqlalchemy.exc import DBAPIError

    if isinstance(exc, DBAPIError) and exc.orig is not None:
        error, trace = _database_message(exc.orig), None
    elif _driver_error(exc):
        error, trace = _database_message(exc), None
    elif type(exc).__name__ == "NoRows":
        error, trace = str(exc), None
    else:
        error = f"{type(exc).__name__}: {exc}"
        trace = traceback.format_exc()[-4000:]
    end: dict[str, Any] = {"t": "end", "status": "failed", "error": _hide_password(error, url)}
    if trace:
        end["traceback"] = _hide_password(trace, url)
    return end


def _driver_error(exc: BaseException) -> bool:
    """An error the database driver raised itself (the export calls drivers directly)."""
    import sqlite3

    if isinstance(exc, sqlite3.Error):
        return True
    psycopg = sys.modules.get("psycopg")
    return psycopg is not None and isinstance(exc, psycopg.Error)


def _database_message(error: BaseException) -> str:
    """The driver's message; for PostgreSQL its parts without the ``LINE 1:`` excerpt, which
    would show the cursor's ``DECLARE`` around the SQL rather than the SQL."""
    diag = getattr(error, "diag", None)
    primary = getattr(diag, "message_primary", None)
    if not primary:
        return str(error).strip() or type(error).__name__
    parts = [primary]
    for label, attr in (
        ("DETAIL", "message_detail"),
        ("HINT", "message_hint"),
        ("CONTEXT", "context"),
    ):
        value = getattr(diag, attr, None)
        if value:
            parts.append(f"{label}: {value}")
    return "\n".join(parts)


def _hide_password(text: str, url: str) -> str:
    from urllib.parse import quote

    from sqlalchemy.engine import make_url

    try:
        password = make_url(url).password
    except Exception:
        return text
    if password:
        for form in {str(password), quote(str(password), safe="")}:
            text = text.replace(form, "***")
    return text


def _peak_rss_bytes() -> float:
    """This process's peak resident memory (VmHWM: ru_maxrss would count the Jupyter server's
    memory too, since Linux carries it across the fork and exec that started the job)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    import resource
    import sys

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return float(peak if sys.platform == "darwin" else peak * 1024)
