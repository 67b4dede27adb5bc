"""The job-process side of ``query`` jobs: stream a query's rows into a CSV file.

The CSV is PostgreSQL's ``COPY … TO STDOUT WITH (FORMAT csv, HEADER)`` format: UTF-8, a header
row, ``\\n`` after each record, fields quoted only when needed (a comma, a quote, a line break,
or the empty string), quotes doubled; NULL is an empty field and the empty string is ``""``.

* PostgreSQL through psycopg: the file IS ``COPY (query) TO STDOUT WITH (FORMAT csv, HEADER)``,
  byte for byte. The arguments are bound on the client: SQLAlchemy compiles the ``:name``
  parameters (expanding lists) into psycopg placeholders, and psycopg's ``ClientCursor.mogrify``
  renders each value as a quoted literal with the connection's own escaping rules; COPY takes
  no server-side parameters. The session uses ``DateStyle ISO`` and ``IntervalStyle
  iso_8601``, so intervals are ISO 8601 durations (``P1DT2H3.5S``); booleans are ``t``/``f``.
* SQLite through sqlite3, when jobext's C module ``_sqlite_csv`` was built (``hatch_build.py``):
  the module runs the query on a read-only connection of its own and writes each row's CSV
  record straight from SQLite's values, no Python object per value (:func:`_sqlite_in_c`).
* Any other database, and SQLite without the module: rows are fetched in chunks through the
  driver's cursor; values arrive as the driver gives them (see ``_cell``). SQLite's rows are
  written a column at a time (``_records``), other drivers' by ``csv`` in C.

The C module and ``_records`` write the same bytes (``tests/kinds/test_sqlite_csv.py``).

Either way a pause or a stop takes effect between chunks, and progress is reported every
``REPORT_EVERY_S`` seconds.
"""

from __future__ import annotations

import time

TYPE_CHECKING = False  # not `from typing import`: job processes must not pay for typing
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from pathlib import Path
    from typing import Any, TypeVar

    T = TypeVar("T")

#: Seconds between two progress reports of a running export.
REPORT_EVERY_S = 0.25
_WRITE_BYTES = 1 << 20
#: Rows fetched and written at a time within a chunk (of ``chunk_size`` rows): by Python, and
#: by the C module (about a megabyte of CSV).
_BATCH = 1000
_C_BATCH = 10_000


class NoRows(Exception):
    def __str__(self) -> str:
        return (
            "the SQL returned no rows to export: query jobs run a query "
            "(SELECT, WITH, VALUES), in a read-only transaction"
        )


def export(url: str, sql: str, params: dict[str, Any], out: Path, size: int, channel: Any) -> int:
    """Stream the rows of ``sql`` into the CSV file ``out``; return how many there were."""
    from sqlalchemy import bindparam, create_engine, text
    from sqlalchemy.pool import NullPool

    statement = text(sql).bindparams(
        *(
            bindparam(name, value, expanding=isinstance(value, list))
            for name, value in params.items()
        )
    )
    engine = create_engine(url, poolclass=NullPool)
    try:
        reader = _sqlite_reader(engine, statement)
        if reader is not None:
            count = _sqlite_in_c(reader, out, size, channel)
            _report(channel, count)
            return count
        with engine.connect() as conn:
            compiled = statement.compile(
                dialect=conn.dialect, compile_kwargs={"render_postcompile": True}
            )
            if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
                count = _copy_postgres(conn, compiled, out, size, channel)
            else:
                count = _fetch(conn, compiled, out, size, channel)
            conn.rollback()
    finally:
        engine.dispose()
    _report(channel, count)
    return count


class _Chunks:
    """Between two chunks of an export: progress every :data:`REPORT_EVERY_S` seconds, and the
    checkpoint where a pause or a stop takes effect."""

    def __init__(self, channel: Any):
        self.channel = channel
        self.reported = time.monotonic()
        _report(channel, 0)

    def done(self, count: int) -> None:
        from jobext.job import api as context

        if time.monotonic() - self.reported >= REPORT_EVERY_S:
            self.reported = time.monotonic()
            _report(self.channel, count)
        context.checkpoint()


