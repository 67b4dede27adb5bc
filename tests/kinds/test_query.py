"""``query`` jobs end to end: saved SQL on a configured connection, exported as CSV.

Every test that takes ``source`` runs twice: against a SQLite file the test writes, and against a
fresh PostgreSQL database (created here, dropped with ``WITH (FORCE)`` after; the rows stream
through a server-side cursor there). jobext's own database stays conftest's SQLite file. If
PostgreSQL is not reachable the PostgreSQL variants FAIL, saying so; ``JOBEXT_TEST_POSTGRES``
names another server than ``postgresql+psycopg://postgres@127.0.0.1:5432``.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from conftest import Api
from pg import fresh_database, url_of
from sqlalchemy.engine import make_url
from waiting import eventually_async

TIMEOUT = 60.0
#: A connection whose password must never be shown (nothing listens on port 1).
SECRET_URL = "postgresql+psycopg://reader:s3cret-pw@127.0.0.1:1/warehouse"
PASSWORD = "s3cret-pw"

# (id, label, qty, price, ratio, day, at, flag, data): text with the characters CSV must quote,
# NULLs, numbers, dates, decimals and bytes.
ROWS: list[tuple[Any, ...]] = [
    (1, "plain", 3, "9.99", 0.5, "2024-02-29", "2024-02-29 13:45:00", True, b"\x00\xff"),
    (2, 'comma, "quoted"', None, "0.10", -1.25, "1999-12-31", "1999-12-31 23:59:59.5", False, None),
    (3, "line\nbreak\r\nand CR\r", 0, "1234567.89", 1e-07, "2000-01-01", None, None, b""),
    (4, "ünïcødé ✓ 日本語 🎉", -7, None, None, None, "2038-01-19 03:14:08", True, b"abc"),
    (5, "", 1, "-0.01", 0.1, "1970-01-01", "1970-01-01 00:00:00", False, b"\x01"),
    (6, None, 2, "100.00", 3.0, "2024-01-01", "2024-01-01 00:00:00.000001", True, None),
    (
        7,
        " leading and trailing ",
        4,
        "0.00",
        1e300,
        "2024-12-31",
        "2024-12-31 23:59:59",
        False,
        None,
    ),
    (8, "x' OR '1'='1", 5, "1.50", 2.5, "2024-06-30", "2024-06-30 12:00:00", True, None),
]
HEADER = ["id", "label", "qty", "price", "ratio", "day", "at", "flag", "data"]
BIG_ROWS = 300_000
#: Characters of the wide column of the large export: ~150 MB of CSV, so that holding the rows
#: in memory (as Python strings, or in the driver's buffer) would pass the 200 MB limit.
PAD = 500


def expected_rows(dialect: str) -> list[list[str]]:
    """The CSV fields of ``ROWS`` as each database prints them: SQLite has no decimals (a
    NUMERIC value is a float, or an integer when whole) and no booleans (1 and 0); PostgreSQL
    keeps ``numeric(10,2)`` as written and prints a whole float without ``.0``."""
    out = []
    for row in ROWS:
        fields = []
        for name, value in zip(HEADER, row, strict=True):
            if value is None:
                fields.append("")
            elif name == "price" and dialect == "sqlite":
                number = float(value)  # NUMERIC affinity: an integer when it is whole
                fields.append(str(int(number)) if number.is_integer() else repr(number))
            elif name == "flag":
                fields.append(str(int(value)) if dialect == "sqlite" else "tf"[not value])
            elif name == "data":
                fields.append("\\x" + value.hex())
            elif name == "ratio":  # the shortest text that reads back as the same float
                fields.append(
                    repr(value) if dialect == "sqlite" else repr(value).removesuffix(".0")
                )
            else:
                fields.append(str(value))
        out.append(fields)
    return out


# ---------------------------------------------------------------------------- source databases


def _fill_sqlite(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE items (id INTEGER PRIMARY KEY, label TEXT, qty INTEGER,"
            " price NUMERIC, ratio REAL, day TEXT, at TEXT, flag BOOLEAN, data BLOB)"
        )
        db.executemany("INSERT INTO items VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", ROWS)
    db.close()


def _fill_postgres(url: str) -> None:
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as db:
        db.execute(
            "CREATE TABLE items (id integer PRIMARY KEY, label text, qty integer,"
            " price numeric(10, 2), ratio double precision, day date, at timestamp,"
            " flag boolean, data bytea)"
        )
        with db.cursor() as cur:
            cur.executemany("INSERT INTO items VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)", ROWS)
        db.execute("CREATE SEQUENCE counter")


@pytest.fixture(params=["sqlite", "postgresql"])
def source(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The SQLAlchemy URL of a database holding ``items``, for the connection ``src``."""
    if request.param == "sqlite":
        path = tmp_path / "source.db"
        _fill_sqlite(path)
        yield f"sqlite:///{path}"
        return
    with fresh_database("jobext_test_query") as name:
        url = url_of(name)
        _fill_postgres(url)
        yield url