def _report(channel: Any, count: int) -> None:
    # The total is unknown until the last chunk (counting first would run the query twice):
    # the fraction stays unknown and the message says how far the export is.
    channel.send({"t": "records", "count": count})
    channel.send({"t": "progress", "fraction": None, "message": f"{count:,} rows"})


_PG_SETTINGS = (
    "SELECT set_config('transaction_read_only', 'on', true),"
    " set_config('DateStyle', 'ISO', true),"
    " set_config('IntervalStyle', 'iso_8601', true),"
    " set_config('bytea_output', 'hex', true)"
)


def _copy_postgres(conn: Any, compiled: Any, out: Path, size: int, channel: Any) -> int:
    import contextlib
    import itertools

    from psycopg import ClientCursor

    conn.exec_driver_sql(_PG_SETTINGS)
    raw = conn.connection.driver_connection
    # The same transaction as the settings above: SQLAlchemy began it on this connection.
    query = ClientCursor(raw).mogrify(str(compiled), compiled.params)
    query = query.strip().rstrip(";").rstrip()
    count = 0
    chunks = _Chunks(channel)
    with out.open("wb", buffering=_WRITE_BYTES) as handle, raw.cursor() as cursor:
        try:
            with cursor.copy(f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER)") as copy:
                # COPY sends one message per record, the header first; each is copied out of
                # the driver's buffer (valid until the next read) and written a chunk at a time,
                # so that no Python code of ours runs per record.
                records = iter(copy)
                header = next(records, None)
                if header is not None:
                    handle.write(bytes(header))
                while chunk := list(map(bytes, itertools.islice(records, size))):
                    handle.writelines(chunk)
                    count += len(chunk)
                    chunks.done(count)
        except BaseException:
            # A stop (or an error) mid-stream: don't read the rest of the result first.
            with contextlib.suppress(Exception):
                raw.cancel_safe(timeout=5.0)
            raise
    return count


#: Parameter types the C module binds as sqlite3 does (bool as an integer).
_BINDABLE = frozenset({int, bool, float, str, bytes, type(None)})


def _sqlite_reader(engine: Any, statement: Any) -> Any | None:
    """The C module's reader of ``statement``, for SQLite through sqlite3; None where the
    export takes the Python way: the module was not built, another driver, converters asked
    for in the URL (``detect_types``), or a parameter of a type sqlite3 adapts in Python."""
    if engine.dialect.name != "sqlite" or engine.dialect.driver != "pysqlite" or not USE_C:
        return None
    try:
        from jobext.kinds import _sqlite_csv  # type: ignore[attr-defined]
    except ImportError as exc:
        _log().warning(
            "writing the CSV in Python: jobext's C module for SQLite exports was not built "
            "(a C compiler and sqlite3.h are needed when jobext is installed): %s",
            exc,
        )
        return None
    compiled = statement.compile(
        dialect=engine.dialect, compile_kwargs={"render_postcompile": True}
    )
    params = [compiled.params[name] for name in compiled.positiontup or ()]
    args, options = engine.dialect.create_connect_args(engine.url)
    if len(args) != 1 or options.get("detect_types") or not _BINDABLE.issuperset(map(type, params)):
        _log().info(
            "writing the CSV in Python: the URL asks for converters (detect_types), "
            "or an argument is not a number, text, bytes or null"
        )
        return None
    return _sqlite_csv.Reader(
        str(args[0]),
        str(compiled),
        params,
        uri=bool(options.get("uri")),
        timeout=float(options.get("timeout", 5.0)),
    )


def _log() -> Any:
    import logging

    return logging.getLogger("jobext.query")