@pytest.fixture(autouse=True)
def jp_server_cleanup(source: str, jp_server_cleanup: None) -> None:
    """Stop the server (and its job processes) before the source database is dropped."""


@pytest.fixture
def jobext_config(source: str) -> dict[str, Any]:
    return {"connections": {"src": source, "secret": SECRET_URL}}


@pytest.fixture
def dialect(source: str) -> str:
    return make_url(source).get_backend_name()


def count_to(dialect: str, *, wide: bool = False) -> str:
    """SQL yielding ``n`` = 1 .. ``:total``, computed as they are fetched (on both databases),
    and with ``wide`` ``n`` again as ``PAD`` digits."""
    if dialect == "sqlite":
        pad = f", printf('%0{PAD}d', n) AS pad" if wide else ""
        return (
            "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < :total)"
            f" SELECT n{pad} FROM s"
        )
    # generate_series in the select list streams; in FROM it would be materialised first.
    pad = f", lpad(n::text, {PAD}, '0') AS pad" if wide else ""
    return f"SELECT n{pad} FROM (SELECT generate_series(1, :total) AS n) AS s"


# ---------------------------------------------------------------------------- helpers


async def finish(api: Api, job: str, args: Any = None) -> dict[str, Any]:
    run = await api.run(job, args)
    return await api.wait(run["id"], timeout=TIMEOUT)


async def download(api: Api, run: dict[str, Any]) -> tuple[bytes, list[list[str]]]:
    reply = await api.get(f"runs/{run['id']}/result", timeout=TIMEOUT)
    assert reply.code == 200, reply
    assert reply.headers["Content-Type"].startswith("text/csv"), reply.headers
    assert reply.headers["Content-Disposition"] == (
        f'attachment; filename="{run["job"]}-{run["id"]}.csv"'
    )
    assert int(reply.headers["Content-Length"]) == len(reply.body)
    return reply.body, list(csv.reader(io.StringIO(reply.body.decode("utf-8"), newline="")))


def assert_error(reply: Any, status: int, field: str) -> dict[str, Any]:
    assert reply.code == status, reply
    body: dict[str, Any] = reply.json()
    assert body["field"] == field, body
    return body


async def rows_so_far(api: Api, run_id: int) -> int:
    return int((await api.get(f"runs/{run_id}")).json()["records_written"] or 0)


# ---------------------------------------------------------------------------- export


async def test_export_is_exact_csv(api: Api, dialect: str) -> None:
    await api.job("items", "SELECT * FROM items ORDER BY id", kind="query", connection="src")
    run = await finish(api, "items")
    assert run["status"] == "succeeded", run
    assert run["records_written"] == len(ROWS)
    assert run["message"] == f"{len(ROWS)} rows"
    assert run["result"]["media_type"] == "text/csv"
    assert run["result"]["filename"] == f"items-{run['id']}.csv"
    body, rows = await download(api, run)
    assert rows == [HEADER, *expected_rows(dialect)]
    # COPY's CSV: LF after every record; line breaks inside a quoted field stay as they are.
    assert body.startswith(b"id,label,qty,") and body.endswith(b"\n")
    assert body.count(b"\n") == 1 + len(ROWS) + 2  # records, and the two inside row 3
    assert b'"comma, ""quoted"""' in body
    assert b'"line\nbreak\r\nand CR\r"' in body
    assert "ünïcødé ✓ 日本語 🎉".encode() in body and not body.startswith(b"\xef\xbb\xbf")
    # NULL is an empty field, the empty string is "".
    assert rows[2][2] == "" and body.split(b"\n")[2].startswith(b'2,"comma, ""quoted""",,')
    assert b'\n5,"",1,' in body and b"\n6,,2," in body


def postgres_copy(url: str, sql: str) -> bytes:
    """What PostgreSQL's own ``COPY (sql) TO STDOUT WITH (FORMAT csv, HEADER)`` writes, in a
    session with the settings exports use (ISO dates, ISO 8601 intervals)."""
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as db:
        db.execute("SET DateStyle = ISO; SET IntervalStyle = iso_8601")
        with db.cursor().copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, HEADER)") as copy:
            return b"".join(bytes(block) for block in copy)


#: Columns every database prints alike: text (quotes, commas, line breaks, "", NULL), integers.
SHARED_COLUMNS = "SELECT id, label, qty FROM items WHERE id >= :first ORDER BY id"


async def test_export_equals_postgres_copy_byte_for_byte(
    api: Api, dialect: str, source: str
) -> None:
    await api.job("shared", SHARED_COLUMNS, kind="query", connection="src")
    run = await finish(api, "shared", {"first": 1})
    assert run["status"] == "succeeded", run
    body, _ = await download(api, run)
    literal = SHARED_COLUMNS.replace(":first", "1")
    if dialect == "postgresql":
        assert body == postgres_copy(source, literal)
        # Every column and type of the table: the file is COPY's, byte for byte.
        await api.job(
            "all",
            "SELECT * FROM items WHERE label <> :x ORDER BY id",
            kind="query",
            connection="src",
        )
        run = await finish(api, "all", {"x": "x' OR '1'='1"})
        assert run["status"] == "succeeded", run
        body, _ = await download(api, run)
        assert body == postgres_copy(
            source, "SELECT * FROM items WHERE label <> 'x'' OR ''1''=''1' ORDER BY id"
        )
        return
    # SQLite's export of the same rows equals PostgreSQL's COPY of them.
    with fresh_database("jobext_test_copy") as name:
        _fill_postgres(url_of(name))
        assert body == postgres_copy(url_of(name), literal)


@pytest.mark.parametrize("source", ["sqlite"], indirect=True)
async def test_an_empty_result_is_the_header_alone(api: Api) -> None:
    await api.job(
        "none", "SELECT id, label FROM items WHERE id < 0", kind="query", connection="src"
    )
    run = await finish(api, "none")
    assert run["status"] == "succeeded", run
    assert run["records_written"] == 0
    body, rows = await download(api, run)
    assert body == b"id,label\n" and rows == [["id", "label"]]


@pytest.mark.parametrize("source", ["postgresql"], indirect=True)
async def test_typed_values_of_postgres(api: Api) -> None:
    sql = (
        "SELECT timestamptz '2024-03-01 12:30:00.25+00' AS tstz, interval '1 day 2 hours 3.5 s'"
        " AS span, numeric '12345678901234567890.000001' AS big, numeric 'NaN' AS nan,"
        " '{\"a\": [1, \"x,y\"]}'::jsonb AS doc, ARRAY[1, 2] AS arr, ARRAY['a b', NULL] AS texts,"
        " uuid '00000000-0000-0000-0000-000000000001' AS id, 0.1::float8 + 0.2 AS sum,"
        " time '23:59:59' AS clock, '\\x00ff'::bytea AS raw, true AS yes, ''::text AS empty"
    )
    await api.job("types", sql, kind="query", connection="src")
    run = await finish(api, "types")
    assert run["status"] == "succeeded", run
    _, rows = await download(api, run)
    assert rows[1] == [
        "2024-03-01 12:30:00.25+00",
        "P1DT2H3.5S",
        "12345678901234567890.000001",
        "NaN",
        '{"a": [1, "x,y"]}',
        "{1,2}",
        '{"a b",NULL}',
        "00000000-0000-0000-0000-000000000001",
        "0.30000000000000004",
        "23:59:59",
        "\\x00ff",
        "t",
        "",
    ]


# ---------------------------------------------------------------------------- parameters