#: False makes every SQLite export take the Python way (the tests compare the two).
USE_C = True


def _sqlite_in_c(reader: Any, out: Path, size: int, channel: Any) -> int:
    """Write the CSV records ``reader`` (the C module's) gives, :data:`_C_BATCH` rows at a
    time; return how many rows there were."""
    import csv
    import io

    try:
        columns = reader.columns
        if not columns:
            reader.read(1)  # a statement that would write fails so, as in sqlite3's execute()
            raise NoRows
        count = 0
        with out.open("wb", buffering=0) as handle:
            header = io.StringIO()
            csv.writer(header, lineterminator="\n").writerow(columns)
            handle.write(header.getvalue().encode())
            for rows, text in _pieces(reader.read, size, _Chunks(channel), _C_BATCH):
                handle.write(text)
                count += rows
        return count
    finally:
        reader.close()


def _fetch(conn: Any, compiled: Any, out: Path, size: int, channel: Any) -> int:
    import csv
    import gc

    # Read-only where the database can say so; elsewhere the transaction is rolled back.
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA query_only = ON")
    elif conn.dialect.name == "postgresql":
        conn.exec_driver_sql(_PG_SETTINGS)
    cursor = conn.connection.driver_connection.cursor()
    if compiled.positiontup is not None:
        cursor.execute(str(compiled), [compiled.params[name] for name in compiled.positiontup])
    else:
        cursor.execute(str(compiled), compiled.params)
    if cursor.description is None:
        raise NoRows
    # sqlite3 gives ints, floats, str, bytes and None, of these exact types: _records writes
    # them; other drivers' values (decimals, dates, ...) take the csv module's way.
    sqlite = conn.dialect.name == "sqlite"
    width = len(cursor.description)
    record = ",".join(["%s"] * width) + "\n"
    count = 0
    # Each batch is a thousand fresh tuples of numbers and strings, which hold no cycles: the
    # collector, run every 700 of them, would only walk them again (4% of the time).
    collecting = gc.isenabled()
    gc.disable()
    try:
        with out.open("w", encoding="utf-8", newline="", buffering=_WRITE_BYTES) as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow([column[0] for column in cursor.description])
            for _, rows in _pieces(_fetcher(cursor), size, _Chunks(channel), _BATCH):
                text = _records(rows, width, record) if sqlite else None
                if text is None:
                    _write_rows(writer, handle, rows)
                else:
                    handle.write(text)
                count += len(rows)
    finally:
        if collecting:
            gc.enable()
    cursor.close()
    return count


def _fetcher(cursor: Any) -> Callable[[int], tuple[int, Sequence[Any]]]:
    def fetch(wanted: int) -> tuple[int, Sequence[Any]]:
        rows = cursor.fetchmany(wanted)
        return len(rows), rows

    return fetch


def _pieces(
    read: Callable[[int], tuple[int, T]], size: int, chunks: _Chunks, batch: int
) -> Iterator[tuple[int, T]]:
    """What ``read(n)`` gives (how many rows, and those rows in some form) for at most ``batch``
    rows at a time, until it gives fewer than asked; :meth:`_Chunks.done` after each chunk of
    ``size`` rows (and the last), once the caller has written it and asks for more. Rows written
    soon after they were read are still in the CPU's cache: a tenth faster than by 10,000."""
    count = started = 0  # rows so far; the first row of the current chunk
    while True:
        wanted = min(batch, started + size - count)
        got, rows = read(wanted)
        if not got:
            if count > started:  # the last chunk ended with a full batch
                chunks.done(count)
            return
        yield got, rows
        count += got
        if count == started + size or got < wanted:
            started = count
            chunks.done(count)


_NUMBERS = frozenset({int, float})
#: What sqlite3 gives (without converters): the types :func:`_records` writes itself.
_SIMPLE = frozenset({int, float, str, bytes, type(None)})