async def test_args_are_bound_never_formatted(api: Api) -> None:
    await api.job(
        "find",
        "SELECT id, label FROM items WHERE label = :label OR id IN :ids"
        " OR label LIKE '%' || :needle || '%' ORDER BY id",
        kind="query",
        connection="src",
        default_args={"ids": [], "needle": "no such text"},
    )

    async def ids(args: dict[str, Any]) -> list[str]:
        run = await finish(api, "find", args)
        assert run["status"] == "succeeded", run
        _, rows = await download(api, run)
        assert rows[0] == ["id", "label"]
        assert run["records_written"] == len(rows) - 1
        return [r[0] for r in rows[1:]]

    assert await ids({"label": "plain"}) == ["1"]
    assert await ids({"label": 'comma, "quoted"', "ids": [3, 4]}) == ["2", "3", "4"]
    assert await ids({"label": None, "needle": "ünïc"}) == ["4"]
    # The text of an injection attempt is a value like any other: it matches the one row
    # holding that very text, and never every row.
    assert await ids({"label": "x' OR '1'='1"}) == ["8"]
    assert await ids({"label": "' OR 1=1 --"}) == []
    assert await ids({"label": "nothing'; DROP TABLE items; --"}) == []
    assert await ids({"label": "plain", "ids": [1, 1, 5]}) == ["1", "5"]
    # A '%' in an arg is a LIKE wildcard, as SQL has it: every label but the NULL one.
    assert await ids({"label": "", "needle": "%"}) == ["1", "2", "3", "4", "5", "7", "8"]


async def test_a_missing_or_unknown_parameter_is_refused_naming_it(api: Api) -> None:
    await api.job(
        "two", "SELECT id FROM items WHERE id > :low AND id < :high", kind="query", connection="src"
    )
    for args, name in (({"low": 1}, "high"), ({"low": 1, "high": 5, "hihg": 3}, "hihg")):
        reply = await api.post("jobs/two/runs", {"args": args})
        if reply.code == 400:  # checked at enqueue
            body = assert_error(reply, 400, "args")
            assert repr(name) in body["message"], body
        else:  # or the run fails, saying which
            assert reply.code == 201, reply
            run = await api.wait(reply.json()["id"], timeout=TIMEOUT)
            assert run["status"] == "failed", run
            assert run["error"].startswith("args: ") and repr(name) in run["error"], run
            assert run["result"] is None
    # default_args are checked against the SQL at registration.
    reply = await api.post(
        "jobs",
        {
            "name": "typo",
            "kind": "query",
            "target": "SELECT :a AS a",
            "connection": "src",
            "default_args": {"b": 1},
        },
    )
    body = assert_error(reply, 400, "default_args")
    assert "'b'" in body["message"] and ":a" in body["message"]


@pytest.mark.parametrize("source", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    "args",
    [
        pytest.param([1, 2], id="list"),
        pytest.param("a=1", id="string"),
        pytest.param({"x": {"nested": 1}}, id="object-value"),
        pytest.param({"x": [[1]]}, id="nested-list"),
        pytest.param({"x": [{"a": 1}]}, id="list-of-objects"),
        pytest.param({"no-dash": 1}, id="bad-name"),
    ],
)
async def test_bad_args_are_refused_at_enqueue(api: Api, args: Any) -> None:
    await api.job("q", "SELECT :x AS x", kind="query", connection="src")
    assert_error(await api.post("jobs/q/runs", {"args": args}), 400, "args")
    assert (await api.get("runs")).json()["total"] == 0


# ---------------------------------------------------------------------------- registration


@pytest.mark.parametrize("source", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("fields", "field"),
    [
        pytest.param({}, "connection", id="no-connection"),
        pytest.param({"connection": "nope"}, "connection", id="unknown-connection"),
        pytest.param({"connection": ""}, "connection", id="empty-connection"),
        pytest.param({"connection": "src", "target": "   "}, "target", id="blank-sql"),
        pytest.param({"connection": "src", "target": "SELECT 1\x00"}, "target", id="nul"),
        pytest.param(
            {"connection": "src", "target": "SELECT :day::date"}, "target", id="cast-after-param"
        ),
        pytest.param({"connection": "src", "options": {"chunk_size": 0}}, "options", id="chunk0"),
        pytest.param(
            {"connection": "src", "options": {"chunk_size": 10**7}}, "options", id="chunk-huge"
        ),
        pytest.param({"connection": "src", "options": {"chunk_size": "9"}}, "options", id="str"),
        pytest.param({"connection": "src", "options": {"chunk_size": True}}, "options", id="bool"),
        pytest.param({"connection": "src", "options": {"fetch": 1}}, "options", id="unknown"),
        pytest.param({"connection": "src", "default_args": [1]}, "default_args", id="args-list"),
    ],
)
async def test_registration_is_checked(api: Api, fields: dict[str, Any], field: str) -> None:
    body = {"name": "q", "kind": "query", "target": "SELECT 1 AS one", **fields}
    error = assert_error(await api.post("jobs", body), 400, field)
    assert PASSWORD not in error["message"] and "127.0.0.1" not in error["message"]
    if field == "connection":
        assert "'secret'" in error["message"] and "'src'" in error["message"]
    if "::" in body["target"]:
        assert "CAST(:day AS date)" in error["message"], error
    assert (await api.get("jobs")).json()["total"] == 0


@pytest.mark.parametrize("source", ["sqlite"], indirect=True)
async def test_changes_are_checked_too(api: Api) -> None:
    await api.job("q", "SELECT :a AS a", kind="query", connection="src")
    assert_error(await api.patch("jobs/q", {"connection": "other"}), 400, "connection")
    assert_error(await api.patch("jobs/q", {"options": {"chunk_size": -1}}), 400, "options")
    assert_error(await api.patch("jobs/q", {"default_args": {"b": 1}}), 400, "default_args")
    reply = await api.patch("jobs/q", {"target": "SELECT :b AS b", "default_args": {"b": 2}})
    assert reply.code == 200, reply
    run = await finish(api, "q")
    assert run["status"] == "succeeded", run
    assert (await download(api, run))[1] == [["b"], ["2"]]


# ---------------------------------------------------------------------------- failures


async def test_database_errors_fail_the_run_with_the_databases_message(
    api: Api, dialect: str
) -> None:
    cases = {
        "sqlite": [
            ("SELECT * FROM nope", "no such table: nope"),
            ("SELEC 1", 'near "SELEC": syntax error'),
            ("SELECT nosuch FROM items", "no such column: nosuch"),
            ("DELETE FROM items", "attempt to write a readonly database"),
            ("DROP TABLE items", "attempt to write a readonly database"),
        ],
        "postgresql": [
            ("SELECT * FROM nope", 'relation "nope" does not exist'),
            ("SELEC 1", 'syntax error at or near "SELEC"'),
            ("SELECT nosuch FROM items", 'column "nosuch" does not exist'),
            ("SELECT 1 / (qty - qty) FROM items", "division by zero"),
            ("SELECT nextval('counter')", "cannot execute nextval() in a read-only transaction"),
            ("DELETE FROM items", "COPY query must have a RETURNING clause"),
            ("DELETE FROM items RETURNING id", "cannot execute DELETE in a read-only transaction"),
        ],
    }[dialect]
    for i, (sql, message) in enumerate(cases):
        await api.job(f"bad{i}", sql, kind="query", connection="src")
        run = await finish(api, f"bad{i}")
        assert run["status"] == "failed", run
        assert run["error"].startswith(message), (sql, run["error"])
        assert "sqlalche.me" not in run["error"] and "[SQL:" not in run["error"], run["error"]
        assert run["result"] is None
        assert (await api.get(f"runs/{run['id']}/result")).code == 404
    # The statements that would write changed nothing.
    await api.job("all", "SELECT id FROM items", kind="query", connection="src")
    run = await finish(api, "all")
    assert run["records_written"] == len(ROWS), run