def _records(rows: Sequence[Any], width: int, record: str) -> str | None:
    """The CSV records of ``rows`` as COPY writes them, built a column at a time: a column of
    numbers, or of text that needs no quotes, costs a scan in C, and only a column with other
    values is converted value by value; then ``record`` (``%s`` per field) writes each row,
    floats as their ``repr``. None when the rows hold a value of another type than sqlite3's."""
    columns: list[Any] = list(zip(*rows, strict=True))
    converted = False
    for j, column in enumerate(columns):
        try:
            text = "".join(column)
        except TypeError:  # not text alone
            kinds = set(map(type, column))
            if kinds <= _NUMBERS:
                continue
            if not kinds <= _SIMPLE:
                return None
            columns[j] = [_field(v) for v in column]
            converted = True
        else:
            if "," in text or '"' in text or "\n" in text or "\r" in text or "" in column:
                columns[j] = list(map(_quoted, column))
                converted = True
    return "".join(map(record.__mod__, zip(*columns, strict=True) if converted else rows))


def _quoted(text: str) -> str:
    """A text field as COPY writes it: quoted when empty or holding a comma, a quote or a line
    break (LF or CR), quotes doubled."""
    if text == "" or "," in text or '"' in text or "\n" in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def _field(value: Any) -> Any:
    """A value of a column of mixed types: ``record`` writes the result with ``%s``; NULL is an
    empty field."""
    if value is None:
        return ""
    if type(value) is str:
        return _quoted(value)
    if type(value) is bytes:
        return "\\x" + value.hex()
    return value


def _write_rows(writer: Any, handle: Any, rows: Sequence[Any]) -> None:
    """A chunk that :func:`_records` does not write: by ``csv``, except the rows that ``csv``
    would write otherwise than COPY, written by :func:`_line`: those holding an empty string
    (``csv`` writes it like NULL), a CR (``csv`` leaves it unquoted), or a NULL alone on its row
    (``csv`` writes ``""``; COPY an empty line)."""
    import itertools

    if not _PLAIN.issuperset(map(type, itertools.chain.from_iterable(rows))):
        # Values csv would not write as COPY does (bytes, dates, decimals, ...).
        rows = [[v if type(v) in _PLAIN else _cell(v) for v in r] for r in rows]
    if not any(map(_unlike_csv, rows)):
        writer.writerows(rows)
        return
    for row in rows:
        if _unlike_csv(row):
            handle.write(_line(row))
        else:
            writer.writerow(row)


def _unlike_csv(row: Sequence[Any]) -> bool:
    if len(row) == 1 and row[0] is None:
        return True
    return any(type(v) is str and (v == "" or "\r" in v) for v in row)


_PLAIN = frozenset({str, int, float, type(None)})


def _line(row: Sequence[Any]) -> str:
    """One record as COPY writes it (for the rows ``csv`` would write otherwise)."""
    return ",".join([str(_field(value)) for value in row]) + "\n"


def _cell(value: Any) -> Any:
    """The CSV text of a value the driver gave as a Python object: as PostgreSQL prints it."""
    import datetime as dt
    import decimal
    import json

    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "\\x" + bytes(value).hex()
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return _iso_duration(value)
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _iso_duration(value: Any) -> str:
    """``P1DT2H3M4.5S`` for a ``timedelta`` (PostgreSQL's ``iso_8601`` interval style)."""
    sign = "-" if value.days < 0 else ""
    value = abs(value)
    hours, rest = divmod(value.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    text = f"{sign}P{value.days}D" if value.days else f"{sign}P"
    clock = ""
    if hours:
        clock += f"{hours}H"
    if minutes:
        clock += f"{minutes}M"
    if seconds or value.microseconds or not (value.days or clock):
        fraction = f".{value.microseconds:06d}".rstrip("0") if value.microseconds else ""
        clock += f"{seconds}{fraction}S"
    return text + ("T" + clock if clock else "")