@pytest.mark.parametrize("source", ["sqlite"], indirect=True)
async def test_no_answer_shows_a_password(api: Api) -> None:
    reply = await api.get("connections")
    assert reply.code == 200, reply
    assert PASSWORD.encode() not in reply.body
    items = {item["name"]: item for item in reply.json()["items"]}
    assert items["secret"]["host"] == "127.0.0.1" and items["secret"]["database"] == "warehouse"
    assert items["secret"]["dialect"] == "postgresql"
    assert set(items) == {"src", "secret"}
    # A run on a database that cannot be reached fails with the driver's message, and neither
    # the job, the run nor its log shows the password.
    job = await api.job("q", "SELECT 1 AS one", kind="query", connection="secret")
    run = await finish(api, "q")
    assert run["status"] == "failed", run
    assert "127.0.0.1" in run["error"] and "port 1" in run["error"], run["error"]
    for path in ("jobs/q", f"runs/{run['id']}", f"runs/{run['id']}/logs", "runs", "jobs"):
        body = (await api.get(path)).body
        assert PASSWORD.encode() not in body, (path, body)
    assert PASSWORD not in str(job)


# ---------------------------------------------------------------------------- pause, stop


async def test_pause_between_chunks_and_resume_where_it_halted(api: Api, dialect: str) -> None:
    total = 2_000_000
    await api.job(
        "count",
        count_to(dialect),
        kind="query",
        connection="src",
        default_args={"total": total},
        options={"chunk_size": 1000},
    )
    run = await api.run("count")
    await eventually_async(lambda: rows_so_far(api, run["id"]), timeout=TIMEOUT, message="rows")
    assert (await api.post(f"runs/{run['id']}/pause")).code == 200
    paused = await api.wait(run["id"], "paused", timeout=TIMEOUT)
    assert 0 < (paused["records_written"] or 0) < total, paused
    await asyncio.sleep(0.5)  # the last report before the checkpoint has arrived
    halted = await rows_so_far(api, run["id"])
    await asyncio.sleep(1.0)
    assert await rows_so_far(api, run["id"]) == halted  # no row is fetched while paused
    assert halted < total
    assert (await api.post(f"runs/{run['id']}/resume")).code == 200
    done = await api.wait(run["id"], timeout=TIMEOUT)
    assert done["status"] == "succeeded", done
    assert done["records_written"] == total
    _, rows = await download(api, done)
    assert len(rows) == total + 1
    # Every row once, in order: the export went on from where it paused.
    assert [int(r[0]) for r in rows[1:]] == list(range(1, total + 1))


async def test_stop_ends_the_export_without_a_result(api: Api, dialect: str) -> None:
    await api.job(
        "count",
        count_to(dialect),
        kind="query",
        connection="src",
        default_args={"total": 50_000_000},
        options={"chunk_size": 1000},
    )
    for pause_first in (False, True):
        run = await api.run("count")
        await eventually_async(
            lambda run=run: rows_so_far(api, run["id"]), timeout=TIMEOUT, message="rows"
        )
        if pause_first:
            await api.post(f"runs/{run['id']}/pause")
            await api.wait(run["id"], "paused", timeout=TIMEOUT)
        began = time.monotonic()
        assert (await api.post(f"runs/{run['id']}/stop")).code == 200
        stopped = await api.wait(run["id"], timeout=TIMEOUT)
        assert stopped["status"] == "stopped", stopped
        assert time.monotonic() - began < 10
        assert stopped["result"] is None
        assert 0 < stopped["records_written"] < 50_000_000
        assert (await api.get(f"runs/{run['id']}/result")).code == 404


# ---------------------------------------------------------------------------- memory


async def test_a_large_export_runs_in_constant_memory(api: Api, dialect: str) -> None:
    await api.job(
        "big",
        count_to(dialect, wide=True),
        kind="query",
        connection="src",
        default_args={"total": BIG_ROWS},
    )
    run = await finish(api, "big")
    assert run["status"] == "succeeded", run
    assert run["records_written"] == BIG_ROWS
    assert run["result"]["size"] > BIG_ROWS * PAD
    logs = (await api.get(f"runs/{run['id']}/logs")).json()["items"]
    lines = [item["text"] for item in logs if "peak memory" in item["text"]]
    assert len(lines) == 1, logs
    match = re.search(r"exported ([\d,]+) rows \(([\d.]+) MB\).* peak memory (\d+) MB", lines[0])
    assert match, lines[0]
    assert int(match[1].replace(",", "")) == BIG_ROWS
    assert float(match[2]) > 150
    assert int(match[3]) < 200, lines[0]
    # The first and the last rows, without downloading 150 MB.
    head = await api.get(f"runs/{run['id']}/result", headers={"Range": f"bytes=0-{PAD + 20}"})
    assert head.code == 206 and head.body.startswith(f"n,pad\n1,{'1'.zfill(PAD)}\n".encode())
    tail = await api.get(f"runs/{run['id']}/result", headers={"Range": f"bytes=-{PAD + 20}"})
    assert tail.code == 206
    assert tail.body.endswith(f"\n{BIG_ROWS},{str(BIG_ROWS).zfill(PAD)}\n".encode())


# ---------------------------------------------------------------------------- SQLite's CSV, value by value


def reference_csv(names: list[str], rows: list[tuple[Any, ...]]) -> bytes:
    """The bytes of PostgreSQL's COPY CSV for ``rows`` (the header as ``csv`` writes it): NULL
    an empty field (a NULL alone on its row, an empty line), the empty string ``""``, a field
    quoted when it holds a comma, a quote, LF or CR, quotes doubled; floats as ``repr``, blobs
    as ``\\x`` and hex. The oracle of the tests below."""

    def line(row: list[Any]) -> str:
        fields = []
        for value in row:
            if value is None:
                fields.append("")
            elif isinstance(value, bytes):
                fields.append("\\x" + value.hex())
            elif not isinstance(value, str):
                fields.append(str(value) if not isinstance(value, float) else repr(value))
            elif value == "" or any(c in value for c in (",", '"', "\n", "\r")):
                fields.append('"' + value.replace('"', '""') + '"')
            else:
                fields.append(value)
        return ",".join(fields) + "\n"

    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerow(names)
    for row in rows:
        out.write(line(list(row)))
    return out.getvalue().encode()


#: Values as SQLite stores them: text CSV must quote (or not), numbers at the edges of their
#: text forms, blobs. NaN becomes NULL in SQLite; -0.0 may come back as 0.0.
TRICKY: list[Any] = [
    None,
    "",
    "plain",
    "comma, here",
    'a "quote"',
    '"',
    '""',
    "line\nbreak",
    "cr\ronly",
    "crlf\r\n",
    "\r",
    " leading and trailing ",
    "ünïcødé ✓ 日本語 🎉",
    "nul\x00inside",
    "tab\there",
    "it's",
    "None",
    "\\x00",
    "%s %r %%",
    "{0}",
    0,
    1,
    -7,
    2**63 - 1,
    -(2**63),
    10**15,
    0.1,
    1 / 3,
    2 / 3,
    1e300,
    -1e-300,
    5e-324,
    1e16,
    1e15,
    1e-5,
    0.0001,
    123456789.125,
    -0.0,
    2.0,
    float("inf"),
    float("-inf"),
    float("nan"),
    b"",
    b"\x00\xff",
    b"abc",
    b',"\n\r',
]


def _sqlite_export(path: Path, sql: str, size: int) -> tuple[bytes, int, list[dict[str, Any]]]:
    from jobext.kinds import csv_export

    class Channel:
        def __init__(self) -> None:
            self.sent: list[dict[str, Any]] = []

        def send(self, message: dict[str, Any]) -> None:
            self.sent.append(message)

    channel = Channel()
    out = path.with_name(f"export-{size}.csv")
    count = csv_export.export(f"sqlite:///{path}", sql, {}, out, size, channel)
    return out.read_bytes(), count, channel.sent


def _expected(path: Path, sql: str) -> tuple[bytes, int]:
    db = sqlite3.connect(path)
    try:
        cursor = db.execute(sql)
        names = [column[0] for column in cursor.description]
        rows = cursor.fetchall()
    finally:
        db.close()
    return reference_csv(names, rows), len(rows)


@pytest.mark.parametrize("source", ["sqlite"], indirect=True)
def test_sqlite_csv_is_byte_for_byte_what_it_was(tmp_path: Path) -> None:
    import random

    path = tmp_path / "values.db"
    generator = random.Random(20261201)
    # Columns without affinity keep each value's own type: every column mixes all of them,
    # row by row, and some columns hold one type only (as a typical table does).
    uniform = [v for v in TRICKY if isinstance(v, str)], [0.1, 1 / 3, 2.5, 1e300, -1.0]
    rows = [
        (
            i,
            *(generator.choice(TRICKY) for _ in range(5)),
            generator.choice(uniform[0]),
            generator.choice(uniform[1]),
            generator.choice([None, *uniform[0]]),
        )
        for i in range(3000)
    ]
    rows += [
        (3000 + i, value, value, "", "x\ry", None, "plain", 1.5, None)
        for i, value in enumerate(TRICKY)
    ]
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE v (id INTEGER PRIMARY KEY, a, b, c, d, e, t, f, n)")
        db.executemany("INSERT INTO v VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        db.execute("CREATE TABLE one (x)")
        db.executemany("INSERT INTO one VALUES (?)", [(v,) for v in TRICKY * 3])
    db.close()
    queries = [
        "SELECT * FROM v ORDER BY id",
        # Only the columns of one type each; then names CSV must quote, twice the same name.
        "SELECT id, t, f FROM v ORDER BY id",
        'SELECT id AS "x", a AS "x", b AS "a,b", c AS "say ""hi""", d AS "new\nline",'
        ' t AS "ü", f AS "" FROM v ORDER BY id',
        # One column: a NULL alone on its line.
        "SELECT x FROM one",
        "SELECT t FROM v WHERE t <> '' ORDER BY id",
        "SELECT 1 AS n, NULL AS absent, '' AS empty, x'00' AS blob, 0.5 AS half",
    ]
    for sql in queries:
        expected, total = _expected(path, sql)
        for size in (1, 7, 10_000):
            body, count, sent = _sqlite_export(path, sql, size)
            assert count == total, (sql, size)
            assert body == expected, (sql, size)
            assert sent[-1] == {"t": "progress", "fraction": None, "message": f"{total:,} rows"}


@pytest.mark.parametrize("source", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("total", "size"), [(6000, 2500), (2000, 1000), (999, 1), (3, 10), (0, 10)]
)
def test_a_checkpoint_follows_every_chunk_and_the_last(total: int, size: int) -> None:
    """Rows are fetched a batch at a time, but a pause or a stop still takes effect after each
    ``chunk_size`` rows, as the option says, and after the last row."""
    from jobext.kinds import csv_export

    class Chunks:
        def __init__(self) -> None:
            self.at: list[int] = []

        def done(self, count: int) -> None:
            self.at.append(count)

    db = sqlite3.connect(":memory:")
    cursor = db.execute(
        "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < ?)"
        " SELECT n FROM s WHERE n <= ?",
        (max(total, 1), total),
    )
    chunks = Chunks()
    seen = []
    fetch = csv_export._fetcher(cursor)
    for _, batch in csv_export._pieces(fetch, size, chunks, csv_export._BATCH):  # type: ignore[arg-type]
        assert len(batch) <= min(size, csv_export._BATCH)
        seen += [row[0] for row in batch]
    db.close()
    assert seen == list(range(1, total + 1))
    assert chunks.at == [*range(size, total + 1, size), *([total] if total % size else [])]


def test_the_csv_module_path_writes_what_copy_writes() -> None:
    # Rows of values sqlite3 never gives (dates, decimals) take the csv module's way: where it
    # would not write as COPY does, the row is written by _line.
    import datetime as dt
    import decimal

    from jobext.kinds.csv_export import _write_rows

    cases = [
        [(None,), ("",), ("x",)],  # a NULL alone on its row is an empty line
        [("cr\ronly", dt.date(2026, 1, 2)), ("plain", dt.date(2026, 1, 3))],
        [(decimal.Decimal("1.50"), None, "", "a,b")],
        [(dt.date(2026, 1, 2), "no specials")],
    ]
    for rows in cases:
        out = io.StringIO(newline="")
        _write_rows(csv.writer(out, lineterminator="\n"), out, rows)
        expected = reference_csv(["h"], [[_as_copy(v) for v in row] for row in rows])
        assert out.getvalue().encode() == expected.split(b"\n", 1)[1], rows


def _as_copy(value: Any) -> Any:
    import datetime as dt
    import decimal

    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    return value
